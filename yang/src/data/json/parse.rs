//! A strict RFC 8259 JSON reader: one value, no comments, no trailing commas, no lone
//! surrogates, nesting bounded by [`MAX_DEPTH`]. Numbers keep their text (an int64 beyond f64's
//! precision, or a decimal's trailing zeros, must reach canonicalization unchanged) and strings
//! borrow from the input unless they hold escapes. Member order and duplicates are kept: the
//! decoder decides what a repeated name means.

use std::borrow::Cow;
use std::fmt;

/// Nesting limit for incoming documents (as for XML, [`crate::xml::MAX_DEPTH`]).
pub const MAX_DEPTH: usize = 256;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// The number exactly as written (RFC 8259 §6 grammar).
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    /// Members in document order, duplicates included.
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

impl Value<'_> {
    /// How the value is named in error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Malformed JSON: where (1-based line and column, in characters) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed JSON at line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for JsonError {}

/// Parse one JSON text (a leading byte order mark is ignored, RFC 8259 §8.1).
pub fn parse(text: &str) -> Result<Value<'_>, JsonError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser {
        text: body,
        bytes: body.as_bytes(),
        pos: 0,
        depth: 0,
    };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.pos < p.bytes.len() {
        return Err(p.error("unexpected content after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, message: impl Into<String>) -> JsonError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> JsonError {
        let pos = pos.min(self.text.len());
        let before = &self.text[..floor_boundary(self.text, pos)];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rfind('\n')
            .map_or(before, |i| &before[i + 1..])
            .chars()
            .count()
            + 1;
        JsonError {
            line,
            column,
            message: message.into(),
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn unexpected(&self, wanted: &str) -> JsonError {
        match self.text[floor_boundary(self.text, self.pos)..]
            .chars()
            .next()
        {
            Some(c) => self.error(format!("expected {wanted}, found '{}'", c.escape_debug())),
            None => self.error(format!("expected {wanted}, found the end of the text")),
        }
    }

    fn value(&mut self) -> Result<Value<'a>, JsonError> {
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            _ => Err(self.unexpected("a JSON value")),
        }
    }

    fn nested(
        &mut self,
        f: fn(&mut Self) -> Result<Value<'a>, JsonError>,
    ) -> Result<Value<'a>, JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH}")));
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn literal(&mut self, word: &str, v: Value<'a>) -> Result<Value<'a>, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            let end = self.pos + word.len();
            // `truex` is not `true` followed by garbage we report later: name it here.
            if self
                .bytes
                .get(end)
                .is_some_and(|b| b.is_ascii_alphanumeric())
            {
                return Err(self.error("unknown literal (true, false and null are the literals)"));
            }
            self.pos = end;
            Ok(v)
        } else {
            Err(self.error("unknown literal (true, false and null are the literals)"))
        }
    }

    fn object(&mut self) -> Result<Value<'a>, JsonError> {
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("a member name in double quotes"));
            }
            let name = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("':' after the member name"));
            }
            self.pos += 1;
            self.ws();
            let v = self.value()?;
            members.push((name, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.unexpected("',' or '}'")),
            }
        }
    }

    fn array(&mut self) -> Result<Value<'a>, JsonError> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.unexpected("',' or ']'")),
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<Value<'a>, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(self.error("a number cannot have leading zeros"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.unexpected("a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.unexpected("a digit after the decimal point"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.unexpected("a digit in the exponent"));
            }
            self.digits();
        }
        Ok(Value::Number(&self.text[start..self.pos]))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        let open = self.pos;
        self.pos += 1; // '"'
        let start = self.pos;
        // Fast path: no escapes, borrowed.
        loop {
            match self.peek() {
                None => return Err(self.error_at(open, "unterminated string")),
                Some(b'"') => {
                    let s = &self.text[start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(b) if b < 0x20 => return Err(self.control_error(b)),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                None => return Err(self.error_at(open, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => {
                            return Err(self.error(
                                "unknown escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX are the escapes)",
                            ))
                        }
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(b) if b < 0x20 => return Err(self.control_error(b)),
                Some(_) => {
                    let run = self.pos;
                    while self
                        .peek()
                        .is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20)
                    {
                        self.pos += 1;
                    }
                    out.push_str(&self.text[run..self.pos]);
                }
            }
        }
    }

    fn control_error(&self, b: u8) -> JsonError {
        self.error(format!(
            "control character U+{b:04X} must be escaped inside a string"
        ))
    }

    /// The four hex digits after `\u` (and a low surrogate's, after a high one).
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let at = self.pos - 2;
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return Err(self.error_at(at, "a high surrogate without its low surrogate"));
                }
                self.pos += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(self.error_at(at, "a high surrogate without its low surrogate"));
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(self.error_at(at, "a low surrogate without a high surrogate"))
            }
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.error_at(at, "not a Unicode scalar value"))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let v = digits
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
            .and_then(|d| u32::from_str_radix(std::str::from_utf8(d).ok()?, 16).ok())
            .ok_or_else(|| self.error("expected four hex digits after \\u"))?;
        self.pos += 4;
        Ok(v)
    }
}

