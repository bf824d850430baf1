//! A command line cut into words, each with the column (in characters) where it starts, so an
//! error can put its caret under the word.
//!
//! Words are separated by spaces and tabs. A word that starts with `"` runs to the next `"`
//! (VRP's quoted strings: names with spaces); the quotes are not part of its text.

/// One word of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: &'a str,
    /// Column (characters from the start of the line) of the word's first character.
    pub column: usize,
    /// Byte offset of the word's first character (its opening quote, if quoted).
    pub offset: usize,
    /// Written in quotes: never a keyword.
    pub quoted: bool,
}

/// The words of `line`, in order. Linear in the length of the line.
pub fn words(line: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    let mut column = 0;
    while let Some(&(offset, c)) = chars.peek() {
        if is_blank(c) {
            chars.next();
            column += 1;
            continue;
        }
        let start_column = column;
        if c == '"' {
            chars.next();
            column += 1;
            let body = offset + 1;
            let mut end = line.len();
            for (i, c) in chars.by_ref() {
                column += 1;
                if c == '"' {
                    end = i;
                    break;
                }
            }
            out.push(Word {
                text: &line[body..end],
                column: start_column,
                offset,
                quoted: true,
            });
            continue;
        }
        let mut end = line.len();
        while let Some(&(i, c)) = chars.peek() {
            if is_blank(c) {
                end = i;
                break;
            }
            chars.next();
            column += 1;
        }
        out.push(Word {
            text: &line[offset..end],
            column: start_column,
            offset,
            quoted: false,
        });
    }
    out
}

/// Where a missing word would go: after the line and one separating blank (none if the line
/// already ends with one).
pub fn end_column(line: &str) -> usize {
    let n = line.chars().count();
    match line.chars().last() {
        Some(c) if is_blank(c) => n,
        Some(_) => n + 1,
        None => 0,
    }
}

pub fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A value written back into a command line: quoted when it would not read back as one word.
pub fn quote(value: &str) -> String {
    if value.is_empty() || value.starts_with('"') || value.chars().any(is_blank) {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<(&str, usize)> {
        words(line).iter().map(|w| (w.text, w.column)).collect()
    }

    #[test]
    fn words_and_columns() {
        assert_eq!(
            texts("  vrrp vrid\t1  virtual-ip 10.0.0.6 "),
            [
                ("vrrp", 2),
                ("vrid", 7),
                ("1", 12),
                ("virtual-ip", 15),
                ("10.0.0.6", 26)
            ]
        );
        assert_eq!(texts(""), []);
        assert_eq!(texts("   "), []);
        // Columns count characters, not bytes.
        assert_eq!(texts("é x"), [("é", 0), ("x", 2)]);
    }

    #[test]
    fn quoted_words() {
        let w = words(r#"monitor-group "up links" x"#);
        assert_eq!(w[1].text, "up links");
        assert!(w[1].quoted);
        assert_eq!(w[1].column, 14);
        assert_eq!((w[2].text, w[2].column), ("x", 25));
        // An unterminated quote runs to the end of the line.
        let w = words(r#"a "b c"#);
        assert_eq!((w[1].text, w[1].quoted), ("b c", true));
        assert_eq!(words("\"\"")[0].text, "");
    }

    #[test]
    fn end_columns() {
        assert_eq!(end_column("display"), 8);
        assert_eq!(end_column("display "), 8);
        assert_eq!(end_column(""), 0);
    }

    #[test]
    fn quoting_round_trips() {
        // (A value with a '"' in it cannot be written: VRP has no escapes.)
        for v in ["uplinks", "up links", "", "a\tb"] {
            let line = format!("x {}", quote(v));
            assert_eq!(words(&line)[1].text, v, "{line}");
        }
    }
}
