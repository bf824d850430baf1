//! The YANG compiler and type system on small inline modules: every type restriction through
//! `Type::canonical`, typedef defaults, groupings, augments, choices, lists, features,
//! deviations, operations, submodules and imports, and the position and wording of compile
//! errors.

use yang::schema::types::{PrefixResolver, TypeKind, ValueError};
use yang::schema::ModuleId;
use yang::{CompileError, NodeId, NodeKind, Schema, SchemaBuilder};

// ---- helpers ------------------------------------------------------------------------------------

/// A module `t` (prefix `t`, namespace `urn:t`) around `body`.
fn module_t(body: &str) -> String {
    format!("module t {{\n  yang-version 1.1;\n  namespace \"urn:t\";\n  prefix t;\n{body}\n}}\n")
}

fn compile(sources: &[(&str, &str)]) -> Result<Schema, Vec<CompileError>> {
    compile_with(SchemaBuilder::new().without_embedded(), sources)
}

fn compile_with(
    mut b: SchemaBuilder,
    sources: &[(&str, &str)],
) -> Result<Schema, Vec<CompileError>> {
    for (path, text) in sources {
        b = b.source(*path, *text);
    }
    b.build().map_err(|e| e.0)
}

fn show(errors: &[CompileError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn build_all(sources: &[(&str, &str)]) -> Schema {
    compile(sources).unwrap_or_else(|e| panic!("compile failed:\n{}", show(&e)))
}

/// Compile module `t` with this body.
fn build(body: &str) -> Schema {
    build_all(&[("t.yang", &module_t(body))])
}

fn errors_of(sources: &[(&str, &str)]) -> Vec<CompileError> {
    match compile(sources) {
        Ok(_) => panic!("compiled, but an error was expected"),
        Err(e) => e,
    }
}

/// The error whose statement is `statement`; fails listing every error when there is none.
fn error_at(errors: &[CompileError], statement: &str) -> CompileError {
    errors
        .iter()
        .find(|e| e.statement == statement)
        .cloned()
        .unwrap_or_else(|| panic!("no error on '{statement}':\n{}", show(errors)))
}

/// 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> u32 {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("'{needle}' not in the text"));
    text[..at].matches('\n').count() as u32 + 1
}

/// Compile `t` and return its single error on `statement`, checking file and line.
fn t_error(body: &str, statement: &str, line_needle: &str) -> CompileError {
    let text = module_t(body);
    let errs = errors_of(&[("t.yang", &text)]);
    let e = error_at(&errs, statement);
    assert_eq!(e.file, "t.yang", "{e}");
    assert_eq!(e.line, line_of(&text, line_needle), "{e}");
    e
}

fn try_node(s: &Schema, path: &str) -> Option<NodeId> {
    let mut cur: Vec<NodeId> = s
        .modules
        .iter()
        .flat_map(|m| m.data.iter().chain(&m.rpcs).chain(&m.notifications))
        .copied()
        .collect();
    let mut found = None;
    for part in path.trim_start_matches('/').split('/') {
        let hit = cur.iter().copied().find(|&c| s.node(c).name == part)?;
        found = Some(hit);
        cur = s.node(hit).children.clone();
    }
    found
}

/// A schema node by its names from the top (choice and case nodes included): `/c/ch/one/a`.
fn node(s: &Schema, path: &str) -> NodeId {
    try_node(s, path).unwrap_or_else(|| panic!("no schema node {path}"))
}

fn module_id(s: &Schema, name: &str) -> ModuleId {
    s.module_by_name(name)
        .unwrap_or_else(|| panic!("no module {name}"))
}

/// Resolves the prefixes the modules declare for themselves.
fn own_prefixes(s: &Schema) -> impl Fn(&str) -> Option<ModuleId> + '_ {
    |p: &str| {
        s.modules
            .iter()
            .position(|m| m.prefix == p)
            .map(|i| ModuleId(i as u32))
    }
}

fn canon_with(
    s: &Schema,
    path: &str,
    value: &str,
    r: &dyn PrefixResolver,
) -> Result<String, ValueError> {
    let n = s.node(node(s, path));
    let ty =
        n.ty.as_ref()
            .unwrap_or_else(|| panic!("{path} has no type"));
    ty.canonical(s, value, r, Some(n.module))
}

fn canon(s: &Schema, path: &str, value: &str) -> Result<String, ValueError> {
    canon_with(s, path, value, &own_prefixes(s))
}

#[track_caller]
fn ok(s: &Schema, path: &str, value: &str) -> String {
    canon(s, path, value).unwrap_or_else(|e| panic!("{path} refused '{value}': {e}"))
}

#[track_caller]
fn bad(s: &Schema, path: &str, value: &str) -> ValueError {
    match canon(s, path, value) {
        Ok(v) => panic!("{path} accepted '{value}' (as '{v}')"),
        Err(e) => e,
    }
}

#[track_caller]
fn bad_msg(s: &Schema, path: &str, value: &str, needle: &str) -> ValueError {
    let e = bad(s, path, value);
    assert!(
        e.message.contains(needle),
        "{path} '{value}': message '{}' lacks '{needle}'",
        e.message
    );
    e
}

fn names(s: &Schema, ids: &[NodeId]) -> Vec<String> {
    ids.iter().map(|&i| s.node(i).name.clone()).collect()
}

// ---- 1. types -------------------------------------------------------------------------------

#[test]
fn integer_types_and_their_bounds() {
    let s = build(
        r#"
  leaf i8 { type int8; }
  leaf i16 { type int16; }
  leaf i32 { type int32; }
  leaf i64 { type int64; }
  leaf u8 { type uint8; }
  leaf u16 { type uint16; }
  leaf u32 { type uint32; }
  leaf u64 { type uint64; }
"#,
    );
    let cases: [(&str, &str, i128, i128); 8] = [
        ("i8", "int8", i8::MIN.into(), i8::MAX.into()),
        ("i16", "int16", i16::MIN.into(), i16::MAX.into()),
        ("i32", "int32", i32::MIN.into(), i32::MAX.into()),
        ("i64", "int64", i64::MIN.into(), i64::MAX.into()),
        ("u8", "uint8", 0, u8::MAX.into()),
        ("u16", "uint16", 0, u16::MAX.into()),
        ("u32", "uint32", 0, u32::MAX.into()),
        ("u64", "uint64", 0, u64::MAX.into()),
    ];
    for (leaf, ty, lo, hi) in cases {
        let path = format!("/{leaf}");
        assert_eq!(s.node(node(&s, &path)).ty.as_ref().unwrap().name, ty);
        assert_eq!(ok(&s, &path, &lo.to_string()), lo.to_string());
        assert_eq!(ok(&s, &path, &hi.to_string()), hi.to_string());
        let e = bad_msg(&s, &path, &(lo - 1).to_string(), "out of the range");
        assert!(e.message.contains(ty), "{}", e.message);
        assert!(e.message.contains(&format!("{lo}..{hi}")), "{}", e.message);
        bad_msg(&s, &path, &(hi + 1).to_string(), "out of the range");
        bad_msg(&s, &path, "1.0", "not a valid");
        bad_msg(&s, &path, "0x10", "not a valid");
        bad_msg(&s, &path, "", "not a valid");
        assert_eq!(bad(&s, &path, "x").app_tag, None);
    }
    // Canonical integers: no sign for positives, no leading zeros.
    assert_eq!(ok(&s, "/i8", "+12"), "12");
    assert_eq!(ok(&s, "/i8", "-007"), "-7");
    assert_eq!(ok(&s, "/u8", "-0"), "0");
    assert_eq!(
        ok(&s, "/u64", "000018446744073709551615"),
        "18446744073709551615"
    );
}

#[test]
fn range_with_min_max_and_several_parts() {
    let s = build(
        r#"
  leaf r { type int32 { range "min..-10 | 0 | 5..max"; } }
  leaf tagged {
    type uint16 {
      range "1..10" { error-message "pick 1 to 10"; error-app-tag "out-of-bounds"; }
    }
  }
"#,
    );
    for v in ["-2147483648", "-10", "0", "5", "2147483647"] {
        assert_eq!(ok(&s, "/r", v), v);
    }
    for v in ["-9", "-1", "1", "4"] {
        let e = bad_msg(&s, "/r", v, "out of range");
        assert!(
            e.message.contains("-2147483648..-10 | 0 | 5..2147483647"),
            "{}",
            e.message
        );
        assert_eq!(e.app_tag, None);
    }
    // Still bounded by the built-in type.
    bad_msg(&s, "/r", "2147483648", "out of the range of int32");
    assert_eq!(
        s.node(node(&s, "/r")).ty.as_ref().unwrap().ranges,
        vec![vec![(i32::MIN as i128, -10), (0, 0), (5, i32::MAX as i128)]]
    );
    assert_eq!(
        bad(&s, "/tagged", "11"),
        ValueError {
            message: "pick 1 to 10".into(),
            app_tag: Some("out-of-bounds".into())
        }
    );
    assert_eq!(ok(&s, "/tagged", "10"), "10");
}

#[test]
fn derived_range_narrows_the_typedef_range() {
    let s = build(
        r#"
  typedef percent {
    type uint8 { range "0..100" { error-message "not a percentage"; } }
  }
  typedef small-percent { type percent { range "min..50"; } }
  leaf p { type percent; }
  leaf q { type percent { range "10..20 | 50"; } }
  leaf sp { type small-percent; }
"#,
    );
    assert_eq!(ok(&s, "/p", "100"), "100");
    let e = bad(&s, "/p", "101");
    assert_eq!(e.message, "not a percentage");
    assert_eq!(ok(&s, "/q", "10"), "10");
    assert_eq!(ok(&s, "/q", "20"), "20");
    assert_eq!(ok(&s, "/q", "50"), "50");
    for v in ["9", "21", "30", "49", "51", "100"] {
        bad(&s, "/q", v);
    }
    let ty = s.node(node(&s, "/q")).ty.clone().unwrap();
    assert_eq!(ty.name, "percent");
    assert_eq!(ty.ranges, vec![vec![(0, 100)], vec![(10, 20), (50, 50)]]);
    // `min` in a derived range is the base type's lower bound.
    assert_eq!(ok(&s, "/sp", "0"), "0");
    assert_eq!(ok(&s, "/sp", "50"), "50");
    bad(&s, "/sp", "51");
}

#[test]
fn derived_range_that_widens_is_a_compile_error() {
    let body = r#"
  typedef percent { type uint8 { range "0..100"; } }
  leaf p { type percent { range "0..200"; } }
"#;
    let e = t_error(body, "range 0..200", "range \"0..200\"");
    assert!(e.message.contains("not within the base type"), "{e}");
    // A range beyond the built-in type is refused too.
    let e = t_error(
        r#"  leaf x { type int8 { range "-200..0"; } }"#,
        "range -200..0",
        "range",
    );
    assert!(e.message.contains("not within"), "{e}");
    // Parts must ascend.
    let e = t_error(
        r#"  leaf x { type int8 { range "5..6 | 1..2"; } }"#,
        "range 5..6 | 1..2",
        "range",
    );
    assert!(e.message.contains("ascending"), "{e}");
}

