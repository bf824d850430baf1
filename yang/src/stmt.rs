//! YANG source text -> generic statement tree (RFC 7950 §6).
//!
//! The compiler works on this generic form (keyword, argument, substatements, line), which keeps
//! source positions for error messages and treats extension statements like any other statement.

use std::fmt;

/// One YANG statement: `keyword [argument] (";" | "{" substatements "}")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// The keyword as written; extension keywords keep their prefix (`md:annotation`).
    pub keyword: String,
    /// The argument after quoting, escapes and concatenation are resolved.
    pub arg: Option<String>,
    /// 1-based line of the keyword.
    pub line: u32,
    pub substmts: Vec<Stmt>,
}

impl Stmt {
    /// The argument, or "" when the statement has none.
    pub fn arg(&self) -> &str {
        self.arg.as_deref().unwrap_or("")
    }

    /// Is this an extension (prefixed) statement?
    pub fn is_extension(&self) -> bool {
        self.keyword.contains(':')
    }

    /// First substatement with the given keyword.
    pub fn find(&self, keyword: &str) -> Option<&Stmt> {
        self.substmts.iter().find(|s| s.keyword == keyword)
    }

    /// Argument of the first substatement with the given keyword.
    pub fn find_arg(&self, keyword: &str) -> Option<&str> {
        self.find(keyword).map(Stmt::arg)
    }

    /// All substatements with the given keyword.
    pub fn all<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a Stmt> + 'a {
        self.substmts.iter().filter(move |s| s.keyword == keyword)
    }
}

/// A syntax error in YANG source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Parse one YANG file: exactly one top-level `module` or `submodule` statement.
pub fn parse(text: &str) -> Result<Stmt, SyntaxError> {
    let mut p = Parser {
        src: text.as_bytes(),
        text,
        pos: 0,
        line: 1,
        line_start: 0,
    };
    p.skip_bom();
    p.skip_space()?;
    let top = p.statement(0)?;
    p.skip_space()?;
    if p.pos < p.src.len() {
        return Err(p.err("unexpected text after the end of the module"));
    }
    if top.keyword != "module" && top.keyword != "submodule" {
        return Err(SyntaxError {
            line: top.line,
            message: format!("expected 'module' or 'submodule', found '{}'", top.keyword),
        });
    }
    Ok(top)
}

/// Nesting deeper than this is refused rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 256;

