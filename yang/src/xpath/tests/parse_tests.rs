//! Parser, lexer and printing tests.

use super::parse_err;
use crate::xpath::{parse, referenced_prefixes, Axis, BinaryOp, ErrorKind, Expr, NodeTest};

/// Parse and print.
fn norm(expr: &str) -> String {
    match parse(expr) {
        Ok(e) => e.to_string(),
        Err(err) => panic!("{expr:?}: {err}"),
    }
}

/// Printing is normalized: printing the re-parsed output gives it back.
fn assert_stable(expr: &str) {
    let once = norm(expr);
    let twice = norm(&once);
    assert_eq!(once, twice, "{expr:?} not stable");
}

#[test]
fn display_normalizes() {
    let cases = [
        ("child::a/descendant-or-self::node()/child::b", "a//b"),
        ("/descendant-or-self::node()/child::a", "//a"),
        ("/descendant-or-self::node()", "/descendant-or-self::node()"),
        ("/", "/"),
        ("self::node()", "."),
        ("parent::node()", ".."),
        ("self::node()[1]", "self::node()[1]"),
        ("attribute::x", "@x"),
        ("@ *", "@*"),
        ("./descendant-or-self::node()/a", ".//a"),
        (
            "descendant-or-self::node()/a",
            "descendant-or-self::node()/a",
        ),
        (
            "a//descendant-or-self::node()/b",
            "a//descendant-or-self::node()/b",
        ),
        ("a  [ 1 ]  [position()=last()]", "a[1][position() = last()]"),
        ("(1+2)*3", "(1 + 2) * 3"),
        ("1+(2*3)", "1 + 2 * 3"),
        ("1-(2-3)", "1 - (2 - 3)"),
        ("(1-2)-3", "1 - 2 - 3"),
        ("-(1+2)", "-(1 + 2)"),
        ("- - 1", "--1"),
        ("1 - -1", "1 - -1"),
        ("-a|b", "-a | b"),
        ("(a or b) and c", "(a or b) and c"),
        ("a or (b and c)", "a or b and c"),
        ("(a)[1]", "(a)[1]"),
        ("(a)", "a"),
        ("((((a))))/b", "(a)/b"),
        ("(//a)/b", "(//a)/b"),
        ("a|(b|c)", "a | (b | c)"),
        ("1.50", "1.5"),
        (".5", "0.5"),
        ("007", "7"),
        ("'say \"hi\"'", "'say \"hi\"'"),
        ("\"it's\"", "\"it's\""),
        ("count( a )", "count(a)"),
        ("concat('a','b' ,'c')", "concat(\"a\", \"b\", \"c\")"),
        ("child :: p:a [ p:b ]", "p:a[p:b]"),
        ("p:*", "p:*"),
        ("text ( )", "text()"),
        (
            "processing-instruction( 'x' )",
            "processing-instruction(\"x\")",
        ),
        ("$ns:var", "$ns:var"),
        ("following-sibling::a", "following-sibling::a"),
        ("current()/../p:x", "current()/../p:x"),
        ("deref(.)//a", "deref(.)//a"),
    ];
    for (input, want) in cases {
        assert_eq!(norm(input), want, "input {input:?}");
        assert_stable(input);
    }
}

#[test]
fn ast_shapes() {
    // Flat chains of one precedence level.
    let e = parse("1 + 2 - 3").unwrap();
    match e {
        Expr::Binary { rest, .. } => {
            assert_eq!(
                rest.iter().map(|(op, _)| *op).collect::<Vec<_>>(),
                vec![BinaryOp::Add, BinaryOp::Sub]
            );
        }
        other => panic!("{other:?}"),
    }
    // `//` expands to a descendant-or-self::node() step.
    let e = parse("//p:a").unwrap();
    match e {
        Expr::Path { absolute, steps } => {
            assert!(absolute);
            assert_eq!(steps.len(), 2);
            assert_eq!(steps[0].axis, Axis::DescendantOrSelf);
            assert_eq!(steps[0].test, NodeTest::Node);
            assert_eq!(
                steps[1].test,
                NodeTest::Name {
                    prefix: Some("p".into()),
                    local: "a".into(),
                    pos: 2
                }
            );
        }
        other => panic!("{other:?}"),
    }
    // Every axis name is recognized.
    for name in [
        "ancestor",
        "ancestor-or-self",
        "attribute",
        "child",
        "descendant",
        "descendant-or-self",
        "following",
        "following-sibling",
        "namespace",
        "parent",
        "preceding",
        "preceding-sibling",
        "self",
    ] {
        let e = parse(&format!("{name}::x")).unwrap();
        let Expr::Path { steps, .. } = e else {
            panic!()
        };
        assert_eq!(steps[0].axis.name(), name);
    }
}