#[test]
fn length_on_string_and_binary() {
    let s = build(
        r#"
  typedef name { type string { length "1..10"; } }
  leaf s { type string { length "2..4 | 8"; } }
  leaf short-name { type name { length "min..5"; } }
  leaf tagged {
    type string { length "3" { error-message "three chars"; error-app-tag "len3"; } }
  }
  leaf b { type binary { length "2"; } }
"#,
    );
    for v in ["ab", "abcd", "abcdefgh"] {
        assert_eq!(ok(&s, "/s", v), v);
    }
    // Characters, not bytes.
    assert_eq!(ok(&s, "/s", "ééé"), "ééé");
    let e = bad_msg(&s, "/s", "a", "length 1");
    assert!(e.message.contains("2..4 | 8"), "{}", e.message);
    bad(&s, "/s", "abcde");
    bad(&s, "/s", "abcdefghi");
    assert_eq!(ok(&s, "/short-name", "abcde"), "abcde");
    bad(&s, "/short-name", "");
    bad(&s, "/short-name", "abcdef");
    assert_eq!(
        s.node(node(&s, "/short-name")).ty.as_ref().unwrap().lengths,
        vec![vec![(1, 10)], vec![(1, 5)]]
    );
    assert_eq!(
        bad(&s, "/tagged", "ab"),
        ValueError {
            message: "three chars".into(),
            app_tag: Some("len3".into())
        }
    );
    // Binary length counts decoded octets.
    assert_eq!(ok(&s, "/b", "AAE="), "AAE=");
    bad_msg(&s, "/b", "AA==", "length 1");
    bad_msg(&s, "/b", "AAEC", "length 3");
}

#[test]
fn length_that_widens_or_sits_on_a_number_is_an_error() {
    let e = t_error(
        r#"
  typedef name { type string { length "1..10"; } }
  leaf n { type name { length "1..20"; } }"#,
        "length 1..20",
        "length \"1..20\"",
    );
    assert!(e.message.contains("not within"), "{e}");
    let e = t_error(
        r#"  leaf n { type uint8 { length "1..2"; } }"#,
        "length 1..2",
        "length",
    );
    assert!(e.message.contains("length on type uint8"), "{e}");
}

#[test]
fn patterns_use_xsd_syntax_and_are_anchored() {
    let s = build(
        r#"
  leaf name { type string { pattern '\i\c*'; } }
  leaf consonants { type string { pattern '[a-z-[aeiou]]+'; } }
  leaf digits { type string { pattern '[0-9]+'; } }
  leaf dollar { type string { pattern 'a$'; } }
  leaf not-x {
    type string {
      pattern 'x.*' {
        modifier invert-match;
        error-message "must not start with x";
        error-app-tag "no-x";
      }
    }
  }
  leaf not-y { type string { pattern 'y.*' { modifier invert-match; } } }
  leaf upper {
    type string { pattern '[A-Z]+' { error-message "upper case only"; error-app-tag "upper"; } }
  }
"#,
    );
    for v in ["a1-x", "_x.y", "ab:c"] {
        assert_eq!(ok(&s, "/name", v), v);
    }
    let e = bad_msg(&s, "/name", "1a", "does not match pattern");
    assert!(e.message.contains(r"\i\c*"), "{}", e.message);
    bad(&s, "/name", "a b");
    assert_eq!(ok(&s, "/consonants", "bcd"), "bcd");
    bad(&s, "/consonants", "bad");
    bad(&s, "/consonants", "BCD");
    // Implicitly anchored at both ends.
    assert_eq!(ok(&s, "/digits", "123"), "123");
    for v in ["a12", "12a", "a12b", ""] {
        bad(&s, "/digits", v);
    }
    // `$` is an ordinary character in XSD.
    assert_eq!(ok(&s, "/dollar", "a$"), "a$");
    bad(&s, "/dollar", "a");
    // invert-match.
    assert_eq!(ok(&s, "/not-x", "abc"), "abc");
    assert_eq!(ok(&s, "/not-x", "axe"), "axe");
    assert_eq!(
        bad(&s, "/not-x", "xyz"),
        ValueError {
            message: "must not start with x".into(),
            app_tag: Some("no-x".into())
        }
    );
    let e = bad_msg(&s, "/not-y", "yes", "excluded pattern");
    assert_eq!(e.app_tag, None);
    assert_eq!(ok(&s, "/not-y", "no"), "no");
    assert_eq!(
        bad(&s, "/upper", "abc"),
        ValueError {
            message: "upper case only".into(),
            app_tag: Some("upper".into())
        }
    );
}

#[test]
fn every_pattern_of_a_typedef_chain_applies() {
    let s = build(
        r#"
  typedef lower { type string { pattern '[a-z0-9]*'; } }
  typedef short-lower {
    type lower {
      length "1..4";
      pattern '[a-z].*' { error-message "must start with a letter"; }
    }
  }
  leaf p { type short-lower { pattern '.*[0-9]'; } }
"#,
    );
    assert_eq!(ok(&s, "/p", "ab1"), "ab1");
    bad_msg(&s, "/p", "AB1", "[a-z0-9]*");
    assert_eq!(bad(&s, "/p", "1ab1").message, "must start with a letter");
    bad_msg(&s, "/p", "abc", ".*[0-9]");
    bad_msg(&s, "/p", "abcd1", "length 5");
    let ty = s.node(node(&s, "/p")).ty.clone().unwrap();
    assert_eq!(ty.name, "short-lower");
    assert_eq!(ty.patterns.len(), 3);
    assert_eq!(ty.lengths.len(), 1);
}

#[test]
fn enumeration_values_and_restriction() {
    let s = build(
        r#"
  typedef colour {
    type enumeration {
      enum red;
      enum green { value 10; }
      enum blue;
      enum black { value -3; }
      enum white;
    }
  }
  leaf c { type colour; }
  leaf warm { type colour { enum red; enum blue; } }
  leaf negative { type enumeration { enum a { value -5; } enum b; } }
"#,
    );
    let neg = s.node(node(&s, "/negative")).ty.clone().unwrap();
    assert_eq!(
        (neg.enum_value("a"), neg.enum_value("b")),
        (Some(-5), Some(-4))
    );
    let ty = s.node(node(&s, "/c")).ty.clone().unwrap();
    match &ty.kind {
        TypeKind::Enumeration(e) => assert_eq!(
            e,
            &vec![
                ("red".to_string(), 0),
                ("green".to_string(), 10),
                ("blue".to_string(), 11),
                ("black".to_string(), -3),
                // One more than the highest value so far (RFC 7950 §9.6.4.2), not than the last.
                ("white".to_string(), 12),
            ]
        ),
        k => panic!("not an enumeration: {k:?}"),
    }
    assert_eq!(ok(&s, "/c", "green"), "green");
    let e = bad_msg(&s, "/c", "purple", "not one of the enumeration values");
    assert!(
        e.message.contains("red, green, blue, black, white"),
        "{}",
        e.message
    );
    bad(&s, "/c", "10");
    // The restricted enumeration keeps the base values.
    assert_eq!(ok(&s, "/warm", "blue"), "blue");
    let e = bad(&s, "/warm", "green");
    assert!(e.message.contains("(red, blue)"), "{}", e.message);
    let warm = s.node(node(&s, "/warm")).ty.clone().unwrap();
    assert_eq!(warm.enum_value("blue"), Some(11));
    assert_eq!(warm.enum_value("green"), None);
}

#[test]
fn enumeration_errors() {
    let base = "  typedef colour { type enumeration { enum red; enum blue; } }\n";
    let e = t_error(
        &format!("{base}  leaf c {{ type colour {{ enum pink; }} }}"),
        "enum pink",
        "enum pink",
    );
    assert!(e.message.contains("not in the base enumeration"), "{e}");
    let e = t_error(
        &format!("{base}  leaf c {{ type colour {{ enum red {{ value 7; }} }} }}"),
        "enum red",
        "value 7",
    );
    assert!(e.message.contains("not in the base enumeration"), "{e}");
    let e = t_error(
        "  leaf c { type enumeration { enum a; enum b { value 0; } } }",
        "enum b",
        "enum b",
    );
    assert!(e.message.contains("value"), "{e}");
    let e = t_error("  leaf c { type enumeration; }", "type enumeration", "type");
    assert!(e.message.contains("needs enums"), "{e}");
}

#[test]
fn bits_are_ordered_by_position() {
    let s = build(
        r#"
  typedef flags {
    type bits {
      bit b { position 3; }
      bit a { position 1; }
      bit c;
      bit z { position 0; }
      bit y;
    }
  }
  leaf f { type flags; }
  leaf g { type flags { bit a; bit c; } }
"#,
    );
    match &s.node(node(&s, "/f")).ty.as_ref().unwrap().kind {
        TypeKind::Bits(b) => assert_eq!(
            b,
            &vec![
                ("b".to_string(), 3),
                ("a".to_string(), 1),
                ("c".to_string(), 4),
                ("z".to_string(), 0),
                // One more than the highest position so far (RFC 7950 §9.7.4.2).
                ("y".to_string(), 5),
            ]
        ),
        k => panic!("not bits: {k:?}"),
    }
    assert_eq!(ok(&s, "/f", "b a"), "a b");
    assert_eq!(ok(&s, "/f", "y c  a\tb z"), "z a b c y");
    assert_eq!(ok(&s, "/f", ""), "");
    bad_msg(&s, "/f", "a d", "'d' is not a bit");
    bad_msg(&s, "/f", "a a", "set twice");
    assert_eq!(ok(&s, "/g", "c a"), "a c");
    bad(&s, "/g", "b");
}

#[test]
fn bits_errors() {
    let e = t_error(
        "  leaf f { type bits { bit a; bit b { position 0; } } }",
        "bit b",
        "bit b",
    );
    assert!(e.message.contains("duplicate bit position 0"), "{e}");
    let base = "  typedef flags { type bits { bit a; bit b; } }\n";
    let e = t_error(
        &format!("{base}  leaf f {{ type flags {{ bit c; }} }}"),
        "bit c",
        "bit c",
    );
    assert!(e.message.contains("not in the base type"), "{e}");
    let e = t_error(
        &format!("{base}  leaf f {{ type flags {{ bit b {{ position 7; }} }} }}"),
        "bit b",
        "position 7",
    );
    assert!(e.message.contains("not in the base type"), "{e}");
}

#[test]
fn union_member_order_decides_the_canonical_form() {
    let s = build(
        r#"
  leaf num-first { type union { type uint8; type string; } }
  leaf str-first { type union { type string; type uint8; } }
  leaf mixed {
    type union {
      type int8 { range "1..5"; }
      type enumeration { enum none; }
      type decimal64 { fraction-digits 1; }
    }
  }
"#,
    );
    assert_eq!(ok(&s, "/num-first", "007"), "7");
    assert_eq!(ok(&s, "/num-first", "300"), "300");
    assert_eq!(ok(&s, "/str-first", "007"), "007");
    assert_eq!(ok(&s, "/mixed", "+3"), "3");
    assert_eq!(ok(&s, "/mixed", "7"), "7.0");
    assert_eq!(ok(&s, "/mixed", "2.50"), "2.5");
    assert_eq!(ok(&s, "/mixed", "none"), "none");
    let e = bad_msg(&s, "/mixed", "1.25", "matches no member of the union");
    assert!(e.message.contains("fraction digits"), "{}", e.message);
    bad(&s, "/mixed", "nothing");
}