struct Parser<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    line: u32,
    line_start: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: message.into(),
        }
    }

    fn skip_bom(&mut self) {
        if self.src.starts_with(&[0xef, 0xbb, 0xbf]) {
            self.pos = 3;
            self.line_start = 3;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn newline(&mut self) {
        self.line += 1;
        self.line_start = self.pos + 1;
    }

    /// Skip whitespace and comments.
    fn skip_space(&mut self) -> Result<(), SyntaxError> {
        while let Some(c) = self.peek() {
            match c {
                b'\n' => {
                    self.newline();
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'/' if self.src.get(self.pos + 1) == Some(&b'/') => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                b'/' if self.src.get(self.pos + 1) == Some(&b'*') => {
                    let start_line = self.line;
                    self.pos += 2;
                    loop {
                        match self.peek() {
                            None => {
                                return Err(SyntaxError {
                                    line: start_line,
                                    message: "unterminated comment".into(),
                                })
                            }
                            Some(b'*') if self.src.get(self.pos + 1) == Some(&b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(b'\n') => {
                                self.newline();
                                self.pos += 1;
                            }
                            Some(_) => self.pos += 1,
                        }
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn statement(&mut self, depth: usize) -> Result<Stmt, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err("statements nested too deeply"));
        }
        let line = self.line;
        let keyword = self.keyword()?;
        self.skip_space()?;
        let arg = match self.peek() {
            Some(b';') | Some(b'{') => None,
            None => return Err(self.err(format!("unexpected end of input after '{keyword}'"))),
            Some(_) => Some(self.argument()?),
        };
        self.skip_space()?;
        let mut substmts = Vec::new();
        match self.peek() {
            Some(b';') => self.pos += 1,
            Some(b'{') => {
                self.pos += 1;
                loop {
                    self.skip_space()?;
                    match self.peek() {
                        Some(b'}') => {
                            self.pos += 1;
                            break;
                        }
                        None => {
                            return Err(SyntaxError {
                                line,
                                message: format!("'{keyword}' block is not closed"),
                            })
                        }
                        Some(_) => substmts.push(self.statement(depth + 1)?),
                    }
                }
            }
            _ => return Err(self.err(format!("expected ';' or '{{' after '{keyword}'"))),
        }
        Ok(Stmt {
            keyword,
            arg,
            line,
            substmts,
        })
    }

    /// keyword = identifier | prefix ":" identifier
    fn keyword(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':') {
                self.pos += 1;
            } else {
                break;
            }
        }
        if start == self.pos {
            let found = self.text[self.pos..].chars().next().unwrap_or(' ');
            return Err(self.err(format!("expected a keyword, found '{found}'")));
        }
        let kw = &self.text[start..self.pos];
        if !kw.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return Err(self.err(format!("invalid keyword '{kw}'")));
        }
        Ok(kw.to_string())
    }

    /// An unquoted string, or quoted strings joined with `+`.
    fn argument(&mut self) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(b'"') | Some(b'\'') => {
                let mut out = self.quoted()?;
                loop {
                    let save = (self.pos, self.line, self.line_start);
                    self.skip_space()?;
                    if self.peek() == Some(b'+') {
                        self.pos += 1;
                        self.skip_space()?;
                        match self.peek() {
                            Some(b'"') | Some(b'\'') => out.push_str(&self.quoted()?),
                            _ => return Err(self.err("expected a quoted string after '+'")),
                        }
                    } else {
                        (self.pos, self.line, self.line_start) = save;
                        return Ok(out);
                    }
                }
            }
            _ => self.unquoted(),
        }
    }

    fn unquoted(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' | b'}' | b'"' | b'\'' => break,
                b'/' if matches!(self.src.get(self.pos + 1), Some(b'/') | Some(b'*')) => break,
                b'*' if self.src.get(self.pos + 1) == Some(&b'/') => {
                    return Err(self.err("'*/' in an unquoted string"))
                }
                _ => self.pos += 1,
            }
        }
        if start == self.pos {
            return Err(self.err("expected an argument"));
        }
        Ok(self.text[start..self.pos].to_string())
    }

    fn quoted(&mut self) -> Result<String, SyntaxError> {
        let quote = self.src[self.pos];
        let start_line = self.line;
        // Column of the opening quote, counting a tab as 8 columns (RFC 7950 §6.1.3).
        let quote_col = column(&self.text[self.line_start..self.pos]);
        self.pos += 1;
        let mut out = String::new();
        if quote == b'\'' {
            let start = self.pos;
            loop {
                match self.peek() {
                    None => {
                        return Err(SyntaxError {
                            line: start_line,
                            message: "unterminated single-quoted string".into(),
                        })
                    }
                    Some(b'\'') => break,
                    Some(b'\n') => {
                        self.newline();
                        self.pos += 1;
                    }
                    Some(_) => self.pos += 1,
                }
            }
            out.push_str(&self.text[start..self.pos]);
            self.pos += 1;
            return Ok(out);
        }
        // Double-quoted: escapes, trailing whitespace before a line break removed, and leading
        // whitespace of continuation lines removed up to the column after the opening quote.
        let mut line_buf = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(SyntaxError {
                    line: start_line,
                    message: "unterminated double-quoted string".into(),
                });
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    out.push_str(&line_buf);
                    return Ok(out);
                }
                b'\\' => {
                    let esc = self.src.get(self.pos + 1).copied();
                    let ch = match esc {
                        Some(b'n') => '\n',
                        Some(b't') => '\t',
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        _ => return Err(self.err(
                            "invalid escape in double-quoted string (allowed: \\n \\t \\\" \\\\)",
                        )),
                    };
                    line_buf.push(ch);
                    self.pos += 2;
                }
                b'\n' => {
                    let trimmed = line_buf.trim_end_matches([' ', '\t', '\r']);
                    out.push_str(trimmed);
                    out.push('\n');
                    line_buf.clear();
                    self.newline();
                    self.pos += 1;
                    self.skip_indent(quote_col + 1);
                }
                _ => {
                    let ch_len = utf8_len(c);
                    let end = (self.pos + ch_len).min(self.src.len());
                    line_buf.push_str(&self.text[self.pos..end]);
                    self.pos = end;
                }
            }
        }
    }

    /// Skip up to `cols` columns of leading whitespace on a continuation line.
    fn skip_indent(&mut self, cols: usize) {
        let mut col = 0;
        while col < cols {
            match self.peek() {
                Some(b' ') => {
                    col += 1;
                    self.pos += 1;
                }
                Some(b'\t') => {
                    let next = (col / 8 + 1) * 8;
                    if next > cols {
                        break;
                    }
                    col = next;
                    self.pos += 1;
                }
                _ => break,
            }
        }
    }
}

