//! Command syntax as VRP's manuals write it, compiled into a tree of words per view, and the
//! matching of a command line against that tree.
//!
//! A syntax line is keywords, parameters `<name>`, optional parts `[ a | b ]` and required
//! choices `{ a | b }`, e.g.
//! `vrrp vrid <vrid> track bfd-session { <bfd-discriminator> | session-name <bfd-name> }`.
//! Every expansion of a line becomes a path of the tree that ends at the command's action.
//!
//! Matching walks the tree one word at a time, so a line costs what its words cost. A keyword
//! may be abbreviated to any prefix that no other keyword at that place shares (VRP's
//! "incomplete keyword"); a word that equals a keyword is that keyword. A parameter is checked
//! by its kind (most are the type of the YANG leaf the command sets), and an error names the
//! word it found, as VRP does: unrecognized keyword, wrong parameter, incomplete command,
//! ambiguous abbreviation, too many parameters.

use std::fmt;

use super::lex::{self, Word};

/// An error as VRP prints it: a caret under a column of the command line, then the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub kind: ErrorKind,
    /// Column (characters into the command line) the caret points at; None for errors that
    /// are not about a place in the line.
    pub column: Option<usize>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Unrecognized,
    Incomplete,
    WrongParameter,
    Ambiguous,
    TooManyParameters,
    /// A refusal with its own message (the configuration it needs does not exist, ...).
    Refused,
}

impl CliError {
    pub fn at(kind: ErrorKind, column: usize) -> CliError {
        let message = match kind {
            ErrorKind::Unrecognized => "Error: Unrecognized command found at '^' position.",
            ErrorKind::Incomplete => "Error: Incomplete command found at '^' position.",
            ErrorKind::WrongParameter => "Error: Wrong parameter found at '^' position.",
            ErrorKind::Ambiguous => "Error: Ambiguous command found at '^' position.",
            ErrorKind::TooManyParameters => "Error: Too many parameters found at '^' position.",
            ErrorKind::Refused => "Error: The command cannot be executed.",
        };
        CliError {
            kind,
            column: Some(column),
            message: message.to_string(),
        }
    }

    /// An error without a caret, e.g. `Error: The BFD session does not exist.`
    pub fn refused(message: impl Into<String>) -> CliError {
        CliError {
            kind: ErrorKind::Refused,
            column: None,
            message: message.into(),
        }
    }

    /// The text to print: the caret line (indented by `indent`, the width of whatever was
    /// printed before the command line on its row, usually the prompt), then the message.
    /// Every line ends with a newline.
    pub fn render(&self, indent: usize) -> String {
        match self.column {
            Some(c) => format!("{}^\n{}\n", " ".repeat(indent + c), self.message),
            None => format!("{}\n", self.message),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Checks one parameter word and gives the value to store (canonical form), or None if the
/// word is not a valid value.
pub trait ParamCheck {
    fn check(&self, param: &str, word: &str) -> Option<String>;
    /// Does the parameter take the rest of the line (a description, a comment)?
    fn is_text(&self, param: &str) -> bool;
}

/// One parameter as matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static str,
    pub value: String,
    pub column: usize,
}

/// A matched command: its action, the keywords and parameters given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<A> {
    pub action: A,
    /// The keywords, in full, in order.
    pub keywords: Vec<&'static str>,
    pub args: Vec<Arg>,
}

impl<A> Matched<A> {
    pub fn has(&self, keyword: &str) -> bool {
        self.keywords.contains(&keyword)
    }

    pub fn arg(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|a| a.name == name)
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.arg(name).map(|a| a.value.as_str())
    }
}