#[test]
fn decimal64_fraction_digits_and_ranges() {
    let s = build(
        r#"
  leaf d { type decimal64 { fraction-digits 2; } }
  leaf r { type decimal64 { fraction-digits 2; range "-1.5..2.25 | 10"; } }
  leaf tiny { type decimal64 { fraction-digits 18; } }
"#,
    );
    assert_eq!(ok(&s, "/d", "1.50"), "1.5");
    assert_eq!(ok(&s, "/d", "1"), "1.0");
    assert_eq!(ok(&s, "/d", "+001.230"), "1.23");
    assert_eq!(ok(&s, "/d", "-0.05"), "-0.05");
    bad_msg(&s, "/d", "1.234", "at most 2 fraction digits");
    bad(&s, "/d", "1.");
    bad(&s, "/d", "abc");
    assert_eq!(ok(&s, "/r", "2.25"), "2.25");
    assert_eq!(ok(&s, "/r", "-1.50"), "-1.5");
    assert_eq!(ok(&s, "/r", "10"), "10.0");
    let e = bad_msg(&s, "/r", "2.26", "out of range");
    assert!(e.message.contains("-1.5..2.25 | 10.0"), "{}", e.message);
    bad(&s, "/r", "10.01");
    bad(&s, "/r", "-1.51");
    // The value space is that of a 64-bit integer scaled by 10^-fraction-digits.
    assert_eq!(
        ok(&s, "/tiny", "9.223372036854775807"),
        "9.223372036854775807"
    );
    assert_eq!(
        ok(&s, "/tiny", "-9.223372036854775808"),
        "-9.223372036854775808"
    );
    bad(&s, "/tiny", "9.223372036854775808");
    bad(&s, "/tiny", "10");
}

#[test]
fn decimal64_compile_errors() {
    let e = t_error("  leaf d { type decimal64; }", "type decimal64", "type");
    assert!(e.message.contains("fraction-digits"), "{e}");
    let e = t_error(
        "  leaf d { type decimal64 { fraction-digits 19; } }",
        "fraction-digits 19",
        "fraction-digits",
    );
    assert!(e.message.contains("1..18"), "{e}");
    let e = t_error(
        r#"  leaf d { type decimal64 { fraction-digits 1; range "0..1.25"; } }"#,
        "range 0..1.25",
        "range",
    );
    assert!(e.message.contains("1.25"), "{e}");
}

const BASE_IDS: &str = r#"module base-ids {
  yang-version 1.1;
  namespace "urn:base-ids";
  prefix bi;
  identity animal;
  identity mammal { base animal; }
  identity rock;
  identity pet;
}
"#;

const ZOO: &str = r#"module zoo {
  yang-version 1.1;
  namespace "urn:zoo";
  prefix z;
  import base-ids { prefix b; }
  identity cat { base b:mammal; base b:pet; }
  identity lizard { base b:animal; }
  leaf any { type identityref { base b:animal; } }
  leaf furry { type identityref { base b:mammal; } }
  leaf furry-pet { type identityref { base b:mammal; base b:pet; } }
  leaf with-default { type identityref { base b:animal; } default "b:mammal"; }
  leaf local-default { type identityref { base b:animal; } default "lizard"; }
}
"#;

#[test]
fn identityref_across_two_modules() {
    let s = build_all(&[("base-ids.yang", BASE_IDS), ("zoo.yang", ZOO)]);
    // Canonical values carry the defining module's own prefix.
    assert_eq!(ok(&s, "/any", "bi:mammal"), "bi:mammal");
    assert_eq!(ok(&s, "/any", "z:cat"), "z:cat");
    assert_eq!(ok(&s, "/any", "z:lizard"), "z:lizard");
    // Unprefixed: the default module (the leaf's).
    assert_eq!(ok(&s, "/any", "cat"), "z:cat");
    bad_msg(&s, "/any", "bi:rock", "not derived from animal");
    // An identity is not derived from itself.
    bad_msg(&s, "/any", "bi:animal", "not derived");
    bad_msg(&s, "/any", "qq:cat", "unknown prefix");
    bad_msg(&s, "/any", "z:dog", "not a known identity");
    bad(&s, "/furry", "z:lizard");
    assert_eq!(ok(&s, "/furry", "z:cat"), "z:cat");
    // Two bases: derived from both.
    assert_eq!(ok(&s, "/furry-pet", "z:cat"), "z:cat");
    bad(&s, "/furry-pet", "bi:mammal");
    // Defaults are resolved with the prefixes of the module that wrote them.
    assert_eq!(s.default_of(node(&s, "/with-default")), Some("bi:mammal"));
    assert_eq!(s.default_of(node(&s, "/local-default")), Some("z:lizard"));
    // The identity hierarchy.
    let bi = module_id(&s, "base-ids");
    let z = module_id(&s, "zoo");
    let animal = s.find_identity(bi, "animal").unwrap();
    let mammal = s.find_identity(bi, "mammal").unwrap();
    let cat = s.find_identity(z, "cat").unwrap();
    let rock = s.find_identity(bi, "rock").unwrap();
    assert!(s.identity_derived(cat, animal, false));
    assert!(s.identity_derived(mammal, animal, false));
    assert!(!s.identity_derived(animal, animal, false));
    assert!(s.identity_derived(animal, animal, true));
    assert!(!s.identity_derived(rock, animal, true));
    assert_eq!(s.identity(cat).bases.len(), 2);
}

#[test]
fn identityref_prefixes_come_from_the_resolver() {
    let s = build_all(&[("base-ids.yang", BASE_IDS), ("zoo.yang", ZOO)]);
    let bi = module_id(&s, "base-ids");
    let z = module_id(&s, "zoo");
    // The prefixes of an instance document, unrelated to the modules' own.
    let doc = move |p: &str| match p {
        "x" => Some(z),
        "y" => Some(bi),
        _ => None,
    };
    assert_eq!(canon_with(&s, "/any", "x:cat", &doc).unwrap(), "z:cat");
    assert_eq!(
        canon_with(&s, "/any", "y:mammal", &doc).unwrap(),
        "bi:mammal"
    );
    let e = canon_with(&s, "/any", "z:cat", &doc).unwrap_err();
    assert!(e.message.contains("unknown prefix"), "{e}");
}

#[test]
fn identity_and_identityref_errors() {
    let e = t_error("  identity a { base nope; }", "base nope", "base nope");
    assert!(e.message.contains("base identity not found"), "{e}");
    let e = t_error(
        "  identity a;\n  leaf l { type identityref { base nope; } }",
        "base nope",
        "base nope",
    );
    assert!(e.message.contains("not found"), "{e}");
    let e = t_error("  leaf l { type identityref; }", "type identityref", "type");
    assert!(e.message.contains("needs a base"), "{e}");
    let e = t_error(
        "  identity a;\n  leaf l { type identityref { base a; } default \"a\"; }",
        "leaf l",
        "leaf l",
    );
    assert!(e.message.contains("default 'a' is invalid"), "{e}");
}

#[test]
fn leafref_follows_its_target() {
    let s = build(
        r#"
  list server {
    key name;
    leaf name { type string { length "1..5"; } }
    leaf port { type uint16 { range "1..1024"; } }
  }
  typedef port-ref { type leafref { path "/t:server/t:port"; } }
  leaf ref { type leafref { path "/server/name"; } }
  leaf ref-port { type port-ref; }
  container c {
    leaf local { type uint8; }
    leaf rel { type leafref { path "../local"; } }
    leaf-list many { type leafref { path "/server[name = current()/../local]/port"; } }
  }
  leaf u {
    type union {
      type leafref { path "/c/local"; require-instance false; }
      type enumeration { enum unset; }
    }
  }
"#,
    );
    let target = |leaf: &str| match &s.node(node(&s, leaf)).ty.as_ref().unwrap().kind {
        TypeKind::Leafref { target, .. } => *target,
        k => panic!("{leaf} is not a leafref: {k:?}"),
    };
    assert_eq!(target("/ref"), Some(node(&s, "/server/name")));
    assert_eq!(target("/ref-port"), Some(node(&s, "/server/port")));
    assert_eq!(target("/c/rel"), Some(node(&s, "/c/local")));
    assert_eq!(target("/c/many"), Some(node(&s, "/server/port")));
    // Values are checked against the target's type.
    assert_eq!(ok(&s, "/ref", "ab"), "ab");
    bad_msg(&s, "/ref", "abcdef", "length 6");
    assert_eq!(ok(&s, "/ref-port", "0080"), "80");
    bad_msg(&s, "/ref-port", "2000", "out of range");
    assert_eq!(ok(&s, "/c/rel", "007"), "7");
    bad(&s, "/c/rel", "300");
    // The leafref member of a union is resolved too.
    assert_eq!(ok(&s, "/u", "007"), "7");
    assert_eq!(ok(&s, "/u", "unset"), "unset");
    bad(&s, "/u", "other");
    match &s.node(node(&s, "/u")).ty.as_ref().unwrap().kind {
        TypeKind::Union(m) => match &m[0].kind {
            TypeKind::Leafref {
                require_instance,
                path,
                ..
            } => {
                assert!(!require_instance);
                assert_eq!(path, "/c/local");
            }
            k => panic!("{k:?}"),
        },
        k => panic!("{k:?}"),
    }
}

#[test]
fn leafref_with_a_bad_path_is_a_compile_error() {
    let e = t_error(
        r#"
  list server { key name; leaf name { type string; } }
  leaf bad { type leafref { path "/server/nope"; } }"#,
        "leaf bad",
        "leaf bad",
    );
    assert!(e.message.contains("leafref path '/server/nope'"), "{e}");
    assert!(e.message.contains("nope"), "{e}");
    let e = t_error(
        r#"
  container box { leaf x { type string; } }
  leaf to-container { type leafref { path "/box"; } }"#,
        "leaf to-container",
        "leaf to-container",
    );
    assert!(e.message.contains("not a leaf"), "{e}");
    let e = t_error(
        r#"  leaf l { type leafref { path "/zz:x"; } }"#,
        "leaf l",
        "leaf l",
    );
    assert!(e.message.contains("unknown prefix 'zz'"), "{e}");
    let e = t_error("  leaf l { type leafref; }", "type leafref", "type");
    assert!(e.message.contains("needs a path"), "{e}");
}

