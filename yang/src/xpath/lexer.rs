//! Tokenizer for XPath 1.0 expressions (XPath 1.0 §3.7).
//!
//! The whole input is tokenized up front. The disambiguation rules of §3.7
//! are applied using the previous token:
//!
//! * after a token that ends an operand, `*` is the multiply operator and an
//!   NCName must be one of the operator names `and`, `or`, `mod`, `div`;
//! * an NCName or QName followed by `(` is a node type or function name;
//! * an NCName followed by `::` is an axis name;
//! * anything else is a name test.

use super::ast::Axis;
use super::{ErrorKind, XPathError};

/// The four node-type tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeType {
    Node,
    Text,
    Comment,
    ProcessingInstruction,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    ColonColon,
    Slash,
    DoubleSlash,
    Pipe,
    Plus,
    Minus,
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    /// `*` as the multiply operator.
    Multiply,
    And,
    Or,
    Mod,
    Div,
    /// `*` as a name test.
    Star,
    /// `prefix:*`
    NsStar(String),
    /// `prefix:local` or `local`
    Name(Option<String>, String),
    NodeType(NodeType),
    /// A (possibly prefixed) function name, as written.
    FunctionName(String),
    AxisName(Axis),
    Literal(String),
    Number(f64),
    /// `$name`, the name as written.
    Variable(String),
    End,
}

impl Tok {
    /// Human-readable description for error messages.
    pub(crate) fn describe(&self) -> String {
        let s = match self {
            Tok::LParen => "'('",
            Tok::RParen => "')'",
            Tok::LBracket => "'['",
            Tok::RBracket => "']'",
            Tok::Dot => "'.'",
            Tok::DotDot => "'..'",
            Tok::At => "'@'",
            Tok::Comma => "','",
            Tok::ColonColon => "'::'",
            Tok::Slash => "'/'",
            Tok::DoubleSlash => "'//'",
            Tok::Pipe => "'|'",
            Tok::Plus => "'+'",
            Tok::Minus => "'-'",
            Tok::Eq => "'='",
            Tok::Neq => "'!='",
            Tok::Lt => "'<'",
            Tok::Le => "'<='",
            Tok::Gt => "'>'",
            Tok::Ge => "'>='",
            Tok::Multiply => "operator '*'",
            Tok::And => "operator 'and'",
            Tok::Or => "operator 'or'",
            Tok::Mod => "operator 'mod'",
            Tok::Div => "operator 'div'",
            Tok::Star => "name test '*'",
            Tok::NsStar(p) => return format!("name test '{p}:*'"),
            Tok::Name(Some(p), l) => return format!("name '{p}:{l}'"),
            Tok::Name(None, l) => return format!("name '{l}'"),
            Tok::NodeType(_) => "node type test",
            Tok::FunctionName(n) => return format!("function name '{n}'"),
            Tok::AxisName(a) => return format!("axis '{}'", a.name()),
            Tok::Literal(_) => "string literal",
            Tok::Number(_) => "number",
            Tok::Variable(v) => return format!("variable '${v}'"),
            Tok::End => "end of expression",
        };
        s.to_string()
    }

