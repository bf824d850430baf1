//! Evaluation tests: axes, paths, predicates, operators, comparisons, YANG
//! specifics, errors and performance.

use std::time::Instant;

use super::testdoc::{prefixes, TestDoc, DEFAULT_NS};
use super::{Fixture, AXES, IFACES};
use crate::xpath::{
    evaluate, evaluate_bool, parse, string_value, BinaryOp, Context, ErrorKind, Expr, Value,
};

#[test]
fn axes_from_context_nodes() {
    let f = Fixture::new(AXES);
    let cases = [
        // (expression, context node, expected)
        ("child::*", "b2", "c3 d1"),
        ("*", "a", "b1 b2 b3"),
        ("child::node()", "", "a e"),
        ("descendant::*", "a", "b1 c1 c2 b2 c3 d1 b3"),
        ("descendant::c", "", "c1 c2 c3"),
        ("descendant-or-self::*", "b1", "b1 c1 c2"),
        (
            "descendant-or-self::node()",
            "",
            "root a b1 c1 c2 b2 c3 d1 b3 e",
        ),
        ("parent::*", "c3", "b2"),
        ("parent::node()", "a", "root"),
        ("parent::*", "a", ""),
        ("parent::node()", "", ""),
        ("..", "c3", "b2"),
        ("ancestor::*", "c3", "a b2"),
        ("ancestor::node()", "c3", "root a b2"),
        ("ancestor-or-self::*", "c3", "a b2 c3"),
        ("ancestor::b", "c3", "b2"),
        ("ancestor::node()", "", ""),
        ("following-sibling::*", "b1", "b2 b3"),
        ("following-sibling::*", "b3", ""),
        ("following-sibling::node()", "", ""),
        ("preceding-sibling::*", "b3", "b1 b2"),
        ("preceding-sibling::*", "b1", ""),
        ("following::*", "c2", "b2 c3 d1 b3 e"),
        ("following::*", "b2", "b3 e"),
        ("following::node()", "", ""),
        ("preceding::*", "c3", "b1 c1 c2"),
        ("preceding::*", "e", "a b1 c1 c2 b2 c3 d1 b3"),
        ("preceding::node()", "a", ""),
        ("self::b", "b1", "b1"),
        ("self::c", "b1", ""),
        ("self::node()", "", "root"),
        ("self::*", "", ""),
        (".", "d1", "d1"),
        ("attribute::*", "a", ""),
        ("@*", "a", ""),
        ("@b", "a", ""),
        ("namespace::*", "a", ""),
        ("text()", "c1", ""),
        ("comment()", "a", ""),
        ("processing-instruction()", "a", ""),
        ("processing-instruction('x')", "a", ""),
        ("t:*", "a", "b1 b2 b3"),
        ("x:*", "a", ""),
        ("t:b", "a", "b1 b2 b3"),
    ];
    for (expr, ctx, want) in cases {
        assert_eq!(f.show_at(expr, ctx, ""), want, "{expr} from {ctx:?}");
    }
}

#[test]
fn positions_follow_axis_direction() {
    let f = Fixture::new(AXES);
    let cases = [
        ("ancestor::*[1]", "c3", "b2"),
        ("ancestor::*[2]", "c3", "a"),
        ("ancestor::node()[last()]", "c3", "root"),
        ("ancestor-or-self::*[1]", "c3", "c3"),
        ("preceding-sibling::*[1]", "b3", "b2"),
        ("preceding-sibling::*[last()]", "b3", "b1"),
        ("following-sibling::*[1]", "b1", "b2"),
        ("following-sibling::*[last()]", "b1", "b3"),
        ("preceding::*[1]", "c3", "c2"),
        ("(preceding::*)[1]", "c3", "b1"),
        ("following::*[2]", "c2", "c3"),
        ("descendant::*[position() > 5]", "a", "d1 b3"),
        ("ancestor::*[position() = last()]", "d1", "a"),
    ];
    for (expr, ctx, want) in cases {
        assert_eq!(f.show_at(expr, ctx, ""), want, "{expr} from {ctx:?}");
    }
}