#[test]
fn instance_identifier_values() {
    let s = build(
        r#"
  list server {
    key name;
    leaf name { type string; }
    leaf port { type uint16; }
  }
  leaf ii { type instance-identifier; }
  leaf loose { type instance-identifier { require-instance false; } }
"#,
    );
    assert_eq!(
        ok(&s, "/ii", "/t:server[t:name=\"a\"]/t:port"),
        "/t:server[t:name='a']/t:port"
    );
    assert_eq!(ok(&s, "/ii", "/t:server"), "/t:server");
    let t = module_id(&s, "t");
    let doc = move |p: &str| (p == "x").then_some(t);
    assert_eq!(
        canon_with(&s, "/ii", "/x:server[x:name=\"it's\"]", &doc).unwrap(),
        "/t:server[t:name=\"it's\"]"
    );
    bad_msg(&s, "/ii", "/t:nope", "invalid instance-identifier");
    bad_msg(&s, "/ii", "/server", "needs a module prefix");
    bad_msg(&s, "/ii", "/t:server[t:port='1']", "not a key");
    bad(&s, "/ii", "");
    match s.node(node(&s, "/loose")).ty.as_ref().unwrap().kind {
        TypeKind::InstanceIdentifier { require_instance } => assert!(!require_instance),
        ref k => panic!("{k:?}"),
    }
    match s.node(node(&s, "/ii")).ty.as_ref().unwrap().kind {
        TypeKind::InstanceIdentifier { require_instance } => assert!(require_instance),
        ref k => panic!("{k:?}"),
    }
}

#[test]
fn empty_boolean_binary_and_string() {
    let s = build(
        r#"
  leaf e { type empty; }
  leaf b { type boolean; }
  leaf bin { type binary; }
  leaf s { type string; }
"#,
    );
    assert_eq!(ok(&s, "/e", ""), "");
    bad_msg(&s, "/e", "x", "empty");
    assert_eq!(ok(&s, "/b", "true"), "true");
    assert_eq!(ok(&s, "/b", "false"), "false");
    for v in ["TRUE", "1", "yes", ""] {
        bad_msg(&s, "/b", v, "not a boolean");
    }
    // Base64 canonical form: no whitespace, padded.
    assert_eq!(ok(&s, "/bin", "AQID"), "AQID");
    assert_eq!(ok(&s, "/bin", "AQ ID\n BA=="), "AQIDBA==");
    assert_eq!(ok(&s, "/bin", ""), "");
    bad_msg(&s, "/bin", "!!!!", "base64");
    bad_msg(&s, "/bin", "AQI", "base64");
    for v in ["", " spaced \n text ", "ünïcödé"] {
        assert_eq!(ok(&s, "/s", v), v);
    }
}

// ---- 2. typedef defaults --------------------------------------------------------------------

#[test]
fn typedef_defaults_and_units() {
    let s = build(
        r#"
  typedef seconds { type uint16; default 30; units "seconds"; }
  typedef timeout { type seconds { range "1..100"; } }
  typedef ratio { type decimal64 { fraction-digits 2; } default "0.50"; }
  leaf inherited { type seconds; }
  leaf through-chain { type timeout; }
  leaf overridden { type seconds; default 0010; units "ms"; }
  leaf dec { type ratio; }
  leaf-list list-default { type seconds; }
  leaf-list ll { type uint8; default 1; default 02; }
  leaf plain { type uint8; }
"#,
    );
    let inh = node(&s, "/inherited");
    assert_eq!(s.default_of(inh), Some("30"));
    assert_eq!(s.node(inh).units.as_deref(), Some("seconds"));
    assert!(s.node(inh).defaults.is_empty());
    let chain = node(&s, "/through-chain");
    assert_eq!(s.default_of(chain), Some("30"));
    assert_eq!(s.node(chain).units.as_deref(), Some("seconds"));
    let over = node(&s, "/overridden");
    assert_eq!(s.default_of(over), Some("10"));
    assert_eq!(s.node(over).units.as_deref(), Some("ms"));
    assert_eq!(s.default_of(node(&s, "/dec")), Some("0.5"));
    assert_eq!(s.leaf_list_defaults(node(&s, "/list-default")), vec!["30"]);
    assert_eq!(s.leaf_list_defaults(node(&s, "/ll")), vec!["1", "2"]);
    assert_eq!(s.default_of(node(&s, "/plain")), None);
    assert_eq!(s.node(node(&s, "/plain")).units, None);
}

#[test]
fn a_typedef_default_outside_a_derived_range_is_an_error() {
    let e = t_error(
        r#"
  typedef seconds { type uint16; default 30; }
  leaf short { type seconds { range "1..10"; } }"#,
        "leaf short",
        "leaf short",
    );
    assert!(e.message.contains("default '30' is invalid"), "{e}");
}

// ---- 3. schema statements -------------------------------------------------------------------

#[test]
fn refine_changes_the_used_nodes() {
    let body = r#"
  feature extra;
  grouping g {
    leaf a { type string; }
    leaf b { type string; }
    container c { leaf x { type string; } }
    leaf d { type string; }
    leaf e { type string; description "original"; }
    leaf f { type string; }
    leaf-list g { type uint8; }
  }
  container refined {
    uses g {
      refine a { default "x"; }
      refine b { mandatory true; }
      refine c { presence "turns c on"; }
      refine d { config false; }
      refine e { description "refined"; }
      refine f { if-feature extra; }
      refine g { min-elements 1; max-elements 3; }
    }
  }
  container plain { uses g; }
"#;
    let s = build(body);
    let n = |p: &str| s.node(node(&s, p)).clone();
    assert_eq!(s.default_of(node(&s, "/refined/a")), Some("x"));
    assert!(n("/refined/b").mandatory);
    assert!(n("/refined/c").presence);
    assert!(!n("/refined/d").config);
    assert_eq!(n("/refined/e").description.as_deref(), Some("refined"));
    assert_eq!(n("/refined/f").if_features, vec!["extra"]);
    assert_eq!(n("/refined/g").min_elements, 1);
    assert_eq!(n("/refined/g").max_elements, Some(3));
    // The other use of the grouping is untouched.
    assert_eq!(s.default_of(node(&s, "/plain/a")), None);
    assert!(!n("/plain/b").mandatory);
    assert!(!n("/plain/c").presence);
    assert!(n("/plain/d").config);
    assert_eq!(n("/plain/e").description.as_deref(), Some("original"));
    assert!(n("/plain/f").if_features.is_empty());
    assert_eq!(n("/plain/g").max_elements, None);
    // A refined if-feature removes the node when the feature is off.
    let off = compile_with(
        SchemaBuilder::new()
            .without_embedded()
            .disable_feature("t", "extra"),
        &[("t.yang", &module_t(body))],
    )
    .unwrap_or_else(|e| panic!("{}", show(&e)));
    assert!(try_node(&off, "/refined/f").is_none());
    assert!(try_node(&off, "/plain/f").is_some());
    assert!(try_node(&off, "/refined/e").is_some());
}

#[test]
fn refine_of_a_missing_node_is_an_error() {
    let e = t_error(
        r#"
  grouping g { leaf a { type string; } }
  container c { uses g { refine nope { default "x"; } } }"#,
        "refine nope",
        "refine nope",
    );
    assert!(e.message.contains("refine target not found"), "{e}");
    let e = t_error(
        r#"
  grouping g { leaf a { type uint8; } }
  container c { uses g { refine a { default "x"; } } }"#,
        "leaf a",
        "leaf a",
    );
    assert!(e.message.contains("default 'x' is invalid"), "{e}");
}

#[test]
fn augment_inside_uses() {
    let s = build(
        r#"
  grouping g { container inner { leaf x { type string; } } }
  container top {
    uses g {
      augment "inner" {
        when "x = 'on'";
        leaf added { type uint8; }
      }
    }
  }
"#,
    );
    let inner = node(&s, "/top/inner");
    assert_eq!(
        names(&s, &s.node(inner).children),
        vec!["x".to_string(), "added".to_string()]
    );
    let added = s.node(node(&s, "/top/inner/added"));
    assert_eq!(added.parent, Some(inner));
    assert_eq!(added.whens.len(), 1);
    assert!(added.whens[0].on_parent);
    let e = t_error(
        r#"
  grouping g { container inner; }
  container top { uses g { augment "nope" { leaf y { type string; } } } }"#,
        "augment nope",
        "augment \"nope\"",
    );
    assert!(e.message.contains("augment target not found"), "{e}");
}

const LIB: &str = r#"module lib {
  yang-version 1.1;
  namespace "urn:lib";
  prefix l;
  typedef small { type uint8 { range "0..9"; } }
  identity base-kind;
  identity kind-a { base base-kind; }
  grouping endpoint {
    leaf port { type small; }
    leaf kind { type identityref { base base-kind; } default l:kind-a; }
    container opts { uses inner; }
  }
  grouping inner { leaf verbose { type boolean; default false; } }
  container lib-top { leaf v { type string; } }
}
"#;

#[test]
fn grouping_from_an_imported_module() {
    let app = r#"module app {
  yang-version 1.1;
  namespace "urn:app";
  prefix app;
  import lib { prefix l; }
  typedef small { type string; }
  container server { uses l:endpoint; }
}
"#;
    let s = build_all(&[("lib.yang", LIB), ("app.yang", app)]);
    let port = node(&s, "/server/port");
    // Nodes from the grouping belong to the module that uses it.
    assert_eq!(s.namespace_of(port), "urn:app");
    assert_eq!(s.namespace_of(node(&s, "/server/opts/verbose")), "urn:app");
    // Names inside the grouping resolve in the grouping's module: `small` is lib's uint8.
    assert_eq!(ok(&s, "/server/port", "9"), "9");
    bad(&s, "/server/port", "10");
    bad(&s, "/server/port", "abc");
    assert_eq!(s.default_of(node(&s, "/server/kind")), Some("l:kind-a"));
    assert_eq!(
        s.default_of(node(&s, "/server/opts/verbose")),
        Some("false")
    );
    let lib = module_id(&s, "lib");
    let server = node(&s, "/server");
    assert_eq!(s.find_child(Some(server), "urn:app", "port"), Some(port));
    assert_eq!(s.find_child(Some(server), "urn:lib", "port"), None);
    assert!(s
        .module(lib)
        .data
        .iter()
        .all(|&d| s.node(d).name == "lib-top"));
}

#[test]
fn unprefixed_identity_default_in_an_imported_grouping() {
    let lib = r#"module lib2 {
  yang-version 1.1;
  namespace "urn:lib2";
  prefix l2;
  identity base-kind;
  identity kind-a { base base-kind; }
  typedef kind { type identityref { base base-kind; } default kind-a; }
  grouping g {
    leaf k { type identityref { base base-kind; } default kind-a; }
    leaf t { type kind; }
  }
}
"#;
    let app = r#"module app2 {
  yang-version 1.1;
  namespace "urn:app2";
  prefix a2;
  import lib2 { prefix l; }
  container c { uses l:g; }
  leaf top { type l:kind; }
}
"#;
    let s = build_all(&[("lib2.yang", lib), ("app2.yang", app)]);
    assert_eq!(s.default_of(node(&s, "/c/k")), Some("l2:kind-a"));
    assert_eq!(s.default_of(node(&s, "/c/t")), Some("l2:kind-a"));
    assert_eq!(s.default_of(node(&s, "/top")), Some("l2:kind-a"));
}