/// The largest char boundary at or before `pos`.
fn floor_boundary(s: &str, mut pos: usize) -> usize {
    while pos > 0 && !s.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value<'_> {
        Value::String(Cow::Borrowed(v))
    }

    #[test]
    fn values() {
        assert_eq!(parse(" null ").unwrap(), Value::Null);
        assert_eq!(parse("true").unwrap(), Value::Bool(true));
        assert_eq!(
            parse("[false]").unwrap(),
            Value::Array(vec![Value::Bool(false)])
        );
        for n in [
            "0",
            "-0",
            "12",
            "-1.50",
            "1e400",
            "1.5E-3",
            "123456789012345678901234567890",
        ] {
            assert_eq!(parse(n).unwrap(), Value::Number(n), "{n}");
        }
        assert_eq!(
            parse(r#"{"a":1,"a":"x","b":{}}"#).unwrap(),
            Value::Object(vec![
                ("a".into(), Value::Number("1")),
                ("a".into(), s("x")),
                ("b".into(), Value::Object(vec![])),
            ])
        );
        assert_eq!(parse("\u{feff}[]").unwrap(), Value::Array(vec![]));
    }

    #[test]
    fn strings_and_escapes() {
        assert!(matches!(
            parse(r#""plain é""#).unwrap(),
            Value::String(Cow::Borrowed("plain é"))
        ));
        assert_eq!(
            parse(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#).unwrap(),
            Value::String("a\"b\\c/d\u{8}\u{c}\n\r\té😀".to_string().into())
        );
        assert_eq!(
            parse(r#""\u0000""#).unwrap(),
            Value::String("\0".to_string().into())
        );
    }

    #[test]
    fn malformed_input_is_refused_with_a_position() {
        let cases = [
            ("", "a JSON value"),
            ("{", "member name"),
            ("{\"a\" 1}", "':'"),
            ("{\"a\":1,}", "member name"),
            ("[1,]", "a JSON value"),
            ("[1 2]", "',' or ']'"),
            ("{'a':1}", "member name"),
            ("01", "leading zeros"),
            ("1.", "decimal point"),
            ("1e", "exponent"),
            ("-", "a digit"),
            ("+1", "a JSON value"),
            ("NaN", "a JSON value"),
            ("tru", "literal"),
            ("nulls", "literal"),
            ("\"abc", "unterminated"),
            ("\"a\nb\"", "control character U+000A"),
            (r#""\x""#, "unknown escape"),
            (r#""\u12""#, "four hex digits"),
            (r#""\ud800""#, "high surrogate"),
            (r#""\ud800\u0041""#, "high surrogate"),
            (r#""\udc00""#, "low surrogate"),
            ("{} {}", "after the JSON value"),
            ("/* c */ {}", "a JSON value"),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
        let e = parse("{\n  \"a\": [1,\n   x]}").unwrap_err();
        assert_eq!((e.line, e.column), (3, 4), "{e}");
        let e = parse("[\"é\", é]").unwrap_err();
        assert_eq!((e.line, e.column), (1, 7), "{e}");
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().message.contains("nesting"));
        // Far deeper than the stack could take if recursion were unbounded.
        let hostile = "{\"a\":".repeat(100_000);
        assert!(parse(&hostile).unwrap_err().message.contains("nesting"));
    }

    #[test]
    fn truncations_never_parse_or_panic() {
        let src = r#"{"a":[1,-2.5e3,"x\u00e9\ud83d\ude00",true,null,{"b":false}]}"#;
        assert!(parse(src).is_ok());
        for cut in 0..src.len() {
            if src.is_char_boundary(cut) {
                assert!(parse(&src[..cut]).is_err(), "truncated at {cut} accepted");
            }
        }
    }
}