/// What may come next on a line (for Tab completion and `?` help).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Next {
    Keyword(&'static str),
    /// A parameter, by its name in the command table.
    Param(&'static str),
    /// The line is a command as it is (VRP's `<cr>`).
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Keyword(&'static str),
    Param(&'static str),
}

#[derive(Debug, Clone)]
struct Node<A> {
    tok: Option<Tok>,
    children: Vec<usize>,
    action: Option<A>,
}

/// The commands of one view as a tree of words.
#[derive(Debug, Clone)]
pub struct Grammar<A> {
    nodes: Vec<Node<A>>,
}

/// A syntax line that does not parse (a mistake in the command table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(pub String);

impl<A: Clone + PartialEq + fmt::Debug> Grammar<A> {
    pub fn new() -> Grammar<A> {
        Grammar {
            nodes: vec![Node {
                tok: None,
                children: Vec::new(),
                action: None,
            }],
        }
    }

    /// Add a command given in manual syntax.
    pub fn add(&mut self, syntax: &'static str, action: A) -> Result<(), SyntaxError> {
        let toks: Vec<&'static str> = syntax.split_whitespace().collect();
        let mut pos = 0;
        let paths = parse_alternatives(&toks, &mut pos)?;
        if pos != toks.len() {
            return Err(SyntaxError(format!(
                "'{syntax}': unexpected '{}'",
                toks[pos]
            )));
        }
        for path in paths {
            if path.is_empty() {
                return Err(SyntaxError(format!("'{syntax}' can be empty")));
            }
            let mut node = 0;
            for tok in path {
                node = match self.nodes[node]
                    .children
                    .iter()
                    .copied()
                    .find(|&c| self.nodes[c].tok == Some(tok))
                {
                    Some(c) => c,
                    None => {
                        self.nodes.push(Node {
                            tok: Some(tok),
                            children: Vec::new(),
                            action: None,
                        });
                        let c = self.nodes.len() - 1;
                        self.nodes[node].children.push(c);
                        c
                    }
                };
            }
            match &self.nodes[node].action {
                Some(a) if *a != action => {
                    return Err(SyntaxError(format!(
                        "'{syntax}' ends where {a:?} already does"
                    )))
                }
                _ => self.nodes[node].action = Some(action.clone()),
            }
        }
        Ok(())
    }

    /// Every parameter name used, for checking the table against the parameter kinds.
    pub fn params(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self
            .nodes
            .iter()
            .filter_map(|n| match n.tok {
                Some(Tok::Param(p)) => Some(p),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every keyword used, for checking that each has its `?` help.
    pub fn keywords(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self
            .nodes
            .iter()
            .filter_map(|n| match n.tok {
                Some(Tok::Keyword(k)) => Some(k),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Match a command line. `words` are the line's words; `line` is the line itself (a text
    /// parameter takes the rest of it).
    pub fn matches(
        &self,
        line: &str,
        words: &[Word<'_>],
        check: &dyn ParamCheck,
    ) -> Result<Matched<A>, CliError> {
        let mut node = 0;
        let mut keywords = Vec::new();
        let mut args = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            let children = &self.nodes[node].children;
            if children.is_empty() {
                return Err(CliError::at(ErrorKind::TooManyParameters, w.column));
            }
            if let Some((c, k)) = self.keyword(children, w)? {
                keywords.push(k);
                node = c;
                i += 1;
                continue;
            }
            let mut has_param = false;
            let mut found = None;
            for &c in children {
                let Some(Tok::Param(p)) = self.nodes[c].tok else {
                    continue;
                };
                has_param = true;
                if check.is_text(p) {
                    let text = line[w.offset..].trim_end_matches(lex::is_blank);
                    if let Some(v) = check.check(p, text) {
                        found = Some((c, p, v, words.len()));
                        break;
                    }
                } else if let Some(v) = check.check(p, w.text) {
                    found = Some((c, p, v, i + 1));
                    break;
                }
            }
            match found {
                Some((c, name, value, next)) => {
                    args.push(Arg {
                        name,
                        value,
                        column: w.column,
                    });
                    node = c;
                    i = next;
                }
                None if has_param => return Err(CliError::at(ErrorKind::WrongParameter, w.column)),
                None => return Err(CliError::at(ErrorKind::Unrecognized, w.column)),
            }
        }
        match &self.nodes[node].action {
            Some(action) => Ok(Matched {
                action: action.clone(),
                keywords,
                args,
            }),
            None => Err(CliError::at(ErrorKind::Incomplete, lex::end_column(line))),
        }
    }

    /// What may come after a line's `words` (Tab and `?`): when `partial`, what the last of
    /// them may be (keywords it abbreviates, parameters it fits); otherwise what may follow
    /// them, with [`Next::End`] where the line is a command already. Empty when the words
    /// before that are no command's.
    pub fn next(&self, words: &[Word<'_>], partial: bool, check: &dyn ParamCheck) -> Vec<Next> {
        let (done, last) = match (partial, words.split_last()) {
            (true, Some((last, done))) => (done, Some(last)),
            _ => (words, None),
        };
        let mut node = 0;
        for w in done {
            let children = &self.nodes[node].children;
            match self.keyword(children, w) {
                Ok(Some((c, _))) => {
                    node = c;
                    continue;
                }
                Ok(None) => {}
                Err(_) => return Vec::new(),
            }
            let param = children.iter().copied().find(|&c| match self.nodes[c].tok {
                // A text parameter takes the rest of the line: nothing more to offer.
                Some(Tok::Param(p)) => !check.is_text(p) && check.check(p, w.text).is_some(),
                _ => false,
            });
            match param {
                Some(c) => node = c,
                None => return Vec::new(),
            }
        }
        let mut out = Vec::new();
        for &c in &self.nodes[node].children {
            match (self.nodes[c].tok, last) {
                (Some(Tok::Keyword(k)), None) => out.push(Next::Keyword(k)),
                (Some(Tok::Keyword(k)), Some(w)) => {
                    if !w.quoted
                        && k.len() >= w.text.len()
                        && k.as_bytes()[..w.text.len()].eq_ignore_ascii_case(w.text.as_bytes())
                    {
                        out.push(Next::Keyword(k));
                    }
                }
                (Some(Tok::Param(p)), None) => out.push(Next::Param(p)),
                (Some(Tok::Param(p)), Some(w)) => {
                    if check.is_text(p) || check.check(p, w.text).is_some() {
                        out.push(Next::Param(p));
                    }
                }
                (None, _) => {}
            }
        }
        if last.is_none() && self.nodes[node].action.is_some() {
            out.push(Next::End);
        }
        out
    }

    /// The keyword child that `w` names: in full (case-insensitively), or as the one keyword it
    /// abbreviates. Ok(None) when it names no keyword here.
    fn keyword(
        &self,
        children: &[usize],
        w: &Word<'_>,
    ) -> Result<Option<(usize, &'static str)>, CliError> {
        if w.quoted || w.text.is_empty() {
            return Ok(None);
        }
        let mut prefix_of = None;
        let mut count = 0;
        for &c in children {
            let Some(Tok::Keyword(k)) = self.nodes[c].tok else {
                continue;
            };
            if k.eq_ignore_ascii_case(w.text) {
                return Ok(Some((c, k)));
            }
            if k.len() > w.text.len()
                && k.as_bytes()[..w.text.len()].eq_ignore_ascii_case(w.text.as_bytes())
            {
                count += 1;
                prefix_of = Some((c, k));
            }
        }
        match count {
            0 => Ok(None),
            1 => Ok(prefix_of),
            _ => Err(CliError::at(ErrorKind::Ambiguous, w.column)),
        }
    }
}

impl<A: Clone + PartialEq + fmt::Debug> Default for Grammar<A> {
    fn default() -> Self {
        Grammar::new()
    }
}

/// `seq ('|' seq)*` up to a closing bracket or the end: every expansion.
fn parse_alternatives(
    toks: &[&'static str],
    pos: &mut usize,
) -> Result<Vec<Vec<Tok>>, SyntaxError> {
    let mut out = parse_sequence(toks, pos)?;
    while toks.get(*pos) == Some(&"|") {
        *pos += 1;
        out.extend(parse_sequence(toks, pos)?);
    }
    Ok(out)
}

fn parse_sequence(toks: &[&'static str], pos: &mut usize) -> Result<Vec<Vec<Tok>>, SyntaxError> {
    let mut paths: Vec<Vec<Tok>> = vec![Vec::new()];
    while let Some(&t) = toks.get(*pos) {
        let options: Vec<Vec<Tok>> = match t {
            "|" | "]" | "}" => break,
            "[" | "{" => {
                *pos += 1;
                let mut inner = parse_alternatives(toks, pos)?;
                let close = if t == "[" { "]" } else { "}" };
                if toks.get(*pos) != Some(&close) {
                    return Err(SyntaxError(format!("'{t}' without '{close}'")));
                }
                *pos += 1;
                if t == "[" {
                    inner.push(Vec::new());
                }
                inner
            }
            _ => {
                *pos += 1;
                let tok = match t.strip_prefix('<').and_then(|p| p.strip_suffix('>')) {
                    Some(p) => Tok::Param(p),
                    None => Tok::Keyword(t),
                };
                vec![vec![tok]]
            }
        };
        let mut next = Vec::with_capacity(paths.len() * options.len());
        for p in &paths {
            for o in &options {
                let mut q = p.clone();
                q.extend_from_slice(o);
                next.push(q);
            }
        }
        paths = next;
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::vrp::lex::words;

    /// Parameter checks by name.
    struct Checks(HashMap<&'static str, fn(&str) -> Option<String>>);

    impl ParamCheck for Checks {
        fn check(&self, param: &str, word: &str) -> Option<String> {
            self.0.get(param).and_then(|f| f(word))
        }

        fn is_text(&self, param: &str) -> bool {
            param.starts_with("text")
        }
    }

    fn grammar() -> (Grammar<u32>, Checks) {
        let mut g = Grammar::new();
        g.add("vrrp vrid <n> virtual-ip <n2>", 1).unwrap();
        g.add("vrrp vrid <n> priority <n2>", 2).unwrap();
        g.add(
            "vrrp vrid <n> track bfd-session { <n2> | session-name <name> } [ increased <n3> | reduced <n3> ]",
            3,
        )
        .unwrap();
        g.add("vrrp vrid <n> preempt-mode timer delay <n2>", 4)
            .unwrap();
        g.add("description <text>", 5).unwrap();
        g.add("display", 6).unwrap();
        g.add("display this", 7).unwrap();
        g.add("description-x", 8).unwrap();
        let mut checks: HashMap<&'static str, fn(&str) -> Option<String>> = HashMap::new();
        fn num(s: &str) -> Option<String> {
            s.parse::<u8>()
                .ok()
                .filter(|&n| n >= 1)
                .map(|n| n.to_string())
        }
        fn any(s: &str) -> Option<String> {
            Some(s.to_string())
        }
        checks.insert("n", num);
        checks.insert("n2", num);
        checks.insert("n3", num);
        checks.insert("name", any);
        checks.insert("text", any);
        (g, Checks(checks))
    }

    fn run(line: &str) -> Result<Matched<u32>, CliError> {
        let (g, c) = grammar();
        g.matches(line, &words(line), &c)
    }

    fn err(line: &str) -> (ErrorKind, usize) {
        let e = run(line).unwrap_err();
        (e.kind, e.column.unwrap())
    }

    #[test]
    fn matches_in_full_and_abbreviated() {
        let m = run("vrrp vrid 1 track bfd-session 20 increased 40").unwrap();
        assert_eq!(m.action, 3);
        assert!(m.has("increased"));
        assert_eq!(m.value("n2"), Some("20"));
        assert_eq!(m.value("n3"), Some("40"));
        let m = run("vr vr 1 tr b s to-a r 5").unwrap();
        assert_eq!(m.action, 3);
        assert!(m.has("session-name") && m.has("reduced"));
        assert_eq!(m.value("name"), Some("to-a"));
        assert_eq!(run("VRRP VRID 1 PRIORITY 5").unwrap().action, 2);
        // A word that is a whole keyword is that keyword, even if it starts another.
        assert_eq!(run("display").unwrap().action, 6);
        assert_eq!(run("display th").unwrap().action, 7);
    }

    #[test]
    fn text_takes_the_rest_of_the_line() {
        let m = run("description  to  the core  ").unwrap();
        assert_eq!(m.action, 5);
        assert_eq!(m.value("text"), Some("to  the core"));
    }

    #[test]
    fn errors_point_at_the_word() {
        assert_eq!(err("vrrp vrid 1 prority 3"), (ErrorKind::Unrecognized, 12));
        assert_eq!(err("vrrpp"), (ErrorKind::Unrecognized, 0));
        assert_eq!(
            err("vrrp vrid 0 priority 3"),
            (ErrorKind::WrongParameter, 10)
        );
        assert_eq!(err("vrrp vrid 1"), (ErrorKind::Incomplete, 12));
        assert_eq!(err("vrrp vrid 1 "), (ErrorKind::Incomplete, 12));
        assert_eq!(err("vrrp vrid 1 p"), (ErrorKind::Ambiguous, 12));
        assert_eq!(err("d"), (ErrorKind::Ambiguous, 0));
        assert_eq!(err("display this now"), (ErrorKind::TooManyParameters, 13));
        assert_eq!(
            err("vrrp vrid 1 track bfd-session x"),
            (ErrorKind::WrongParameter, 30)
        );
        // A quoted word is never a keyword.
        assert_eq!(err("\"vrrp\""), (ErrorKind::Unrecognized, 0));
    }

    #[test]
    fn rendering_puts_the_caret_under_the_column() {
        let e = CliError::at(ErrorKind::Unrecognized, 3);
        assert_eq!(
            e.render(7),
            "          ^\nError: Unrecognized command found at '^' position.\n"
        );
        assert_eq!(CliError::refused("Error: x.").render(7), "Error: x.\n");
    }

    #[test]
    fn bad_tables_are_refused() {
        let mut g: Grammar<u32> = Grammar::new();
        assert!(g.add("a [ b", 1).is_err());
        assert!(g.add("a ]", 1).is_err());
        assert!(g.add("[ a ]", 1).is_err());
        g.add("a b", 1).unwrap();
        assert!(g.add("a b", 2).is_err());
        assert!(g.add("a [ b ]", 1).is_ok());
    }
}