#[test]
fn nested_groupings_and_typedefs_follow_lexical_scope() {
    let s = build(
        r#"
  typedef t { type string; }
  grouping top-g { leaf from-top-g { type t; } }
  container c {
    typedef t { type uint8; }
    grouping inner { leaf l { type t; } }
    uses inner;
    leaf m { type t; }
    container deeper {
      leaf n { type t; }
      uses top-g;
    }
  }
  leaf outside { type t; }
  grouping outer {
    typedef gt { type int8 { range "-1..1"; } }
    grouping nested { leaf z { type gt; } }
    container oc { uses nested; }
  }
  container holder { uses outer; }
"#,
    );
    // The local typedef `t` shadows the top-level one inside `c`.
    for p in ["/c/l", "/c/m", "/c/deeper/n"] {
        assert_eq!(ok(&s, p, "007"), "7", "{p}");
        bad(&s, p, "abc");
    }
    // Outside `c`, and in a grouping defined at the top, `t` is the string.
    assert_eq!(ok(&s, "/outside", "007"), "007");
    assert_eq!(ok(&s, "/c/deeper/from-top-g", "007"), "007");
    // A grouping nested in a grouping, with a typedef of the outer grouping.
    assert_eq!(ok(&s, "/holder/oc/z", "-1"), "-1");
    bad(&s, "/holder/oc/z", "2");
}

#[test]
fn top_level_augment_of_another_module() {
    let ext = r#"module ext {
  yang-version 1.1;
  namespace "urn:ext";
  prefix e;
  import lib { prefix l; }
  grouping more { leaf extra-g { type string; } }
  augment "/l:lib-top" {
    leaf extra { type uint8; }
    uses more;
  }
}
"#;
    let s = build_all(&[("lib.yang", LIB), ("ext.yang", ext)]);
    let top = node(&s, "/lib-top");
    let extra = node(&s, "/lib-top/extra");
    assert_eq!(s.namespace_of(extra), "urn:ext");
    assert_eq!(s.namespace_of(node(&s, "/lib-top/extra-g")), "urn:ext");
    assert_eq!(s.namespace_of(node(&s, "/lib-top/v")), "urn:lib");
    assert_eq!(s.find_child(Some(top), "urn:ext", "extra"), Some(extra));
    assert_eq!(s.find_child(Some(top), "urn:lib", "extra"), None);
    let e = s.module(module_id(&s, "ext"));
    assert_eq!(e.augments.len(), 1);
    assert_eq!(e.augments[0].target, top);
    assert_eq!(e.augments[0].target_path, "/l:lib-top");
    assert_eq!(names(&s, &e.augments[0].nodes), vec!["extra", "extra-g"]);
    assert!(s.module(module_id(&s, "lib")).implemented);
    assert_eq!(ok(&s, "/lib-top/extra", "07"), "7");
}

#[test]
fn augment_into_a_choice_adds_cases() {
    let base = r#"module base {
  yang-version 1.1;
  namespace "urn:base";
  prefix b;
  container box {
    choice shape {
      leaf round { type empty; }
    }
  }
}
"#;
    let add = r#"module add {
  yang-version 1.1;
  namespace "urn:add";
  prefix a;
  import base { prefix b; }
  augment "/b:box/b:shape" {
    leaf square { type uint8; }
    case triangle {
      leaf side { type uint8; }
      leaf angle { type uint8; }
    }
  }
}
"#;
    let s = build_all(&[("base.yang", base), ("add.yang", add)]);
    let shape = node(&s, "/box/shape");
    assert_eq!(s.node(shape).kind, NodeKind::Choice);
    assert_eq!(
        names(&s, &s.node(shape).children),
        vec!["round", "square", "triangle"]
    );
    let square_case = node(&s, "/box/shape/square");
    assert_eq!(s.node(square_case).kind, NodeKind::Case);
    assert!(s.node(square_case).shorthand);
    let square = node(&s, "/box/shape/square/square");
    assert_eq!(s.node(square).kind, NodeKind::Leaf);
    assert_eq!(s.namespace_of(square), "urn:add");
    let tri = node(&s, "/box/shape/triangle");
    assert!(!s.node(tri).shorthand);
    assert_eq!(names(&s, &s.node(tri).children), vec!["side", "angle"]);
    // Data children see through the choice.
    let box_ = node(&s, "/box");
    assert_eq!(
        names(&s, &s.data_children(box_)),
        vec!["round", "square", "side", "angle"]
    );
    assert_eq!(s.data_parent(square), Some(box_));
}

#[test]
fn choice_with_shorthand_and_default_case() {
    let s = build(
        r#"
  container c {
    choice transport {
      default tcp;
      case udp { leaf udp-port { type uint16; } }
      case tcp {
        leaf tcp-port { type uint16; default 22; }
        leaf nodelay { type boolean; }
      }
      leaf unix-path { type string; }
      container raw { presence "raw mode"; }
    }
    choice must-pick {
      mandatory true;
      leaf one { type empty; }
      leaf two { type empty; }
    }
  }
"#,
    );
    let ch = s.node(node(&s, "/c/transport"));
    assert_eq!(ch.kind, NodeKind::Choice);
    assert_eq!(ch.defaults, vec!["tcp"]);
    assert!(!ch.mandatory);
    assert_eq!(
        names(&s, &ch.children),
        vec!["udp", "tcp", "unix-path", "raw"]
    );
    let shorthand: Vec<bool> = ch.children.iter().map(|&c| s.node(c).shorthand).collect();
    assert_eq!(shorthand, vec![false, false, true, true]);
    for &c in &ch.children {
        assert_eq!(s.node(c).kind, NodeKind::Case);
    }
    assert_eq!(
        s.node(node(&s, "/c/transport/raw/raw")).kind,
        NodeKind::Container
    );
    assert_eq!(
        s.default_of(node(&s, "/c/transport/tcp/tcp-port")),
        Some("22")
    );
    assert!(s.node(node(&s, "/c/must-pick")).mandatory);
    let c = node(&s, "/c");
    assert_eq!(
        names(&s, &s.data_children(c)),
        vec![
            "udp-port",
            "tcp-port",
            "nodelay",
            "unix-path",
            "raw",
            "one",
            "two"
        ]
    );
    assert!(!NodeKind::Choice.is_data());
    assert!(!NodeKind::Case.is_data());
}

#[test]
fn choice_default_must_name_a_case() {
    let e = t_error(
        r#"
  choice ch {
    default nope;
    leaf a { type string; }
  }"#,
        "default nope",
        "default nope",
    );
    assert!(e.message.contains("default case 'nope' not found"), "{e}");
    // A default case removed by an if-feature is no error.
    let off = compile_with(
        SchemaBuilder::new()
            .without_embedded()
            .disable_feature("t", "f"),
        &[(
            "t.yang",
            &module_t(
                "  feature f;\n  choice ch {\n    default a;\n    leaf a { if-feature f; type string; }\n    leaf b { type string; }\n  }",
            ),
        )],
    );
    assert!(off.is_ok(), "{}", show(&off.err().unwrap_or_default()));
}

#[test]
fn presence_containers() {
    let s = build(
        r#"
  container p { presence "enables the feature"; leaf x { type string; } }
  container np { leaf x { type string; } }
"#,
    );
    assert!(s.node(node(&s, "/p")).presence);
    assert!(!s.node(node(&s, "/np")).presence);
}

#[test]
fn lists_keys_unique_and_cardinality() {
    let s = build(
        r#"
  list route {
    key "vrf prefix";
    unique "metric nh/address";
    unique "tag";
    min-elements 1;
    max-elements 100;
    leaf prefix { type string; }
    leaf vrf { type string; }
    leaf metric { type uint32; }
    leaf tag { type string; }
    container nh { leaf address { type string; } }
  }
  list reversed {
    key "b a";
    ordered-by user;
    leaf a { type string; }
    leaf b { type string; }
  }
  leaf-list names {
    type string;
    ordered-by user;
    min-elements 2;
    max-elements 5;
  }
  leaf-list sys { type string; }
  container state {
    config false;
    list keyless { leaf v { type string; } }
  }
"#,
    );
    let route = s.node(node(&s, "/route"));
    assert_eq!(route.kind, NodeKind::List);
    assert_eq!(names(&s, &route.keys), vec!["vrf", "prefix"]);
    assert_eq!(route.key_arg.as_deref(), Some("vrf prefix"));
    assert_eq!(route.unique.len(), 2);
    assert_eq!(names(&s, &route.unique[0]), vec!["metric", "address"]);
    assert_eq!(route.unique[0][1], node(&s, "/route/nh/address"));
    assert_eq!(names(&s, &route.unique[1]), vec!["tag"]);
    assert_eq!(route.min_elements, 1);
    assert_eq!(route.max_elements, Some(100));
    assert!(!route.ordered_by_user);
    let rev = s.node(node(&s, "/reversed"));
    assert_eq!(names(&s, &rev.keys), vec!["b", "a"]);
    assert!(rev.ordered_by_user);
    let ll = s.node(node(&s, "/names"));
    assert_eq!(ll.kind, NodeKind::LeafList);
    assert!(ll.ordered_by_user);
    assert_eq!((ll.min_elements, ll.max_elements), (2, Some(5)));
    let sys = s.node(node(&s, "/sys"));
    assert!(!sys.ordered_by_user);
    assert_eq!((sys.min_elements, sys.max_elements), (0, None));
    // A state list needs no key.
    assert!(s.node(node(&s, "/state/keyless")).keys.is_empty());
}

#[test]
fn list_errors() {
    let e = t_error(
        "  list l { key \"a z\"; leaf a { type string; } }",
        "list l",
        "list l",
    );
    assert!(e.message.contains("key leaf 'z' not found"), "{e}");
    let e = t_error("  list l { leaf a { type string; } }", "list l", "list l");
    assert!(e.message.contains("must have a key"), "{e}");
    let e = t_error(
        "  list l { key a; unique \"b\"; leaf a { type string; } }",
        "list l",
        "list l",
    );
    assert!(e.message.contains("unique node 'b' not found"), "{e}");
}

#[test]
fn config_false_is_inherited() {
    let s = build(
        r#"
  container cfg { leaf a { type string; } }
  container state {
    config false;
    leaf a { type string; }
    container inner { leaf b { type string; } list l { leaf c { type string; } } }
  }
  container mixed { leaf ro { type string; config false; } leaf rw { type string; } }
"#,
    );
    for p in ["/cfg", "/cfg/a", "/mixed", "/mixed/rw"] {
        assert!(s.node(node(&s, p)).config, "{p}");
    }
    for p in [
        "/state",
        "/state/a",
        "/state/inner",
        "/state/inner/b",
        "/state/inner/l/c",
        "/mixed/ro",
    ] {
        assert!(!s.node(node(&s, p)).config, "{p}");
    }
}

