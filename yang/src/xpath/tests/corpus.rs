//! Parse every `must`, `when` and leafref `path` argument of the YANG
//! modules installed under /work/venv/share/yang/modules.

use std::path::{Path, PathBuf};

use crate::xpath::{parse, referenced_prefixes};

const MODULES: &str = "/work/venv/share/yang/modules";

#[derive(Debug, PartialEq)]
enum YTok {
    /// An unquoted string (keywords, identifiers, `+`).
    Word(String),
    /// A quoted string, escapes resolved.
    Str(String),
    Semi,
    Open,
    Close,
}

/// Split YANG source into tokens with their line numbers (RFC 7950 §6.1):
/// comments are dropped, quoted strings unescaped.
fn yang_tokens(src: &str) -> Vec<(YTok, usize)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            ';' => {
                out.push((YTok::Semi, line));
                i += 1;
            }
            '{' => {
                out.push((YTok::Open, line));
                i += 1;
            }
            '}' => {
                out.push((YTok::Close, line));
                i += 1;
            }
            '"' | '\'' => {
                let start_line = line;
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != c {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    if c == '"' && chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                        s.push(match chars[i] {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    } else {
                        s.push(chars[i]);
                    }
                    i += 1;
                }
                i += 1;
                out.push((YTok::Str(s), start_line));
            }
            _ => {
                let mut s = String::new();
                while i < chars.len() {
                    let d = chars[i];
                    let n = chars.get(i + 1).copied();
                    if d.is_whitespace()
                        || matches!(d, ';' | '{' | '}' | '"' | '\'')
                        || (d == '/' && matches!(n, Some('/') | Some('*')))
                    {
                        break;
                    }
                    s.push(d);
                    i += 1;
                }
                out.push((YTok::Word(s), line));
            }
        }
    }
    out
}

/// (line, keyword, argument) of every `must`, `when` and `path` statement.
fn xpath_arguments(src: &str) -> Vec<(usize, String, String)> {
    let toks = yang_tokens(src);
    let mut out = Vec::new();
    let mut at_start = true;
    let mut i = 0;
    while i < toks.len() {
        let (tok, line) = &toks[i];
        match tok {
            YTok::Semi | YTok::Open | YTok::Close => {
                at_start = true;
                i += 1;
                continue;
            }
            YTok::Word(kw) if at_start && matches!(kw.as_str(), "must" | "when" | "path") => {
                // The argument: one unquoted string, or quoted strings
                // joined with `+`.
                let mut arg = None;
                i += 1;
                match toks.get(i) {
                    Some((YTok::Word(w), _)) => {
                        arg = Some(w.clone());
                        i += 1;
                    }
                    Some((YTok::Str(s), _)) => {
                        let mut a = s.clone();
                        i += 1;
                        while let (Some((YTok::Word(plus), _)), Some((YTok::Str(s2), _))) =
                            (toks.get(i), toks.get(i + 1))
                        {
                            if plus != "+" {
                                break;
                            }
                            a.push_str(s2);
                            i += 2;
                        }
                        arg = Some(a);
                    }
                    _ => {}
                }
                if let Some(a) = arg {
                    out.push((*line, kw.clone(), a));
                }
                at_start = false;
                continue;
            }
            _ => {}
        }
        at_start = false;
        i += 1;
    }
    out
}

fn yang_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            yang_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yang") {
            out.push(p);
        }
    }
}

#[test]
fn extractor_handles_concatenation_and_comments() {
    let src = r#"
        leaf x { // must "not this";
            type leafref { path "../a" + '/b'; }
            /* when "nor this"; */
            must 'count(../c) > 0' {
                error-message "path \"x\"";
            }
            when ../d;
            description "must be";
        }
    "#;
    let args = xpath_arguments(src);
    let got: Vec<(&str, &str)> = args
        .iter()
        .map(|(_, k, a)| (k.as_str(), a.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("path", "../a/b"),
            ("must", "count(../c) > 0"),
            ("when", "../d"),
        ]
    );
}

#[test]
fn all_module_xpath_expressions_parse() {
    let root = Path::new(MODULES);
    if !root.is_dir() {
        println!("skipping: {MODULES} does not exist");
        return;
    }
    let mut files = Vec::new();
    yang_files(root, &mut files);
    files.sort();
    // Set XPATH_CORPUS_VERBOSE to print every expression and its normal form.
    let verbose = std::env::var_os("XPATH_CORPUS_VERBOSE").is_some();
    let mut total = 0;
    let mut failures = Vec::new();
    for file in &files {
        let Ok(src) = std::fs::read_to_string(file) else {
            println!("skipping unreadable {}", file.display());
            continue;
        };
        for (line, kw, arg) in xpath_arguments(&src) {
            total += 1;
            match parse(&arg) {
                Ok(e) => {
                    let printed = e.to_string();
                    if verbose {
                        println!("{kw} {arg:?}\n  => {printed}");
                    }
                    match parse(&printed) {
                        Ok(again) => assert_eq!(again.to_string(), printed, "{arg}"),
                        Err(err) => failures.push(format!(
                            "{}:{line}: {kw} {arg:?} printed as {printed:?}: {err}",
                            file.display()
                        )),
                    }
                    referenced_prefixes(&e);
                }
                Err(err) => {
                    failures.push(format!("{}:{line}: {kw} {arg:?}: {err}", file.display()))
                }
            }
        }
    }
    println!(
        "parsed {total} must/when/path expressions from {} modules",
        files.len()
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    assert!(total > 0 || files.is_empty());
}