#[test]
fn operator_precedence_shape() {
    assert_eq!(
        norm("a or b and c = d < e + f * -g | h"),
        "a or b and c = d < e + f * -g | h"
    );
    let e = parse("a or b and c").unwrap();
    let Expr::Binary { rest, .. } = &e else {
        panic!()
    };
    assert_eq!(rest[0].0, BinaryOp::Or);
    assert!(matches!(rest[0].1, Expr::Binary { .. }));
    // `-a | b` is -(a | b)
    let e = parse("-a | b").unwrap();
    let Expr::Negate(inner) = e else { panic!() };
    assert!(matches!(*inner, Expr::Union { .. }));
}

#[test]
fn lexer_disambiguation() {
    let cases = [
        ("div div div", "div div div"),
        ("* * *", "* * *"),
        ("*/*", "*/*"),
        ("mod mod mod", "mod mod mod"),
        ("and and and", "and and and"),
        ("or or or", "or or or"),
        ("div*div", "div * div"),
        ("a*b", "a * b"),
        ("@*", "@*"),
        ("2*div", "2 * div"),
        ("(a)*b", "a * b"),
        ("a[*]", "a[*]"),
        ("a[1]*2", "a[1] * 2"),
        ("'x'*2", "\"x\" * 2"),
        ("..*2", ".. * 2"),
        (".*2", ". * 2"),
        ("a-b", "a-b"),
        ("a -b", "a - b"),
        ("a - b", "a - b"),
        ("a-1", "a-1"),
        ("a - 1", "a - 1"),
        ("node", "node"),
        ("node()", "node()"),
        ("text()", "text()"),
        ("count (a)", "count(a)"),
        ("child::child", "child"),
        ("child", "child"),
        ("div/div", "div/div"),
        ("self::div div div", "self::div div div"),
        ("p:div", "p:div"),
        ("div:p", "div:p"),
        ("a|b", "a | b"),
        ("$a*$b", "$a * $b"),
        ("* div *", "* div *"),
    ];
    for (input, want) in cases {
        assert_eq!(norm(input), want, "input {input:?}");
        assert_stable(input);
    }
    // `div div div` is child::div div child::div
    let Expr::Binary { first, rest } = parse("div div div").unwrap() else {
        panic!()
    };
    assert!(matches!(*first, Expr::Path { .. }));
    assert_eq!(rest[0].0, BinaryOp::Div);
}

#[test]
fn syntax_errors_have_positions() {
    use ErrorKind::*;
    parse_err("", Syntax, 0);
    parse_err("   ", Syntax, 3);
    parse_err("a[1", Syntax, 3);
    parse_err("a[1]]", Syntax, 4);
    parse_err("(1 + 2", Syntax, 6);
    parse_err("1 + 2)", Syntax, 5);
    parse_err("1 +", Syntax, 3);
    parse_err("a and", Syntax, 5);
    parse_err("a or or b", Syntax, 8);
    parse_err("a or", Syntax, 4);
    parse_err("a =", Syntax, 3);
    parse_err("/a/", Syntax, 3);
    parse_err("//", Syntax, 2);
    parse_err("a//", Syntax, 3);
    parse_err("a[]", Syntax, 2);
    parse_err("a b", Syntax, 2);
    parse_err("a foo b", Syntax, 2);
    parse_err("1 2", Syntax, 2);
    parse_err("'abc", Syntax, 0);
    parse_err("a = \"abc", Syntax, 4);
    parse_err("1 ! 2", Syntax, 2);
    parse_err("a:", Syntax, 1);
    parse_err(":a", Syntax, 0);
    parse_err("a:b:c", Syntax, 3);
    parse_err("a: b", Syntax, 1);
    parse_err("bogus::a", Syntax, 0);
    parse_err("child::", Syntax, 7);
    parse_err("child:: 1", Syntax, 8);
    parse_err("@", Syntax, 1);
    parse_err(".[1]", Syntax, 1);
    parse_err("..[1]", Syntax, 2);
    parse_err("a/ * 2", Syntax, 5);
    parse_err("count(a,)", Syntax, 8);
    parse_err("count(a", Syntax, 7);
    parse_err("count(a b)", Syntax, 8);
    parse_err("$", Syntax, 0);
    parse_err("$1", Syntax, 0);
    parse_err("a # b", Syntax, 2);
    parse_err("a ∧ b", Syntax, 2);
    parse_err("é é", Syntax, 3);
    parse_err("node(1)", Syntax, 5);
    parse_err("processing-instruction(1)", Syntax, 23);
    parse_err("[1]", Syntax, 0);
    parse_err(",", Syntax, 0);
    parse_err("a[1]]b", Syntax, 4);
    parse_err("1.2.3", Syntax, 3);
}