#[test]
fn config_true_under_config_false_is_an_error() {
    let e = t_error(
        r#"
  container state {
    config false;
    leaf a { type string; config true; }
  }"#,
        "leaf a",
        "leaf a",
    );
    assert!(
        e.message.contains("config true under a config false"),
        "{e}"
    );
}

#[test]
fn mandatory_nodes() {
    let s = build(
        r#"
  leaf m { type string; mandatory true; }
  leaf o { type string; mandatory false; }
  leaf d { type string; }
  anydata ad { mandatory true; }
"#,
    );
    assert!(s.node(node(&s, "/m")).mandatory);
    assert!(!s.node(node(&s, "/o")).mandatory);
    assert!(!s.node(node(&s, "/d")).mandatory);
    assert!(s.node(node(&s, "/ad")).mandatory);
}

const FEATURES: &str = r#"
  feature a;
  feature b;
  feature c { if-feature b; }
  leaf a-not-b { if-feature "a and not b"; type string; }
  leaf xor { if-feature "(a or b) and not (a and b)"; type string; }
  leaf both { if-feature a; if-feature t:b; type string; }
  leaf needs-c { if-feature c; type string; }
  leaf either { if-feature "a or b"; type string; }
  container box {
    if-feature b;
    leaf inside { type string; }
  }
  leaf e {
    type enumeration {
      enum always;
      enum with-b { if-feature b; }
    }
  }
  identity id-b { if-feature b; }
"#;

fn features_schema(disabled: &[&str]) -> Schema {
    let mut b = SchemaBuilder::new().without_embedded();
    for f in disabled {
        b = b.disable_feature("t", f);
    }
    compile_with(b, &[("t.yang", &module_t(FEATURES))]).unwrap_or_else(|e| panic!("{}", show(&e)))
}

#[test]
fn features_and_if_feature_expressions() {
    let present = |s: &Schema, p: &str| try_node(s, p).is_some();
    let all = features_schema(&[]);
    let t = all.module(module_id(&all, "t"));
    assert_eq!(t.features, vec!["a", "b", "c"]);
    assert_eq!(t.enabled_features, vec!["a", "b", "c"]);
    assert!(!present(&all, "/a-not-b"));
    assert!(!present(&all, "/xor"));
    assert!(present(&all, "/both"));
    assert!(present(&all, "/needs-c"));
    assert!(present(&all, "/box/inside"));
    assert_eq!(ok(&all, "/e", "with-b"), "with-b");
    assert!(all.find_identity(module_id(&all, "t"), "id-b").is_some());
    assert_eq!(
        all.node(node(&all, "/both")).if_features,
        vec!["a", "t:b"],
        "kept as written for the tree printer"
    );

    let no_b = features_schema(&["b"]);
    let t = no_b.module(module_id(&no_b, "t"));
    // `c` depends on `b`.
    assert_eq!(t.enabled_features, vec!["a"]);
    assert!(present(&no_b, "/a-not-b"));
    assert!(present(&no_b, "/xor"));
    assert!(!present(&no_b, "/both"));
    assert!(!present(&no_b, "/needs-c"));
    assert!(present(&no_b, "/either"));
    assert!(!present(&no_b, "/box"));
    bad(&no_b, "/e", "with-b");
    assert!(no_b.find_identity(module_id(&no_b, "t"), "id-b").is_none());

    let none = features_schema(&["a", "b"]);
    assert!(!present(&none, "/a-not-b"));
    assert!(!present(&none, "/xor"));
    assert!(!present(&none, "/either"));
    assert!(none
        .module(module_id(&none, "t"))
        .enabled_features
        .is_empty());
}

#[test]
fn identities_derive_transitively() {
    let s = build(
        r#"
  identity root;
  identity mid { base root; }
  identity leaf-id { base mid; }
  identity other;
  identity multi { base mid; base other; }
"#,
    );
    let t = module_id(&s, "t");
    let id = |n: &str| s.find_identity(t, n).unwrap();
    let mut derived: Vec<&str> = s
        .identity(id("root"))
        .derived
        .iter()
        .map(|&d| s.identity(d).name.as_str())
        .collect();
    derived.sort_unstable();
    assert_eq!(derived, vec!["leaf-id", "mid", "multi"]);
    assert!(s.identity_derived(id("multi"), id("other"), false));
    assert!(!s.identity_derived(id("other"), id("root"), false));
    assert!(s.identity(id("leaf-id")).derived.is_empty());
    assert_eq!(s.identity(id("multi")).bases, vec![id("mid"), id("other")]);
}

const DEVIATED: &str = r#"module dev-target {
  yang-version 1.1;
  namespace "urn:dt";
  prefix dt;
  container c {
    leaf gone { type string; }
    leaf rd { type uint8; default 5; units "s"; }
    leaf ad { type uint8; }
    leaf dd { type uint8; default 4; units "x"; must ". > 1"; }
    leaf-list ml { type string; max-elements 3; }
    leaf-list am { type string; }
    leaf tt { type string; }
    list l { key k; leaf k { type string; } leaf u { type string; } }
  }
  leaf top-gone { type string; }
}
"#;

const DEVIATIONS: &str = r#"module devs {
  yang-version 1.1;
  namespace "urn:devs";
  prefix d;
  import dev-target { prefix dt; }
  deviation /dt:c/dt:gone { deviate not-supported; }
  deviation /dt:top-gone { deviate not-supported; }
  deviation /dt:c/dt:rd { deviate replace { default 7; units "ms"; } }
  deviation /dt:c/dt:ad { deviate add { default 3; units "kg"; must ". != 2"; } }
  deviation /dt:c/dt:dd { deviate delete { default 4; units "x"; must ". > 1"; } }
  deviation /dt:c/dt:ml { deviate replace { max-elements 10; } }
  deviation /dt:c/dt:am { deviate add { max-elements 2; default "p"; default "q"; } }
  deviation /dt:c/dt:tt { deviate replace { type uint8 { range "1..9"; } } }
  deviation /dt:c/dt:l { deviate add { unique "u"; } }
}
"#;

#[test]
fn deviations_change_the_target() {
    let s = build_all(&[("dev-target.yang", DEVIATED), ("devs.yang", DEVIATIONS)]);
    assert!(try_node(&s, "/c/gone").is_none());
    assert!(try_node(&s, "/top-gone").is_none());
    let c = node(&s, "/c");
    assert_eq!(s.find_child(Some(c), "urn:dt", "gone"), None);
    assert_eq!(s.find_child(None, "urn:dt", "top-gone"), None);
    assert!(!names(&s, &s.top_data_nodes()).contains(&"top-gone".to_string()));

    let rd = node(&s, "/c/rd");
    assert_eq!(s.default_of(rd), Some("7"));
    assert_eq!(s.node(rd).units.as_deref(), Some("ms"));

    let ad = node(&s, "/c/ad");
    assert_eq!(s.default_of(ad), Some("3"));
    assert_eq!(s.node(ad).units.as_deref(), Some("kg"));
    assert_eq!(s.node(ad).musts.len(), 1);
    assert_eq!(s.node(ad).musts[0].text, ". != 2");

    let dd = node(&s, "/c/dd");
    assert_eq!(s.default_of(dd), None);
    assert_eq!(s.node(dd).units, None);
    assert!(s.node(dd).musts.is_empty());

    assert_eq!(s.node(node(&s, "/c/ml")).max_elements, Some(10));
    let am = node(&s, "/c/am");
    assert_eq!(s.node(am).max_elements, Some(2));
    assert_eq!(s.leaf_list_defaults(am), vec!["p", "q"]);

    assert_eq!(ok(&s, "/c/tt", "07"), "7");
    bad(&s, "/c/tt", "abc");
    bad(&s, "/c/tt", "10");

    let l = s.node(node(&s, "/c/l"));
    assert_eq!(l.unique.len(), 1);
    assert_eq!(names(&s, &l.unique[0]), vec!["u"]);

    let target = s.module(module_id(&s, "dev-target"));
    assert_eq!(target.deviated_by, vec![module_id(&s, "devs")]);
}

#[test]
fn deviation_errors() {
    let text = r#"module devs {
  yang-version 1.1;
  namespace "urn:devs";
  prefix d;
  import dev-target { prefix dt; }
  deviation /dt:c/dt:nope { deviate not-supported; }
  deviation /dt:c/dt:rd { deviate replace { default 300; } }
}
"#;
    let errs = errors_of(&[("dev-target.yang", DEVIATED), ("devs.yang", text)]);
    let e = error_at(&errs, "deviation /dt:c/dt:nope");
    assert_eq!((e.file.as_str(), e.line), ("devs.yang", 6));
    assert!(e.message.contains("deviation target node not found"), "{e}");
    let e = error_at(&errs, "leaf rd");
    assert!(e.message.contains("default '300' is invalid"), "{e}");
}

#[test]
fn removed_nodes_take_no_part_in_the_finishing_passes() {
    // `ref` points at `target`; the deviation removes both, so the path would no longer resolve,
    // but `ref` is gone too and must not be checked. The same for a refined if-feature.
    let target = r#"module rm-target {
  yang-version 1.1;
  namespace "urn:rm-target";
  prefix rt;
  feature off;
  grouping g {
    leaf g-target { type string; }
    leaf g-ref { type leafref { path "../g-target"; } }
  }
  container c {
    leaf target { type string; }
    leaf ref { type leafref { path "../target"; } }
    container sub {
      leaf deep-ref { type leafref { path "../../target"; } }
      leaf deep-default { type leafref { path "../../target"; } default "x"; }
    }
    leaf kept { type string; }
    uses g {
      refine g-target { if-feature off; }
      refine g-ref { if-feature off; }
    }
  }
}
"#;
    let devs = r#"module rm-devs {
  yang-version 1.1;
  namespace "urn:rm-devs";
  prefix d;
  import rm-target { prefix rt; }
  deviation /rt:c/rt:target { deviate not-supported; }
  deviation /rt:c/rt:ref { deviate not-supported; }
  deviation /rt:c/rt:sub { deviate not-supported; }
}
"#;
    let s = compile_with(
        SchemaBuilder::new()
            .without_embedded()
            .disable_feature("rm-target", "off"),
        &[("rm-target.yang", target), ("rm-devs.yang", devs)],
    )
    .unwrap_or_else(|e| panic!("compile failed:\n{}", show(&e)));
    let c = node(&s, "/c");
    assert_eq!(names(&s, &s.node(c).children), vec!["kept"]);
    for gone in ["target", "ref", "sub", "g-target", "g-ref"] {
        assert_eq!(s.find_child(Some(c), "urn:rm-target", gone), None, "{gone}");
    }
    // The removed nodes stay in the arena, marked detached with their descendants.
    let detached: Vec<&str> = s
        .nodes
        .iter()
        .filter(|n| n.detached)
        .map(|n| n.name.as_str())
        .collect();
    for gone in [
        "target",
        "ref",
        "sub",
        "deep-ref",
        "deep-default",
        "g-target",
        "g-ref",
    ] {
        assert!(
            detached.contains(&gone),
            "{gone} is not detached: {detached:?}"
        );
    }
    assert!(!s.node(node(&s, "/c/kept")).detached);
    assert!(s.data_children(c).iter().all(|&n| !s.node(n).detached));

    // Without the deviations, the leafref of the removed `ref` is an error.
    let errs = compile_with(
        SchemaBuilder::new()
            .without_embedded()
            .disable_feature("rm-target", "off"),
        &[(
            "rm-target.yang",
            &target.replace(
                "leaf target { type string; }",
                "leaf other { type string; }",
            ),
        )],
    )
    .map(|_| ())
    .unwrap_err();
    let e = error_at(&errs, "leaf ref");
    assert!(e.message.contains("leafref path '../target'"), "{e}");
}

