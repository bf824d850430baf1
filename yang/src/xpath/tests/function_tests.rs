//! Tests of every library function, including edge cases.

use super::{Fixture, AXES};
use crate::xpath::{number_to_string, string_to_number};

fn check(f: &Fixture, cases: &[(&str, &str)]) {
    for (expr, want) in cases {
        assert_eq!(f.show(expr), *want, "{expr}");
    }
}

fn check_at(f: &Fixture, ctx: &str, cases: &[(&str, &str)]) {
    for (expr, want) in cases {
        assert_eq!(f.show_at(expr, ctx, ctx), *want, "{expr} at {ctx}");
    }
}

#[test]
fn node_set_functions() {
    let f = Fixture::new(AXES);
    check(
        &f,
        &[
            ("count(//c)", "3"),
            ("count(/none)", "0"),
            ("count(//c | //c/..)", "5"),
            ("count(id('c1'))", "0"),
            ("count(id(//c))", "0"),
            ("/a/b[last()]", "b3"),
            ("/a/b[position() = last() - 1]", "b2"),
            ("/a/b[position() != 2]", "b1 b3"),
            ("last()", "1"),
            ("position()", "1"),
            ("count(/a/b[last() = 3])", "3"),
            ("local-name(/a)", "'a'"),
            ("local-name(/a/b)", "'b'"),
            ("local-name(/none)", "''"),
            ("local-name()", "''"),
            ("local-name(/)", "''"),
            ("namespace-uri(/a)", "'urn:t'"),
            ("namespace-uri()", "''"),
            ("name(/a)", "'t:a'"),
            ("name()", "''"),
            ("name(/none)", "''"),
        ],
    );
    check_at(
        &f,
        "c2",
        &[
            ("local-name()", "'c'"),
            ("name()", "'t:c'"),
            ("namespace-uri()", "'urn:t'"),
            ("position()", "1"),
        ],
    );
    let g = Fixture::ifaces();
    check(
        &g,
        &[
            ("name(/if:interfaces)", "'if:interfaces'"),
            ("local-name(/if:interfaces)", "'interfaces'"),
            ("namespace-uri(/if:interfaces/*)", "'urn:if'"),
            ("name(/routing/x:extra)", "'x:extra'"),
        ],
    );
}

#[test]
fn string_functions() {
    let f = Fixture::new(AXES);
    check(
        &f,
        &[
            ("string(1)", "'1'"),
            ("string(-1.5)", "'-1.5'"),
            ("string(1 div 0)", "'Infinity'"),
            ("string(-1 div 0)", "'-Infinity'"),
            ("string(0 div 0)", "'NaN'"),
            ("string(-0)", "'0'"),
            ("string(0.1)", "'0.1'"),
            (
                "string(123456789012345678901234567890)",
                "'123456789012345680000000000000'",
            ),
            ("string(0.000001)", "'0.000001'"),
            ("string(true())", "'true'"),
            ("string(false())", "'false'"),
            ("string('abc')", "'abc'"),
            ("string(//c)", "'1'"),
            ("string()", "'1234x5'"),
            ("concat('a', 1, true(), //c)", "'a1true1'"),
            ("concat('', '')", "''"),
            ("starts-with('abc', 'ab')", "true"),
            ("starts-with('abc', '')", "true"),
            ("starts-with('abc', 'b')", "false"),
            ("contains('abc', 'bc')", "true"),
            ("contains('abc', '')", "true"),
            ("contains('abc', 'x')", "false"),
            ("contains(/a, '4x')", "true"),
            ("substring-before('1999/04/01', '/')", "'1999'"),
            ("substring-before('abc', 'x')", "''"),
            ("substring-before('abc', '')", "''"),
            ("substring-after('1999/04/01', '/')", "'04/01'"),
            ("substring-after('1999/04/01', '19')", "'99/04/01'"),
            ("substring-after('abc', 'x')", "''"),
            ("substring-after('abc', '')", "'abc'"),
            ("substring-after('héllo', 'é')", "'llo'"),
            ("substring('12345', 2, 3)", "'234'"),
            ("substring('12345', 2)", "'2345'"),
            ("substring('12345', 1.5, 2.6)", "'234'"),
            ("substring('12345', 0, 3)", "'12'"),
            ("substring('12345', 0 div 0, 3)", "''"),
            ("substring('12345', 1, 0 div 0)", "''"),
            ("substring('12345', -42, 1 div 0)", "'12345'"),
            ("substring('12345', -1 div 0, 1 div 0)", "''"),
            ("substring('12345', 1 div 0)", "''"),
            ("substring('12345', -1 div 0)", "'12345'"),
            ("substring('12345', 5, -1)", "''"),
            ("substring('12345', 6)", "''"),
            ("substring('12345', 0.5)", "'12345'"),
            ("substring('12345', 2.5, 1)", "'3'"),
            ("substring('héllo wörld', 2, 4)", "'éllo'"),
            ("substring('', 1, 1)", "''"),
            ("string-length('héllo')", "5"),
            ("string-length('')", "0"),
            ("string-length(/a)", "5"),
            ("string-length()", "6"),
            ("normalize-space('  a \t b\n\r c  ')", "'a b c'"),
            ("normalize-space('')", "''"),
            ("normalize-space('   ')", "''"),
            ("normalize-space()", "'1234x5'"),
            ("translate('bar', 'abc', 'ABC')", "'BAr'"),
            ("translate('--aaa--', 'abc-', 'ABC')", "'AAA'"),
            ("translate('abc', 'aa', 'xy')", "'xbc'"),
            ("translate('abc', '', 'xyz')", "'abc'"),
            ("translate('héllo', 'é', 'e')", "'hello'"),
        ],
    );
    check_at(
        &f,
        "c3",
        &[
            ("string()", "'3'"),
            ("string-length()", "1"),
            ("normalize-space()", "'3'"),
            ("number()", "3"),
        ],
    );
}