    /// True for the tokens listed as "Operator" in XPath 1.0 §3.7.
    fn is_operator(&self) -> bool {
        matches!(
            self,
            Tok::Slash
                | Tok::DoubleSlash
                | Tok::Pipe
                | Tok::Plus
                | Tok::Minus
                | Tok::Eq
                | Tok::Neq
                | Tok::Lt
                | Tok::Le
                | Tok::Gt
                | Tok::Ge
                | Tok::Multiply
                | Tok::And
                | Tok::Or
                | Tok::Mod
                | Tok::Div
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset of the token's first character.
    pub pos: usize,
}

/// XPath `ExprWhitespace` (XML `S`).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c == '-' || c == '.' || c == '\u{B7}' || c.is_alphanumeric()
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
}

/// Split `src` into tokens; the last token is always [`Tok::End`]. On a
/// lexical error, the tokens before it are returned (ending with `End` at
/// the error position) together with the error, so that the parser can
/// report an earlier syntax error first.
pub(crate) fn tokenize(src: &str) -> (Vec<Token>, Option<XPathError>) {
    let mut lx = Lexer {
        src,
        pos: 0,
        tokens: Vec::new(),
    };
    match lx.run() {
        Ok(()) => (lx.tokens, None),
        Err(e) => {
            lx.push(Tok::End, e.position);
            (lx.tokens, Some(e))
        }
    }
}

fn syntax(pos: usize, msg: impl Into<String>) -> XPathError {
    XPathError::new(ErrorKind::Syntax, pos, msg)
}

impl<'a> Lexer<'a> {
    fn peek_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|s| s.chars().next())
    }

    fn peek(&self) -> Option<char> {
        self.peek_at(self.pos)
    }

    /// Position of the first non-whitespace character at or after `pos`.
    fn skip_space_from(&self, mut pos: usize) -> usize {
        while let Some(c) = self.peek_at(pos) {
            if is_xml_space(c) {
                pos += c.len_utf8();
            } else {
                break;
            }
        }
        pos
    }

    /// End of the NCName starting at `pos` (which must be a name start char).
    fn ncname_end(&self, mut pos: usize) -> usize {
        while let Some(c) = self.peek_at(pos) {
            if is_name_char(c) {
                pos += c.len_utf8();
            } else {
                break;
            }
        }
        pos
    }

    /// Whether the previous token ends an operand, so that `*` and NCNames
    /// must be read as operators (XPath 1.0 §3.7, first rule).
    fn operator_expected(&self) -> bool {
        match self.tokens.last() {
            None => false,
            Some(t) => {
                !(t.tok.is_operator()
                    || matches!(
                        t.tok,
                        Tok::At | Tok::ColonColon | Tok::LParen | Tok::LBracket | Tok::Comma
                    ))
            }
        }
    }

    fn push(&mut self, tok: Tok, pos: usize) {
        self.tokens.push(Token { tok, pos });
    }

    fn run(&mut self) -> Result<(), XPathError> {
        loop {
            self.pos = self.skip_space_from(self.pos);
            let start = self.pos;
            let Some(c) = self.peek() else {
                self.push(Tok::End, start);
                return Ok(());
            };
            let next = self.peek_at(start + c.len_utf8());
            let (tok, len) = match c {
                '(' => (Tok::LParen, 1),
                ')' => (Tok::RParen, 1),
                '[' => (Tok::LBracket, 1),
                ']' => (Tok::RBracket, 1),
                '@' => (Tok::At, 1),
                ',' => (Tok::Comma, 1),
                '|' => (Tok::Pipe, 1),
                '+' => (Tok::Plus, 1),
                '-' => (Tok::Minus, 1),
                '=' => (Tok::Eq, 1),
                '/' if next == Some('/') => (Tok::DoubleSlash, 2),
                '/' => (Tok::Slash, 1),
                '!' if next == Some('=') => (Tok::Neq, 2),
                '!' => return Err(syntax(start, "'!' must be followed by '='")),
                '<' if next == Some('=') => (Tok::Le, 2),
                '<' => (Tok::Lt, 1),
                '>' if next == Some('=') => (Tok::Ge, 2),
                '>' => (Tok::Gt, 1),
                ':' if next == Some(':') => (Tok::ColonColon, 2),
                ':' => return Err(syntax(start, "unexpected ':'")),
                '*' if self.operator_expected() => (Tok::Multiply, 1),
                '*' => (Tok::Star, 1),
                '.' if next.is_some_and(|d| d.is_ascii_digit()) => {
                    self.number()?;
                    continue;
                }
                '.' if next == Some('.') => (Tok::DotDot, 2),
                '.' => (Tok::Dot, 1),
                '0'..='9' => {
                    self.number()?;
                    continue;
                }
                '"' | '\'' => {
                    self.literal(c)?;
                    continue;
                }
                '$' => {
                    self.variable()?;
                    continue;
                }
                c if is_name_start(c) => {
                    self.name()?;
                    continue;
                }
                c => return Err(syntax(start, format!("unexpected character {c:?}"))),
            };
            self.push(tok, start);
            self.pos = start + len;
        }
    }

    fn number(&mut self) -> Result<(), XPathError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut end = start;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        if end < bytes.len() && bytes[end] == b'.' {
            end += 1;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
        }
        let text = &self.src[start..end];
        let value: f64 = text
            .parse()
            .map_err(|_| syntax(start, format!("invalid number {text:?}")))?;
        self.push(Tok::Number(value), start);
        self.pos = end;
        Ok(())
    }

    fn literal(&mut self, quote: char) -> Result<(), XPathError> {
        let start = self.pos;
        let body = start + 1;
        match self.src[body..].find(quote) {
            Some(len) => {
                let text = self.src[body..body + len].to_string();
                self.push(Tok::Literal(text), start);
                self.pos = body + len + 1;
                Ok(())
            }
            None => Err(syntax(start, "unterminated string literal")),
        }
    }

    /// Read a QName starting at `pos`; returns (prefix, local, end).
    fn qname(&self, pos: usize) -> Result<(Option<String>, String, usize), XPathError> {
        let e1 = self.ncname_end(pos);
        let first = self.src[pos..e1].to_string();
        if self.peek_at(e1) == Some(':') && self.peek_at(e1 + 1).is_some_and(is_name_start) {
            let e2 = self.ncname_end(e1 + 1);
            return Ok((Some(first), self.src[e1 + 1..e2].to_string(), e2));
        }
        Ok((None, first, e1))
    }

    fn variable(&mut self) -> Result<(), XPathError> {
        let start = self.pos;
        if !self.peek_at(start + 1).is_some_and(is_name_start) {
            return Err(syntax(start, "expected a variable name after '$'"));
        }
        let (prefix, local, end) = self.qname(start + 1)?;
        let name = match prefix {
            Some(p) => format!("{p}:{local}"),
            None => local,
        };
        self.push(Tok::Variable(name), start);
        self.pos = end;
        Ok(())
    }

    fn name(&mut self) -> Result<(), XPathError> {
        let start = self.pos;
        let e1 = self.ncname_end(start);
        let ncname = &self.src[start..e1];

        // Rule 1: after an operand, an NCName is an operator name.
        if self.operator_expected() {
            let tok = match ncname {
                "and" => Tok::And,
                "or" => Tok::Or,
                "mod" => Tok::Mod,
                "div" => Tok::Div,
                _ => {
                    return Err(syntax(
                        start,
                        format!("expected an operator, found name {ncname:?}"),
                    ));
                }
            };
            self.push(tok, start);
            self.pos = e1;
            return Ok(());
        }

        // NCName immediately followed by ':'.
        if self.peek_at(e1) == Some(':') {
            match self.peek_at(e1 + 1) {
                Some(':') => {
                    // axis name directly followed by '::'
                    return self.axis(ncname, start, e1);
                }
                Some('*') => {
                    self.push(Tok::NsStar(ncname.to_string()), start);
                    self.pos = e1 + 2;
                    return Ok(());
                }
                Some(c) if is_name_start(c) => {
                    let (prefix, local, end) = self.qname(start)?;
                    let after = self.skip_space_from(end);
                    let tok = if self.peek_at(after) == Some('(') {
                        Tok::FunctionName(format!("{}:{local}", prefix.unwrap_or_default()))
                    } else {
                        Tok::Name(prefix, local)
                    };
                    self.push(tok, start);
                    self.pos = end;
                    return Ok(());
                }
                _ => {
                    return Err(syntax(
                        e1,
                        "':' in a name must be followed by a local name or '*'",
                    ));
                }
            }
        }

        let after = self.skip_space_from(e1);
        let tok = match (self.peek_at(after), self.peek_at(after + 1)) {
            (Some('('), _) => match ncname {
                "node" => Tok::NodeType(NodeType::Node),
                "text" => Tok::NodeType(NodeType::Text),
                "comment" => Tok::NodeType(NodeType::Comment),
                "processing-instruction" => Tok::NodeType(NodeType::ProcessingInstruction),
                _ => Tok::FunctionName(ncname.to_string()),
            },
            (Some(':'), Some(':')) => return self.axis(ncname, start, e1),
            _ => Tok::Name(None, ncname.to_string()),
        };
        self.push(tok, start);
        self.pos = e1;
        Ok(())
    }

    fn axis(&mut self, name: &str, start: usize, end: usize) -> Result<(), XPathError> {
        match Axis::from_name(name) {
            Some(axis) => {
                self.push(Tok::AxisName(axis), start);
                self.pos = end;
                Ok(())
            }
            None => Err(syntax(start, format!("unknown axis {name:?}"))),
        }
    }
}