#[test]
fn refine_and_deviation_defaults_resolve_where_they_are_written() {
    // An unprefixed identity in a refine or deviation default belongs to the module that writes
    // it, not to the module of the grouping or target.
    let lib = r#"module lib3 {
  yang-version 1.1;
  namespace "urn:lib3";
  prefix l3;
  identity base-kind;
  identity kind-a { base base-kind; }
  grouping g { leaf k { type identityref { base base-kind; } default kind-a; } }
  container t { leaf k { type identityref { base base-kind; } default kind-a; } }
}
"#;
    let app = r#"module app3 {
  yang-version 1.1;
  namespace "urn:app3";
  prefix a3;
  import lib3 { prefix l; }
  identity kind-b { base l:base-kind; }
  container c { uses l:g { refine k { default kind-b; } } }
  deviation /l:t/l:k { deviate replace { default kind-b; } }
}
"#;
    let s = build_all(&[("lib3.yang", lib), ("app3.yang", app)]);
    assert_eq!(s.default_of(node(&s, "/c/k")), Some("a3:kind-b"));
    assert_eq!(s.default_of(node(&s, "/t/k")), Some("a3:kind-b"));
}

#[test]
fn import_of_a_given_source_with_its_revision_date() {
    let dated = revisioned("2020-01-01", "old");
    let text = r#"module imp {
  namespace "urn:imp";
  prefix i;
  import dated { prefix dt; revision-date 2020-01-01; }
  augment /dt:box { leaf added { type string; } }
}
"#;
    // Either order: the given module is recognised by its name, not its file name.
    for sources in [
        [("imp.yang", text), ("somewhere/else.yang", dated.as_str())],
        [("somewhere/else.yang", dated.as_str()), ("imp.yang", text)],
    ] {
        let s = build_all(&sources);
        assert!(try_node(&s, "/box/added").is_some());
    }
}

#[test]
fn rpc_action_and_notification() {
    let s = build(
        r#"
  rpc reboot {
    input { leaf delay { type uint16; default 0; } }
  }
  rpc ping;
  rpc get-time {
    output { leaf now { type string; } }
  }
  container box {
    list item {
      key id;
      leaf id { type string; }
      action reset {
        output { leaf done { type boolean; } }
      }
      notification item-changed { leaf what { type string; } }
    }
  }
  notification alarm {
    leaf severity { type uint8; }
    container detail { leaf text { type string; } }
  }
"#,
    );
    let t = s.module(module_id(&s, "t"));
    assert_eq!(names(&s, &t.rpcs), vec!["reboot", "ping", "get-time"]);
    assert_eq!(names(&s, &t.notifications), vec!["alarm"]);
    assert_eq!(names(&s, &t.data), vec!["box"]);
    for rpc in ["/reboot", "/ping", "/get-time", "/box/item/reset"] {
        let n = s.node(node(&s, rpc));
        let mut kids: Vec<(NodeKind, String)> = n
            .children
            .iter()
            .map(|&c| (s.node(c).kind, s.node(c).name.clone()))
            .collect();
        kids.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(
            kids,
            vec![
                (NodeKind::Input, "input".to_string()),
                (NodeKind::Output, "output".to_string())
            ],
            "{rpc}"
        );
    }
    assert_eq!(s.node(node(&s, "/reboot")).kind, NodeKind::Rpc);
    assert_eq!(s.node(node(&s, "/box/item/reset")).kind, NodeKind::Action);
    let delay = node(&s, "/reboot/input/delay");
    assert_eq!(s.default_of(delay), Some("0"));
    assert!(!s.node(delay).config);
    assert!(s.node(node(&s, "/ping/input")).children.is_empty());
    assert_eq!(
        s.data_parent(node(&s, "/get-time/output/now")),
        Some(node(&s, "/get-time/output"))
    );
    assert_eq!(
        s.node(node(&s, "/box/item/reset/output/done")).kind,
        NodeKind::Leaf
    );
    assert_eq!(
        s.node(node(&s, "/box/item/item-changed")).kind,
        NodeKind::Notification
    );
    assert_eq!(s.node(node(&s, "/alarm")).kind, NodeKind::Notification);
    assert!(!s.node(node(&s, "/alarm/detail/text")).config);
    assert_eq!(s.find_rpc("urn:t", "reboot"), Some(node(&s, "/reboot")));
    assert_eq!(s.find_rpc("urn:t", "box"), None);
    // Operations are not data.
    assert_eq!(names(&s, &s.top_data_nodes()), vec!["box"]);
    // Actions and nested notifications are children of the list, but not data.
    let item = node(&s, "/box/item");
    let data: Vec<NodeId> = s
        .data_children(item)
        .into_iter()
        .filter(|&c| s.node(c).kind.is_data())
        .collect();
    assert_eq!(names(&s, &data), vec!["id"]);
}

#[test]
fn anydata_and_anyxml() {
    let s = build(
        r#"
  container c {
    anydata blob { description "any data"; }
    anyxml legacy { config false; }
  }
"#,
    );
    let blob = s.node(node(&s, "/c/blob"));
    assert_eq!(blob.kind, NodeKind::Anydata);
    assert!(blob.ty.is_none());
    assert_eq!(blob.description.as_deref(), Some("any data"));
    let legacy = s.node(node(&s, "/c/legacy"));
    assert_eq!(legacy.kind, NodeKind::Anyxml);
    assert!(!legacy.config);
    assert!(NodeKind::Anydata.is_data() && NodeKind::Anyxml.is_data());
    assert_eq!(
        names(&s, &s.data_children(node(&s, "/c"))),
        vec!["blob", "legacy"]
    );
}

#[test]
fn extension_statements_are_ignored() {
    let ext = r#"module ext-def {
  namespace "urn:ext-def";
  prefix x;
  extension note { argument text; }
  extension flag;
}
"#;
    let user = r#"module user {
  yang-version 1.1;
  namespace "urn:user";
  prefix u;
  import ext-def { prefix x; }
  extension local { argument name { yin-element true; } }
  x:note "on the module";
  u:local "top" { u:local "nested" { x:flag; } }
  container c {
    x:note "on a container";
    x:flag;
    leaf l {
      type string { x:note "on a type"; length "1..3"; }
      x:note "on a leaf";
    }
    list items {
      key id;
      u:local "in a list";
      leaf id { type uint8; }
    }
  }
}
"#;
    let s = build_all(&[("ext-def.yang", ext), ("user.yang", user)]);
    let c = node(&s, "/c");
    assert_eq!(names(&s, &s.node(c).children), vec!["l", "items"]);
    bad(&s, "/c/l", "abcd");
    assert_eq!(names(&s, &s.node(node(&s, "/c/items")).keys), vec!["id"]);
    assert_eq!(names(&s, &s.module(module_id(&s, "user")).data), vec!["c"]);
}

const SUB_PARENT: &str = r#"module parent {
  yang-version 1.1;
  namespace "urn:parent";
  prefix p;
  include sub;
  container from-parent {
    uses sub-grouping;
    leaf z { type sub-type; }
    leaf k { type identityref { base sub-id; } }
  }
}
"#;

const SUB: &str = r#"submodule sub {
  yang-version 1.1;
  belongs-to parent { prefix sp; }
  import other { prefix o; }
  typedef sub-type { type o:digit; }
  identity sub-id;
  identity sub-derived { base sp:sub-id; }
  grouping sub-grouping { leaf x { type sp:sub-type; } }
  container from-sub {
    leaf y { type sp:sub-type; }
    leaf w { type o:digit; default 3; }
  }
}
"#;

const OTHER: &str = r#"module other {
  yang-version 1.1;
  namespace "urn:other";
  prefix oth;
  typedef digit { type uint8 { range "0..9"; } }
}
"#;

fn check_submodule_schema(s: &Schema) {
    let parent = module_id(s, "parent");
    let m = s.module(parent);
    assert_eq!(m.submodules, vec!["sub"]);
    assert!(m.is_submodule_parent);
    assert_eq!(names(s, &m.data), vec!["from-sub", "from-parent"]);
    for p in [
        "/from-sub/y",
        "/from-sub/w",
        "/from-parent/x",
        "/from-parent/z",
    ] {
        let n = node(s, p);
        assert_eq!(s.node(n).module, parent, "{p}");
        assert_eq!(s.namespace_of(n), "urn:parent", "{p}");
        assert_eq!(ok(s, p, "9"), "9", "{p}");
        bad(s, p, "10");
    }
    assert_eq!(s.default_of(node(s, "/from-sub/w")), Some("3"));
    assert_eq!(ok(s, "/from-parent/k", "sub-derived"), "p:sub-derived");
    assert!(s.find_identity(parent, "sub-derived").is_some());
    assert!(
        s.module_by_name("sub").is_none(),
        "a submodule is no module"
    );
    let sub_src = s.sources.iter().find(|f| f.name == "sub").unwrap();
    assert!(sub_src.is_submodule);
    assert_eq!(sub_src.module, "parent");
}

#[test]
fn submodules_with_their_own_prefixes() {
    let s = build_all(&[
        ("src/other.yang", OTHER),
        ("src/parent.yang", SUB_PARENT),
        ("src/sub.yang", SUB),
    ]);
    check_submodule_schema(&s);
}

#[test]
fn sources_with_bare_file_names_in_any_order() {
    // `.source("sub.yang", ..)` names a file without a directory; the include of `sub` (and the
    // import of `other`) must find the given sources whatever their order.
    let s = build_all(&[
        ("parent.yang", SUB_PARENT),
        ("sub.yang", SUB),
        ("other.yang", OTHER),
    ]);
    check_submodule_schema(&s);
}

/// A fresh directory under the system temp dir.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("yang-compile-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn revisioned(rev: &str, leaf: &str) -> String {
    format!(
        "module dated {{\n  namespace \"urn:dated\";\n  prefix d;\n  revision {rev};\n  \
         container box {{ leaf {leaf} {{ type string; }} }}\n}}\n"
    )
}