fn column(s: &str) -> usize {
    s.chars().fold(0, |col, c| {
        if c == '\t' {
            (col / 8 + 1) * 8
        } else {
            col + 1
        }
    })
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_statements_with_lines() {
        let m =
            parse("module m {\n  namespace \"urn:m\";\n  leaf a { type string; }\n}\n").unwrap();
        assert_eq!(m.keyword, "module");
        assert_eq!(m.arg(), "m");
        assert_eq!(m.substmts.len(), 2);
        assert_eq!(m.substmts[1].line, 3);
        assert_eq!(m.substmts[1].find_arg("type"), Some("string"));
    }

    #[test]
    fn concatenation_and_escapes() {
        let m = parse("module m { description \"a\\tb\" + 'c\\n' + \"\\\"\"; }").unwrap();
        assert_eq!(m.find_arg("description"), Some("a\tbc\\n\""));
    }

    #[test]
    fn double_quoted_indentation_is_trimmed() {
        let src =
            "module m {\n  description \"first   \n                line two\n     short\";\n}";
        let m = parse(src).unwrap();
        assert_eq!(m.find_arg("description"), Some("first\n line two\nshort"));
    }

    #[test]
    fn comments_are_skipped_but_not_inside_strings() {
        let m = parse("module m { // c\n /* multi\n line */ pattern '/* x */'; }").unwrap();
        assert_eq!(m.find_arg("pattern"), Some("/* x */"));
        assert_eq!(m.substmts[0].line, 3);
    }

    #[test]
    fn extensions_keep_prefix() {
        let m = parse("module m { ext:thing \"x\" { ext:sub; } }").unwrap();
        assert!(m.substmts[0].is_extension());
        assert_eq!(m.substmts[0].keyword, "ext:thing");
        assert_eq!(m.substmts[0].substmts[0].arg, None);
    }

    #[test]
    fn unquoted_argument_stops_at_comment() {
        let m = parse("module m { prefix p// c\n; }").unwrap();
        assert_eq!(m.find_arg("prefix"), Some("p"));
    }

    #[test]
    fn errors_carry_lines() {
        let e = parse("module m {\n leaf a {\n").unwrap_err();
        assert!(e.message.contains("not closed"), "{e}");
        let e = parse("module m {\n  description \"bad \\q\";\n}").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("module m { } extra").unwrap_err();
        assert!(e.message.contains("after the end"));
        assert!(parse("container c;").is_err());
        assert!(parse("module m { description 'open ").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn never_panics_on_truncations() {
        let src = "module m { leaf \"a\" + 'b' { type string { pattern \"[a-z]*\"; } } /* c */ }";
        for end in 0..src.len() {
            let _ = parse(&src[..end]);
        }
        let _ = parse("module m { description \"\u{e9}\u{1F600}\n  x\"; }").unwrap();
    }
}