#[test]
fn paths_predicates_filters_unions() {
    let f = Fixture::new(AXES);
    let cases = [
        ("/", "root"),
        ("/a", "a"),
        ("/a/b", "b1 b2 b3"),
        ("/a/b/c", "c1 c2 c3"),
        ("//c", "c1 c2 c3"),
        ("//*", "a b1 c1 c2 b2 c3 d1 b3 e"),
        ("/a//c", "c1 c2 c3"),
        ("//c/..", "b1 b2"),
        ("//c/../..", "a"),
        ("//c[1]", "c1 c3"),
        ("(//c)[1]", "c1"),
        ("(//c)[2]", "c2"),
        ("(//c)[last()]", "c3"),
        ("(//c)[4]", ""),
        ("(//c)[1.5]", ""),
        ("(//c)[0]", ""),
        ("//c[last()]", "c2 c3"),
        ("/a/b[2]", "b2"),
        ("/a/b[c]", "b1 b2"),
        ("/a/b[d]", "b2"),
        ("/a/b[not(*)]", "b3"),
        ("/a/b[position() > 1][1]", "b2"),
        ("/a/b[position() > 1][last()]", "b3"),
        ("/a/b[c = 2]", "b1"),
        ("/a/b[c = '3']/d", "d1"),
        ("/a/b[. = 'x']", "b3"),
        ("/a/b['']", ""),
        ("/a/b['x']", "b1 b2 b3"),
        ("/a/b[true()][2]", "b2"),
        ("(/a/b)[2]/c", "c3"),
        ("(/a/b/c | /e)[last()]", "e"),
        ("/e | /a", "a e"),
        ("/e | /a | /e | //c", "a c1 c2 c3 e"),
        ("//d | //c", "c1 c2 c3 d1"),
        ("//b[c][last()]/c[1]", "c3"),
        ("//c[. > 1]/following-sibling::*", "d1"),
        ("//*[self::c or self::d][. >= 3]", "c3 d1"),
        ("//c/ancestor::*", "a b1 b2"),
        ("//c/following-sibling::node()", "c2 d1"),
        ("//c/preceding::*", "b1 c1 c2"),
        ("//c/following::*", "c2 b2 c3 d1 b3 e"),
        ("//b/..", "a"),
        ("/a/b/c/../c", "c1 c2 c3"),
        ("/nothing/a", ""),
        ("/a/b/c/d", ""),
    ];
    for (expr, want) in cases {
        assert_eq!(f.show(expr), want, "{expr}");
    }
}

#[test]
fn string_values() {
    let f = Fixture::new(AXES);
    assert_eq!(string_value(&f.doc, 0), "1234x5");
    assert_eq!(f.show("string(/a)"), "'1234x'");
    assert_eq!(f.show("string(/a/b[2])"), "'34'");
    assert_eq!(f.show("string(//c)"), "'1'");
    assert_eq!(f.show("string(/)"), "'1234x5'");
    assert_eq!(f.show("string(/none)"), "''");
    assert_eq!(f.show("/a = '1234x'"), "true");
    assert_eq!(f.show("number(/a/b[1])"), "12");
}

#[test]
fn arithmetic_and_precedence() {
    let f = Fixture::new(AXES);
    let cases = [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("10 - 2 - 3", "5"),
        ("10 - (2 - 3)", "11"),
        ("2 * 3 mod 4", "2"),
        ("12 div 2 div 3", "2"),
        ("7 mod 3", "1"),
        ("-7 mod 3", "-1"),
        ("7 mod -3", "1"),
        ("5.5 mod 2", "1.5"),
        ("1 div 0", "Infinity"),
        ("-1 div 0", "-Infinity"),
        ("0 div 0", "NaN"),
        ("1 mod 0", "NaN"),
        ("- 2 - -3", "1"),
        ("--2", "2"),
        ("1 - -1", "2"),
        ("-//c", "-1"),
        ("-//c + 1", "0"),
        ("//c + //d", "5"),
        ("'3' * '4'", "12"),
        ("'a' + 1", "NaN"),
        ("true() + true()", "2"),
        ("1 = 1 and 2 = 3 or 1", "true"),
        ("1 = 1 and (2 = 3 or 0)", "false"),
        ("1 < 2 = 1", "true"),
        ("3 > 2 > 1", "false"),
        ("1 + 1 = 2", "true"),
        ("2 = 1 + 1", "true"),
        ("1 or 0 and 0", "true"),
        ("(1 or 0) and 0", "false"),
        ("0.1 + 0.2", "0.30000000000000004"),
        (
            "1000000 * 1000000 * 1000000 * 1000",
            "1000000000000000000000",
        ),
        ("1 div 10000000", "0.0000001"),
        ("-0", "0"),
        ("1 div -0", "-Infinity"),
        ("3 - 1.5", "1.5"),
    ];
    for (expr, want) in cases {
        assert_eq!(f.show(expr), want, "{expr}");
    }
}