#[test]
fn import_with_and_without_revision_date() {
    let dir = temp_dir("revisions");
    std::fs::write(
        dir.join("dated@2020-01-01.yang"),
        revisioned("2020-01-01", "old"),
    )
    .unwrap();
    std::fs::write(
        dir.join("dated@2021-06-01.yang"),
        revisioned("2021-06-01", "new"),
    )
    .unwrap();
    let importer = |import: &str| {
        format!(
            "module imp {{\n  namespace \"urn:imp\";\n  prefix i;\n  {import}\n  \
             augment /dt:box {{ leaf added {{ type string; }} }}\n}}\n"
        )
    };
    let pinned = importer("import dated { prefix dt; revision-date 2020-01-01; }");
    let s = compile_with(
        SchemaBuilder::new().without_embedded().search_dir(&dir),
        &[("imp.yang", &pinned)],
    )
    .unwrap_or_else(|e| panic!("{}", show(&e)));
    let dated = s.module(module_id(&s, "dated"));
    assert_eq!(dated.revision.as_deref(), Some("2020-01-01"));
    assert!(try_node(&s, "/box/old").is_some());
    assert!(try_node(&s, "/box/added").is_some());
    // Imported modules are not implemented unless augmented or given.
    assert!(dated.implemented);

    let newest = importer("import dated { prefix dt; }");
    let s = compile_with(
        SchemaBuilder::new().without_embedded().search_dir(&dir),
        &[("imp.yang", &newest)],
    )
    .unwrap_or_else(|e| panic!("{}", show(&e)));
    assert_eq!(
        s.module(module_id(&s, "dated")).revision.as_deref(),
        Some("2021-06-01")
    );
    assert!(try_node(&s, "/box/new").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_of_a_missing_revision_is_an_error() {
    let dir = temp_dir("missing-revision");
    std::fs::write(
        dir.join("dated@2020-01-01.yang"),
        revisioned("2020-01-01", "old"),
    )
    .unwrap();
    let missing = "module imp {\n  namespace \"urn:imp\";\n  prefix i;\n  \
                   import dated { prefix dt; revision-date 1999-01-01; }\n}\n";
    let errs = compile_with(
        SchemaBuilder::new().without_embedded().search_dir(&dir),
        &[("imp.yang", missing)],
    )
    .map(|_| ())
    .unwrap_err();
    let e = error_at(&errs, "import dated");
    assert_eq!((e.file.as_str(), e.line), ("imp.yang", 4));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_of_a_given_source_checks_the_revision_date() {
    let dated = revisioned("2020-01-01", "old");
    let text = r#"module imp {
  namespace "urn:imp";
  prefix i;
  import dated { prefix dt; revision-date 1999-01-01; }
}
"#;
    let errs = errors_of(&[("dated.yang", &dated), ("imp.yang", text)]);
    let e = error_at(&errs, "import dated");
    assert_eq!(e.line, 4);
}

#[test]
fn an_imported_module_without_data_is_not_implemented() {
    let dir = temp_dir("implemented");
    std::fs::write(dir.join("lib.yang"), LIB).unwrap();
    let text = r#"module user {
  namespace "urn:user";
  prefix u;
  import lib { prefix l; }
  container c { uses l:endpoint; }
}
"#;
    let s = compile_with(
        SchemaBuilder::new().without_embedded().search_dir(&dir),
        &[("user.yang", text)],
    )
    .unwrap_or_else(|e| panic!("{}", show(&e)));
    assert!(!s.module(module_id(&s, "lib")).implemented);
    assert!(s.module(module_id(&s, "user")).implemented);
    // Top-level data of a module that is only imported is not in the data tree.
    assert_eq!(names(&s, &s.top_data_nodes()), vec!["c"]);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- 4. compile errors ----------------------------------------------------------------------

#[test]
fn error_unknown_type() {
    let e = t_error(
        "  container c {\n    leaf x { type foo; }\n  }",
        "type foo",
        "type foo",
    );
    assert!(e.message.contains("type 'foo' not found"), "{e}");
    assert_eq!(
        e.to_string(),
        format!("t.yang:{}: error: type foo: {}", e.line, e.message)
    );
}

#[test]
fn error_unknown_grouping() {
    let e = t_error(
        "  container c {\n    uses nope;\n  }",
        "uses nope",
        "uses nope",
    );
    assert!(e.message.contains("grouping not found"), "{e}");
}

#[test]
fn error_unknown_prefix() {
    let e = t_error("  leaf x { type zz:foo; }", "type zz:foo", "type zz:foo");
    assert!(e.message.contains("unknown prefix 'zz'"), "{e}");
    let e = t_error("  container c { uses zz:g; }", "uses zz:g", "uses zz:g");
    assert!(e.message.contains("unknown prefix 'zz'"), "{e}");
    let e = t_error(
        "  augment /zz:c { leaf y { type string; } }",
        "augment /zz:c",
        "augment",
    );
    assert!(e.message.contains("not found"), "{e}");
}

#[test]
fn error_augment_target_not_found() {
    let e = t_error(
        "  container c;\n  augment /t:c/t:nope {\n    leaf y { type string; }\n  }",
        "augment /t:c/t:nope",
        "augment",
    );
    assert!(e.message.contains("augment target node not found"), "{e}");
}

#[test]
fn error_leafref_path_not_found() {
    let e = t_error(
        "  container c {\n    leaf r { type leafref { path \"../missing\"; } }\n  }",
        "leaf r",
        "leaf r",
    );
    assert!(e.message.contains("leafref path '../missing'"), "{e}");
}

#[test]
fn error_missing_key_leaf() {
    let e = t_error(
        "  list l {\n    key \"id name\";\n    leaf id { type string; }\n  }",
        "list l",
        "list l",
    );
    assert!(e.message.contains("key leaf 'name' not found"), "{e}");
}

#[test]
fn error_bad_range() {
    let e = t_error(
        "  leaf x {\n    type int8 { range \"1..300\"; }\n  }",
        "range 1..300",
        "range",
    );
    assert!(e.message.contains("not within"), "{e}");
    let e = t_error(
        "  leaf x {\n    type int8 { range \"10..1\"; }\n  }",
        "range 10..1",
        "range",
    );
    assert!(e.message.contains("empty"), "{e}");
    let e = t_error(
        "  leaf x {\n    type int8 { range \"one..2\"; }\n  }",
        "range one..2",
        "range",
    );
    assert!(e.message.contains("bad range bound 'one'"), "{e}");
    let e = t_error(
        "  leaf x {\n    type string { range \"1..2\"; }\n  }",
        "range 1..2",
        "range",
    );
    assert!(e.message.contains("range on type string"), "{e}");
}

#[test]
fn error_invalid_pattern() {
    let e = t_error(
        "  leaf x {\n    type string { pattern '[a-'; }\n  }",
        "pattern [a-",
        "pattern",
    );
    assert!(e.message.contains("invalid pattern"), "{e}");
    // XSD has no lookahead.
    let e = t_error(
        "  leaf x {\n    type string { pattern '(?=a)a'; }\n  }",
        "pattern (?=a)a",
        "pattern",
    );
    assert!(e.message.contains("invalid pattern"), "{e}");
}

#[test]
fn error_bad_default_value() {
    let e = t_error(
        "  container c {\n    leaf x { type uint8; default 300; }\n  }",
        "leaf x",
        "leaf x",
    );
    assert!(e.message.contains("default '300' is invalid"), "{e}");
    assert!(e.message.contains("out of the range of uint8"), "{e}");
    let e = t_error(
        "  leaf-list ll {\n    type boolean;\n    default true;\n    default maybe;\n  }",
        "leaf-list ll",
        "leaf-list ll",
    );
    assert!(e.message.contains("default 'maybe' is invalid"), "{e}");
    let e = t_error(
        "  typedef bad { type string { length 2; } default abc; }\n  leaf x { type bad; }",
        "leaf x",
        "leaf x",
    );
    assert!(e.message.contains("default 'abc' is invalid"), "{e}");
}

#[test]
fn error_unknown_statement_keyword() {
    let e = t_error(
        "  container c {\n    leaf x { type string; colour red; }\n  }",
        "colour red",
        "colour",
    );
    assert!(e.message.contains("unknown statement 'colour'"), "{e}");
    let e = t_error("  frobnicate everything;", "frobnicate everything", "frob");
    assert!(e.message.contains("unknown statement 'frobnicate'"), "{e}");
    // In a grouping and in an augment.
    let e = t_error(
        "  grouping g {\n    laef x { type string; }\n  }\n  container c { uses g; }",
        "laef x",
        "laef",
    );
    assert!(e.message.contains("unknown statement 'laef'"), "{e}");
    let e = t_error(
        "  container c;\n  augment /t:c {\n    contianer d;\n  }",
        "contianer d",
        "contianer",
    );
    assert!(e.message.contains("unknown statement 'contianer'"), "{e}");
    // A misspelt restriction inside a type.
    let e = t_error(
        "  leaf x {\n    type string { lenght 5; }\n  }",
        "lenght 5",
        "lenght",
    );
    assert!(e.message.contains("unknown statement 'lenght'"), "{e}");
}

#[test]
fn error_yang_syntax() {
    let text = "module t {\n  namespace \"urn:t\";\n  prefix t;\n  leaf x { type string }\n}\n";
    let errs = errors_of(&[("t.yang", text)]);
    assert_eq!(errs.len(), 1, "{}", show(&errs));
    let e = &errs[0];
    assert_eq!(e.file, "t.yang");
    assert_eq!(e.line, 4, "{e}");
    assert_eq!(e.statement, "");
    assert!(!e.message.is_empty());
    assert_eq!(e.to_string(), format!("t.yang:4: error: {}", e.message));

    let unclosed = "module t {\n  namespace \"urn:t\";\n  prefix t;\n  container c {\n";
    let errs = errors_of(&[("t.yang", unclosed)]);
    assert_eq!(errs[0].file, "t.yang");
    assert!(errs[0].line >= 4, "{}", errs[0]);

    let unterminated = "module t {\n  namespace \"urn:t\";\n  prefix \"t;\n}\n";
    let errs = errors_of(&[("t.yang", unterminated)]);
    assert_eq!(errs[0].file, "t.yang");
    assert!(errs[0].line >= 3, "{}", errs[0]);
}

#[test]
fn error_missing_imported_module() {
    let text = module_t("  import nosuch { prefix n; }\n  leaf x { type n:thing; }");
    let errs = errors_of(&[("t.yang", &text)]);
    let e = error_at(&errs, "import nosuch");
    assert_eq!(e.file, "t.yang");
    assert_eq!(e.line, line_of(&text, "import nosuch"));
    assert!(e.message.contains("module 'nosuch' not found"), "{e}");
    let text = "submodule s {\n  belongs-to nowhere { prefix n; }\n}\n";
    let errs = errors_of(&[("s.yang", text)]);
    let e = error_at(&errs, "belongs-to nowhere");
    assert_eq!((e.file.as_str(), e.line), ("s.yang", 2));
}

#[test]
fn several_errors_are_reported_together() {
    let text = module_t(
        "  leaf a { type nope; }\n  leaf b { type uint8; default 999; }\n  container c { uses missing; }",
    );
    let errs = errors_of(&[("t.yang", &text)]);
    let lines: Vec<u32> = ["type nope", "leaf b", "uses missing"]
        .iter()
        .map(|st| error_at(&errs, st).line)
        .collect();
    assert_eq!(
        lines,
        vec![
            line_of(&text, "leaf a"),
            line_of(&text, "leaf b"),
            line_of(&text, "container c")
        ]
    );
}