#[test]
fn boolean_functions() {
    let f = Fixture::new(AXES);
    check(
        &f,
        &[
            ("boolean('')", "false"),
            ("boolean('0')", "true"),
            ("boolean('false')", "true"),
            ("boolean(0)", "false"),
            ("boolean(-0)", "false"),
            ("boolean(0 div 0)", "false"),
            ("boolean(0.1)", "true"),
            ("boolean(1 div 0)", "true"),
            ("boolean(/none)", "false"),
            ("boolean(/a)", "true"),
            ("boolean(false())", "false"),
            ("not(true())", "false"),
            ("not(/none)", "true"),
            ("not('')", "true"),
            ("true()", "true"),
            ("false()", "false"),
            ("lang('en')", "false"),
        ],
    );
}

#[test]
fn number_functions() {
    let f = Fixture::new(AXES);
    check(
        &f,
        &[
            ("number(' 12 ')", "12"),
            ("number('\t-.5\n')", "-0.5"),
            ("number('1.')", "1"),
            ("number('007')", "7"),
            ("number('1e3')", "NaN"),
            ("number('+1')", "NaN"),
            ("number('')", "NaN"),
            ("number('.')", "NaN"),
            ("number('-')", "NaN"),
            ("number('- 1')", "NaN"),
            ("number('1.2.3')", "NaN"),
            ("number('0x10')", "NaN"),
            ("number('Infinity')", "NaN"),
            ("number('NaN')", "NaN"),
            ("number('1 2')", "NaN"),
            ("number(true())", "1"),
            ("number(false())", "0"),
            ("number(//c)", "1"),
            ("number(/a)", "NaN"),
            ("number(/none)", "NaN"),
            ("number()", "NaN"),
            ("sum(//c)", "6"),
            ("sum(//c | //d)", "10"),
            ("sum(/none)", "0"),
            ("sum(/a/b)", "NaN"),
            ("floor(1.5)", "1"),
            ("floor(-1.5)", "-2"),
            ("floor(2)", "2"),
            ("floor(0 div 0)", "NaN"),
            ("floor('x')", "NaN"),
            ("ceiling(1.5)", "2"),
            ("ceiling(-1.5)", "-1"),
            ("1 div ceiling(-0.5)", "-Infinity"),
            ("ceiling(1 div 0)", "Infinity"),
            ("round(2.5)", "3"),
            ("round(2.4999)", "2"),
            ("round(-2.5)", "-2"),
            ("round(-2.6)", "-3"),
            ("round(-0.5)", "0"),
            ("1 div round(-0.5)", "-Infinity"),
            ("1 div round(-0.4)", "-Infinity"),
            ("1 div round(0.4)", "Infinity"),
            ("1 div round(-0)", "-Infinity"),
            ("round(0.49999999999999994)", "0"),
            ("round(0 div 0)", "NaN"),
            ("round(1 div 0)", "Infinity"),
            ("round(-1 div 0)", "-Infinity"),
            ("round(4503599627370495.5)", "4503599627370496"),
            ("round('1.5')", "2"),
        ],
    );
}

#[test]
fn yang_functions() {
    let f = Fixture::ifaces();
    check(
        &f,
        &[
            ("re-match('abc', 'a.c')", "true"),
            ("re-match('abbbc', 'ab*c')", "true"),
            ("re-match('abd', 'a.c')", "false"),
            ("re-match(/routing/ifname, 'eth.')", "true"),
            ("re-match(1, '1')", "true"),
            ("enum-value(/routing/status)", "1"),
            ("enum-value(/routing/ifname)", "NaN"),
            ("enum-value(/nothing)", "NaN"),
            ("enum-value(/routing/*)", "NaN"),
            ("enum-value(/routing/*[4]) + 1", "2"),
            ("bit-is-set(/routing/flags, 'bold')", "true"),
            ("bit-is-set(/routing/flags, 'italic')", "true"),
            ("bit-is-set(/routing/flags, 'under')", "false"),
            ("bit-is-set(/routing/flags, '')", "false"),
            ("bit-is-set(/routing/flags, 'bold italic')", "false"),
            ("bit-is-set(/nothing, 'bold')", "false"),
            ("bit-is-set(/routing, 'bold')", "false"),
            ("count(current())", "1"),
            ("current()", "root"),
        ],
    );
    check_at(
        &f,
        "flags",
        &[
            ("bit-is-set(., 'bold')", "true"),
            (
                "bit-is-set(current(), 'italic') and not(bit-is-set(., 'x'))",
                "true",
            ),
            ("enum-value(../status) = 1", "true"),
        ],
    );
}

#[test]
fn conversions_directly() {
    let cases = [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.0, "-1"),
        (1.5, "1.5"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
        (123456.789, "123456.789"),
        (f64::MAX, &format!("{}", f64::MAX)),
    ];
    for (x, want) in cases {
        assert_eq!(number_to_string(x), want);
        assert!(!number_to_string(x).contains('e'));
    }
    assert_eq!(string_to_number("  42\n"), 42.0);
    assert_eq!(string_to_number("-0").to_bits(), (-0.0f64).to_bits());
    assert!(string_to_number("4 2").is_nan());
    assert!(string_to_number("١٢").is_nan());
    assert!(string_to_number("\u{a0}1").is_nan());
    assert_eq!(string_to_number(&"9".repeat(400)), f64::INFINITY);
}