#[test]
fn function_errors_have_positions() {
    use ErrorKind::*;
    parse_err("foo()", UnknownFunction, 0);
    parse_err("a[bar(1)]", UnknownFunction, 2);
    parse_err("p:count(a)", UnknownFunction, 0);
    parse_err("count()", WrongArity, 0);
    parse_err("1 + count(a, b)", WrongArity, 4);
    parse_err("concat('a')", WrongArity, 0);
    parse_err("substring('a')", WrongArity, 0);
    parse_err("substring('a', 1, 2, 3)", WrongArity, 0);
    parse_err("true(1)", WrongArity, 0);
    parse_err("current(.)", WrongArity, 0);
    parse_err("count(1)", NodeSetRequired, 6);
    parse_err("sum('a')", NodeSetRequired, 4);
    parse_err("deref(string(.))", NodeSetRequired, 6);
    parse_err("derived-from('x', 'y')", NodeSetRequired, 13);
    parse_err("enum-value(1 + 1)", NodeSetRequired, 11);
    parse_err("bit-is-set(true(), 'b')", NodeSetRequired, 11);
    parse_err("local-name(1)", NodeSetRequired, 11);
    parse_err("a | 1", NodeSetRequired, 4);
    parse_err("'a' | b", NodeSetRequired, 0);
    parse_err("'a'[1]", NodeSetRequired, 0);
    parse_err("count(a)[1]", NodeSetRequired, 0);
    parse_err("string(.)/a", NodeSetRequired, 0);
    parse_err("(1 + 2)//a", NodeSetRequired, 0);
    // Variables have no static type; they are allowed until evaluated.
    assert!(parse("count($v)").is_ok());
    assert!(parse("$v | a").is_ok());
}

#[test]
fn every_function_parses_with_its_arity() {
    let ok = [
        "last()",
        "position()",
        "count(a)",
        "id('x')",
        "local-name()",
        "local-name(a)",
        "namespace-uri()",
        "name(a)",
        "string()",
        "string(1)",
        "concat('a', 'b', 'c', 'd')",
        "starts-with('a', 'b')",
        "contains('a', 'b')",
        "substring-before('a', 'b')",
        "substring-after('a', 'b')",
        "substring('a', 1)",
        "substring('a', 1, 2)",
        "string-length()",
        "normalize-space()",
        "translate('a', 'b', 'c')",
        "boolean(1)",
        "not(1)",
        "true()",
        "false()",
        "lang('en')",
        "number()",
        "sum(a)",
        "floor(1)",
        "ceiling(1)",
        "round(1)",
        "current()",
        "deref(.)",
        "derived-from(a, 'p:x')",
        "derived-from-or-self(a, 'x')",
        "re-match('a', 'b')",
        "enum-value(a)",
        "bit-is-set(a, 'b')",
    ];
    for e in ok {
        assert_stable(e);
    }
}