#[test]
fn lexer_disambiguation_evaluates() {
    let f = Fixture::new(r#" div "6"; mod "4"; and "3"; or "0"; "#);
    let cases = [
        ("div div div", "1"),
        ("div mod mod", "2"),
        ("mod*mod", "16"),
        ("2*div", "12"),
        ("* * *", "36"),
        ("and and or", "true"),
        ("or or or", "true"),
        ("or", "or"),
        ("and and and", "true"),
        ("child::div + 1", "7"),
        ("div - mod", "2"),
        ("count(*)", "4"),
        ("count(* | div)", "4"),
    ];
    for (expr, want) in cases {
        assert_eq!(f.show(expr), want, "{expr}");
    }
}

#[test]
fn comparisons_follow_section_3_4() {
    let f = Fixture::new(AXES);
    let cases = [
        // node-set vs string
        ("//c = '2'", true),
        ("//c != '2'", true),
        ("//c = '9'", false),
        ("//none != 'x'", false),
        ("//none = ''", false),
        ("'2' = //c", true),
        ("//c < '2'", true),
        ("//c < '1'", false),
        // node-set vs number
        ("//c > 2", true),
        ("//c > 3", false),
        ("2 < //c", true),
        ("3 < //c", false),
        ("//c >= 3", true),
        ("//c <= 1", true),
        ("//c = 1.0", true),
        ("//c != 1", true),
        ("/a/b[1]/c[1] != 1", false),
        ("//b = 0 div 0", false),
        ("//b != 0 div 0", true),
        // node-set vs boolean
        ("//none = false()", true),
        ("//c = true()", true),
        ("//c != true()", false),
        ("true() = //c", true),
        ("//none < true()", true),
        ("//c > false()", true),
        // node-set vs node-set
        ("//c = //d", false),
        ("//c = //c", true),
        ("//c != //c", true),
        ("/a/b[1]/c[1] != /a/b[1]/c[1]", false),
        ("/a/b[1]/c[1] != //c", true),
        ("//c < //d", true),
        ("//c >= //d", false),
        ("//d > //c", true),
        ("//c <= //c", true),
        ("//c < //c", true),
        ("/a/b[1]/c[1] < /a/b[1]/c[1]", false),
        ("//b3 < //c", false),
        ("//none = //none", false),
        ("//none != //c", false),
        ("//b = /a/b[3]", true),
        // atoms
        ("'1' = 1", true),
        ("'1.0' = 1", true),
        ("'1.0' = '1'", false),
        ("'abc' = 'abc'", true),
        ("true() = 'x'", true),
        ("true() = ''", false),
        ("0 = false()", true),
        ("'' = false()", true),
        ("'a' < 'b'", false),
        ("'a' != 'b'", true),
        ("'2' > '10'", false),
        ("'10' > '2'", true),
        ("1 < 2", true),
        ("2 <= 2", true),
        ("2 >= 3", false),
        ("0 div 0 = 0 div 0", false),
        ("0 div 0 != 0 div 0", true),
        ("true() > false()", true),
        ("'x' = true()", true),
        ("2 = true()", true),
        ("1 div 0 > 1000000", true),
        ("-0 = 0", true),
    ];
    for (expr, want) in cases {
        let got = f.show(expr);
        assert_eq!(got, want.to_string(), "{expr}");
    }
}

#[test]
fn yang_current_in_predicates() {
    let f = Fixture::ifaces();
    let e = "/if:interfaces/if:interface[if:name = current()/../ifname]";
    assert_eq!(f.show_at(e, "ifref", "ifref"), "i2");
    // The context node differs from current(): current() stays fixed while
    // the predicate's context node moves.
    assert_eq!(f.show_at(e, "", "ifref"), "i2");
    assert_eq!(
        f.show_at(
            "../ifname = /if:interfaces/if:interface/if:name",
            "ifref",
            "ifref"
        ),
        "true"
    );
    assert_eq!(
        f.show_at(
            "/if:interfaces/if:interface[if:name = current()]/if:mtu",
            "",
            "ifref"
        ),
        "mtu"
    );
    assert_eq!(f.show_at("current()", "i1", "flags"), "flags");
    assert_eq!(f.show_at("current()/..", "i1", "flags"), "r");
    assert_eq!(f.show_at("count(current()//*)", "", "i3"), "3");
    // Leafref-style path with current() in the predicate.
    let e = "/if:interfaces/if:interface[if:name = current()]/if:enabled = 'true'";
    assert_eq!(f.show_at(e, "ifref", "ifref"), "true");
    // Unprefixed names are in the default namespace, prefixed ones resolve
    // through the context.
    assert_eq!(f.show("/t:routing/x:extra"), "extra");
    assert_eq!(f.show("/routing/extra"), "");
    assert_eq!(f.show("/interfaces"), "");
    assert_eq!(f.show("/if:*/if:interface[last()]"), "i3");
    assert_eq!(f.show("count(/routing/*)"), "6");
    assert_eq!(f.show("count(/routing/t:*)"), "5");
    assert_eq!(f.show("count(/routing/*/self::x:*)"), "1");
    assert_eq!(f.show("count(/t:routing/node())"), "6");
    // `when`-style expressions evaluated as booleans.
    let ctx_prefixes = prefixes();
    let ctx = Context::new(&ctx_prefixes, DEFAULT_NS);
    let when = parse("../if:type = 'ianaift:ethernetCsmacd' and ../if:enabled = 'true'").unwrap();
    let n1 = f.doc.node("n1");
    let n2 = f.doc.node("n2");
    assert!(evaluate_bool(&f.doc, &when, &ctx, n1, n1).unwrap());
    assert!(!evaluate_bool(&f.doc, &when, &ctx, n2, n2).unwrap());
}

#[test]
fn yang_deref() {
    let f = Fixture::ifaces();
    assert_eq!(f.show_at("deref(.)", "ifref", "ifref"), "n1");
    assert_eq!(f.show_at("deref(current())/../if:mtu", "", "ifref"), "mtu");
    assert_eq!(
        f.show_at("number(deref(current())/../if:mtu)", "", "ifref"),
        "1500"
    );
    assert_eq!(f.show("deref(/routing/ifref)/.."), "i1");
    assert_eq!(f.show("deref(/routing/dangling)"), "");
    assert_eq!(f.show("deref(/routing/ifname)"), "");
    assert_eq!(f.show("deref(/nothing)"), "");
    // The first node in document order is followed.
    assert_eq!(f.show("deref(/routing/*)"), "");
    assert_eq!(f.show("deref(/routing/ifref | /routing/ifname)"), "");
    assert_eq!(f.show("deref(/routing/ifref | /routing/dangling)"), "n1");
}

#[test]
fn yang_derived_from() {
    let f = Fixture::ifaces();
    let cases = [
        (
            "derived-from(/if:interfaces/if:interface[1]/if:type, 'ianaift:iana-interface-type')",
            true,
        ),
        (
            "derived-from(/if:interfaces/if:interface[1]/if:type, 'if:interface-type')",
            true,
        ),
        (
            "derived-from(/if:interfaces/if:interface[1]/if:type, 'ianaift:ethernetCsmacd')",
            false,
        ),
        (
            "derived-from-or-self(/if:interfaces/if:interface[1]/if:type, 'ianaift:ethernetCsmacd')",
            true,
        ),
        (
            "derived-from(/if:interfaces/if:interface/if:type, 'ianaift:ethernetCsmacd')",
            true,
        ),
        (
            "derived-from(/if:interfaces/if:interface[3]/if:type, 'ianaift:ethernetCsmacd')",
            false,
        ),
        (
            "derived-from-or-self(/if:interfaces/if:interface[2]/if:type, 'fast-ether')",
            true,
        ),
        (
            "derived-from-or-self(/if:interfaces/if:interface[2]/if:type, 't:fast-ether')",
            true,
        ),
        (
            "derived-from(/if:interfaces/if:interface[2]/if:type, 'fast-ether')",
            false,
        ),
        (
            "derived-from(/if:interfaces/if:interface[2]/if:type, ' if:interface-type ')",
            true,
        ),
        ("derived-from(/nothing, 'if:interface-type')", false),
        (
            "derived-from(/if:interfaces/if:interface/if:name, 'if:interface-type')",
            false,
        ),
        (
            "/if:interfaces/if:interface[derived-from-or-self(if:type, 'ianaift:ethernetCsmacd')]/if:name = 'eth1'",
            true,
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(f.show(expr), want.to_string(), "{expr}");
    }
    assert_eq!(
        f.show("count(/if:interfaces/if:interface[derived-from(if:type, 'ianaift:iana-interface-type')])"),
        "3"
    );
    let err = f.err("derived-from(/if:interfaces, 'bogus:x')");
    assert_eq!((err.kind, err.position), (ErrorKind::UnknownPrefix, 0));
    let err = f.err("1 and derived-from-or-self(., 'zz:x')");
    assert_eq!((err.kind, err.position), (ErrorKind::UnknownPrefix, 6));
}

#[test]
fn evaluation_errors_have_positions() {
    let f = Fixture::ifaces();
    let err = f.err("/zz:a");
    assert_eq!((err.kind, err.position), (ErrorKind::UnknownPrefix, 1));
    let err = f.err("count(/if:interfaces/zz:*)");
    assert_eq!((err.kind, err.position), (ErrorKind::UnknownPrefix, 21));
    let err = f.err("/routing[bad:x]");
    assert_eq!((err.kind, err.position), (ErrorKind::UnknownPrefix, 9));
    let err = f.err("$x + 1");
    assert_eq!((err.kind, err.position), (ErrorKind::UnknownVariable, 0));
    let err = f.err("count($x)");
    assert_eq!((err.kind, err.position), (ErrorKind::UnknownVariable, 6));
    let err = f.err("re-match('a', '[')");
    assert_eq!((err.kind, err.position), (ErrorKind::InvalidPattern, 0));
    // A prefix is only resolved when its step is evaluated.
    assert_eq!(f.show("false() and /zz:a"), "false");
    assert_eq!(f.show("/nothing/zz:a"), "");
    // Hand-built trees that the parser would reject are errors too.
    let prefixes = prefixes();
    let ctx = Context::new(&prefixes, DEFAULT_NS);
    let call = |name: &str, args: Vec<Expr>| Expr::FunctionCall {
        name: name.to_string(),
        args,
        pos: 7,
    };
    let bad = [
        (call("nope", vec![]), ErrorKind::UnknownFunction),
        (call("count", vec![]), ErrorKind::WrongArity),
        (
            call("count", vec![Expr::Number(1.0)]),
            ErrorKind::NodeSetRequired,
        ),
        (
            Expr::Union {
                operands: vec![Expr::Literal("a".into()), call("current", vec![])],
                pos: 7,
            },
            ErrorKind::NodeSetRequired,
        ),
        (
            Expr::Filter {
                primary: Box::new(Expr::Number(1.0)),
                predicates: vec![Expr::Number(1.0)],
                pos: 7,
            },
            ErrorKind::NodeSetRequired,
        ),
        (
            Expr::FilterPath {
                filter: Box::new(Expr::Literal("a".into())),
                steps: vec![],
                pos: 7,
            },
            ErrorKind::NodeSetRequired,
        ),
    ];
    for (e, kind) in bad {
        let err = evaluate(&f.doc, &e, &ctx, 0, 0).unwrap_err();
        assert_eq!((err.kind, err.position), (kind, 7), "{e}");
    }
    // A hand-built single-operand chain still evaluates.
    let e = Expr::Binary {
        first: Box::new(Expr::Number(2.0)),
        rest: vec![(BinaryOp::Mul, Expr::Number(3.0))],
    };
    assert_eq!(
        evaluate(&f.doc, &e, &ctx, 0, 0).unwrap(),
        Value::Number(6.0)
    );
}

#[test]
fn printed_form_evaluates_the_same() {
    let f = Fixture::ifaces();
    let exprs = [
        "/if:interfaces/if:interface[if:name = current()/../ifname]/if:mtu",
        "count(//if:name[. != 'lo']) * 2 - -1",
        "(//if:interface)[last()]/if:name",
        "//if:interface[2]/preceding-sibling::*[1]/if:name",
        "-(1 + 2) * 3 mod 4",
        "(1 < 2) = (2 < 1) or 'a' = \"a\"",
        "sum(//if:mtu) div count(//if:mtu)",
        "/if:interfaces//if:name | /routing/ifname",
        "string(deref(/routing/ifref)/../if:type)",
    ];
    for src in exprs {
        let a = f.show_at(src, "ifref", "ifref");
        let printed = parse(src).unwrap().to_string();
        let b = f.show_at(&printed, "ifref", "ifref");
        assert_eq!(a, b, "{src} vs {printed}");
    }
}

/// A node-set of 10,000 siblings must evaluate and sort quickly.
#[test]
fn large_sibling_sets_are_fast() {
    let mut doc = TestDoc::new();
    let c = doc.add(0, "c", None);
    for i in 0..10_000 {
        let item = doc.add(c, "item", None);
        doc.add(item, "v", Some(&i.to_string()));
    }
    doc.add(0, "z", Some("9999"));
    let prefixes = prefixes();
    let ctx = Context::new(&prefixes, DEFAULT_NS);
    let start = Instant::now();
    let run = |s: &str| {
        let e = parse(s).unwrap();
        evaluate(&doc, &e, &ctx, 0, 0).unwrap()
    };
    assert_eq!(run("count(/c/item/v)"), Value::Number(10_000.0));
    assert_eq!(run("count(/c/item/v/..)"), Value::Number(10_000.0));
    assert_eq!(run("count(//v | /c/item/v)"), Value::Number(10_000.0));
    assert_eq!(run("count(//v/../../item)"), Value::Number(10_000.0));
    assert_eq!(run("sum(/c/item/v) = 49995000"), Value::Boolean(true));
    assert_eq!(run("/c/item[last()]/v = /z"), Value::Boolean(true));
    assert_eq!(run("/c/item/v = /z"), Value::Boolean(true));
    assert_eq!(run("count(/c/item[v > 9000])"), Value::Number(999.0));
    assert_eq!(
        run("count(/c/item[1]/following-sibling::item)"),
        Value::Number(9_999.0)
    );
    assert_eq!(
        run("count((//v)[position() mod 2 = 0])"),
        Value::Number(5_000.0)
    );
    let elapsed = start.elapsed();
    assert!(elapsed.as_secs() < 20, "too slow: {elapsed:?}");
}

#[test]
fn deep_documents_and_long_chains() {
    // A 2,000-level deep document: axes and document order are iterative.
    let mut doc = TestDoc::new();
    let mut n = 0;
    for _ in 0..2_000 {
        n = doc.add(n, "n", None);
    }
    doc.add(n, "leaf", Some("v"));
    let prefixes = prefixes();
    let ctx = Context::new(&prefixes, DEFAULT_NS);
    let e = parse("count(//n) + count(//leaf/ancestor::*) + count(//n/preceding::*)").unwrap();
    assert_eq!(
        evaluate(&doc, &e, &ctx, 0, 0).unwrap(),
        Value::Number(4_000.0)
    );
    let e = parse("string(/)").unwrap();
    assert_eq!(
        evaluate(&doc, &e, &ctx, 0, 0).unwrap(),
        Value::String("v".into())
    );
    // A long flat operator chain evaluates without deep recursion.
    let f = Fixture::new(IFACES);
    let e = vec!["1"; 20_000].join(" + ");
    assert_eq!(f.show(&e), "20000");
    let e = vec!["false()"; 5_000].join(" or ") + " or true()";
    assert_eq!(f.show(&e), "true");
}

/// The deepest expressions the parser accepts parse, print and evaluate
/// within a small (512 KiB) thread stack, even in debug builds.
#[test]
fn deepest_accepted_expressions_fit_a_small_stack() {
    let run = || {
        let f = Fixture::new(AXES);
        let mut accepted = 0;
        for n in 1..200 {
            let candidates = [
                "(".repeat(n) + "1" + &")".repeat(n),
                "/a[".repeat(n) + "1" + &"]".repeat(n),
                "not(".repeat(n) + "1" + &")".repeat(n),
                "count((".repeat(n) + "/a" + &")[1])".repeat(n),
                "-".repeat(n) + "1",
                "self::c[. = 2 and ../c[".repeat(n) + "1" + &"]]".repeat(n),
                "(/a)[".repeat(n) + "1" + &"]".repeat(n),
                "concat(".repeat(n) + "'x'" + &", 'y')".repeat(n),
            ];
            for src in candidates {
                let Ok(e) = crate::xpath::parse(&src) else {
                    continue;
                };
                accepted += 1;
                let printed = e.to_string();
                assert!(crate::xpath::parse(&printed).is_ok(), "{printed}");
                f.try_eval_at(&src, "c2", "c2").unwrap();
            }
        }
        accepted
    };
    let accepted = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
    assert!(accepted > 100, "{accepted}");
}