#[test]
fn referenced_prefixes_in_order() {
    let e = parse(
        "/if:interfaces/if:interface[x:name = current()/../t:*]/if:mtu | foo:* | a[count(p:a)] | $v:w",
    )
    .unwrap();
    assert_eq!(referenced_prefixes(&e), vec!["if", "x", "t", "foo", "p"]);
    let e = parse("a[b = 'x:y'] and derived-from(c, 'q:id')").unwrap();
    assert!(referenced_prefixes(&e).is_empty());
    let e = parse("-(a:b)[c:d] + (e:f)/g:h").unwrap();
    assert_eq!(referenced_prefixes(&e), vec!["a", "c", "e", "g"]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [1000, 100_000] {
        let s = "(".repeat(depth) + "1" + &")".repeat(depth);
        assert_eq!(parse(&s).unwrap_err().kind, ErrorKind::TooDeep);
        let s = "-".repeat(depth) + "1";
        assert_eq!(parse(&s).unwrap_err().kind, ErrorKind::TooDeep);
        let s = "a[".repeat(depth) + "1" + &"]".repeat(depth);
        assert_eq!(parse(&s).unwrap_err().kind, ErrorKind::TooDeep);
        let s = "not(".repeat(depth) + "1" + &")".repeat(depth);
        assert_eq!(parse(&s).unwrap_err().kind, ErrorKind::TooDeep);
    }
    // Moderate nesting is fine.
    let s = "(".repeat(30) + "1" + &")".repeat(30);
    assert_eq!(norm(&s), "1");
    // Long flat chains do not nest.
    let s = vec!["1"; 20_000].join(" + ");
    assert!(parse(&s).is_ok());
    let s = vec!["a"; 20_000].join("/");
    assert!(parse(&s).is_ok());
    let s = vec!["a"; 20_000].join(" | ");
    assert!(parse(&s).is_ok());
}

/// Truncations and byte-level mutations of valid expressions must give an
/// `Ok` or an `Err` with a position inside the input, never a panic.
#[test]
fn never_panics_on_mangled_input() {
    let seeds = [
        "/if:interfaces/if:interface[if:name = current()/../ifname]/if:mtu",
        "count(preceding-sibling::*[. = 'x' or @y != 2]) > -1.5 div 2 mod 3",
        "substring(\"héllo wörld\", 2, 3) = 'él' and (a | b)[last()]//c",
        "derived-from-or-self(../type, 'ianaift:ethernetCsmacd') and $v",
        "processing-instruction('a')/text()/node()/comment()/p:*/*",
    ];
    let specials = [
        "", "(", ")", "[", "]", "'", "\"", ":", "::", "/", "//", "*", "-", "$", "@", ".", "..",
        "é", "!", "=", "<", ",", "0", "div", " ",
    ];
    for seed in seeds {
        for cut in 0..=seed.len() {
            if !seed.is_char_boundary(cut) {
                continue;
            }
            for sp in specials {
                for input in [
                    format!("{}{sp}", &seed[..cut]),
                    format!("{}{sp}{}", &seed[..cut], &seed[cut..]),
                    format!("{sp}{}", &seed[cut..]),
                ] {
                    if let Err(e) = parse(&input) {
                        assert!(e.position <= input.len(), "{input:?}: {e}");
                        assert!(!e.message.is_empty());
                    } else {
                        assert_stable(&input);
                    }
                }
            }
        }
    }
}

#[test]
fn hand_built_trees_print_as_valid_xpath() {
    let cases = [
        (
            Expr::Literal("a\"b'c".into()),
            "concat(\"a\", '\"', \"b'c\")",
        ),
        (Expr::Number(f64::NAN), "(0 div 0)"),
        (Expr::Number(f64::INFINITY), "(1 div 0)"),
        (Expr::Number(f64::NEG_INFINITY), "(-1 div 0)"),
        (Expr::Number(-2.5), "(-2.5)"),
        (Expr::Number(1e22), "10000000000000000000000"),
        (
            Expr::Binary {
                first: Box::new(Expr::Number(1.0)),
                rest: vec![],
            },
            "1",
        ),
        (
            Expr::Path {
                absolute: false,
                steps: vec![],
            },
            ".",
        ),
    ];
    for (e, want) in cases {
        assert_eq!(e.to_string(), want);
        assert!(parse(want).is_ok(), "{want}");
    }
}
