//! YANG `pattern` support: translation of W3C XML Schema 1.0 regular expressions
//! (XSD Part 2, Appendix F; RFC 7950 §9.4.5) into `regex` crate syntax.
//!
//! XSD regexes are implicitly anchored, have no anchors (`^` and `$` are ordinary
//! characters), no lazy quantifiers, backreferences, lookaround or `(?...)` groups,
//! `.` excludes both `\n` and `\r`, and character classes may be subtracted
//! (`[a-z-[aeiou]]`). Unicode categories follow the `regex` crate's Unicode version;
//! `\i`/`\c` use the XML 1.0 fifth-edition NameStartChar/NameChar sets, and block
//! escapes (`\p{IsGreek}`) use the Unicode 3.1 block table listed by XSD 1.0.
//! Strictness follows the XSD 1.0 grammar: only the listed single-character escapes
//! are accepted (`\$` or `\:` are errors), `-` inside a class must be first, last or
//! before a subtraction, `[` inside a class must be escaped, and a bare `}` is an
//! ordinary character while a bare `{` is an error.
//! Error positions are byte offsets into the XSD source.

use regex::{Regex, RegexBuilder};
use std::fmt::{self, Write as _};

/// Size limit for compiled regexes; large IETF patterns need more than the default.
const REGEX_SIZE_LIMIT: usize = 256 << 20;
/// Maximum nesting of groups and character classes.
const MAX_DEPTH: usize = 100;
/// Characters that must be backslash-escaped in `regex` syntax (in and out of classes).
const META: &str = "\\.+*?()|[]{}^$#&-~";
/// XSD `\s`: space, tab, newline, carriage return (as class items).
const SPACE: &str = r"\x20\t\n\r";
/// XML 1.0 (5th edition) NameStartChar, as class items (`:` hex-escaped on purpose).
const NAME_START: &str = concat!(
    r"A-Z_a-z\x{3A}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{2FF}\x{370}-\x{37D}\x{37F}-\x{1FFF}",
    r"\x{200C}-\x{200D}\x{2070}-\x{218F}\x{2C00}-\x{2FEF}\x{3001}-\x{D7FF}\x{F900}-\x{FDCF}",
    r"\x{FDF0}-\x{FFFD}\x{10000}-\x{EFFFF}"
);
/// XML 1.0 (5th edition) NameChar minus NameStartChar.
const NAME_EXTRA: &str = r"\-\.0-9\x{B7}\x{300}-\x{36F}\x{203F}-\x{2040}";
/// A class item that matches nothing (used for the surrogate blocks).
const EMPTY_SET: &str = r"[^\x{0}-\x{10FFFF}]";
/// General categories allowed in `\p{..}` / `\P{..}` by XSD 1.0.
const CATEGORIES: &str = "L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po \
    Z Zs Zl Zp S Sm Sc Sk So C Cc Cf Co Cn";
/// The block table of XSD 1.0 Part 2 §F.1.1 (Unicode 3.1 blocks) for `\p{IsName}`, as
/// `first-last Name;` entries. A name may repeat; `\p{IsName}` is then the union.
const BLOCKS: &str = "\
    0000-007F BasicLatin; 0080-00FF Latin-1Supplement; 0100-017F LatinExtended-A; \
    0180-024F LatinExtended-B; 0250-02AF IPAExtensions; 02B0-02FF SpacingModifierLetters; \
    0300-036F CombiningDiacriticalMarks; 0370-03FF Greek; 0400-04FF Cyrillic; \
    0530-058F Armenian; 0590-05FF Hebrew; 0600-06FF Arabic; 0700-074F Syriac; 0780-07BF Thaana; \
    0900-097F Devanagari; 0980-09FF Bengali; 0A00-0A7F Gurmukhi; 0A80-0AFF Gujarati; \
    0B00-0B7F Oriya; 0B80-0BFF Tamil; 0C00-0C7F Telugu; 0C80-0CFF Kannada; 0D00-0D7F Malayalam; \
    0D80-0DFF Sinhala; 0E00-0E7F Thai; 0E80-0EFF Lao; 0F00-0FFF Tibetan; 1000-109F Myanmar; \
    10A0-10FF Georgian; 1100-11FF HangulJamo; 1200-137F Ethiopic; 13A0-13FF Cherokee; \
    1400-167F UnifiedCanadianAboriginalSyllabics; 1680-169F Ogham; 16A0-16FF Runic; \
    1780-17FF Khmer; 1800-18AF Mongolian; 1E00-1EFF LatinExtendedAdditional; \
    1F00-1FFF GreekExtended; 2000-206F GeneralPunctuation; 2070-209F SuperscriptsandSubscripts; \
    20A0-20CF CurrencySymbols; 20D0-20FF CombiningMarksforSymbols; 2100-214F LetterlikeSymbols; \
    2150-218F NumberForms; 2190-21FF Arrows; 2200-22FF MathematicalOperators; \
    2300-23FF MiscellaneousTechnical; 2400-243F ControlPictures; \
    2440-245F OpticalCharacterRecognition; 2460-24FF EnclosedAlphanumerics; \
    2500-257F BoxDrawing; 2580-259F BlockElements; 25A0-25FF GeometricShapes; \
    2600-26FF MiscellaneousSymbols; 2700-27BF Dingbats; 2800-28FF BraillePatterns; \
    2E80-2EFF CJKRadicalsSupplement; 2F00-2FDF KangxiRadicals; \
    2FF0-2FFF IdeographicDescriptionCharacters; 3000-303F CJKSymbolsandPunctuation; \
    3040-309F Hiragana; 30A0-30FF Katakana; 3100-312F Bopomofo; \
    3130-318F HangulCompatibilityJamo; 3190-319F Kanbun; 31A0-31BF BopomofoExtended; \
    3200-32FF EnclosedCJKLettersandMonths; 3300-33FF CJKCompatibility; \
    3400-4DB5 CJKUnifiedIdeographsExtensionA; 4E00-9FFF CJKUnifiedIdeographs; \
    A000-A48F YiSyllables; A490-A4CF YiRadicals; AC00-D7A3 HangulSyllables; \
    D800-DB7F HighSurrogates; DB80-DBFF HighPrivateUseSurrogates; DC00-DFFF LowSurrogates; \
    E000-F8FF PrivateUse; F900-FAFF CJKCompatibilityIdeographs; \
    FB00-FB4F AlphabeticPresentationForms; FB50-FDFF ArabicPresentationForms-A; \
    FE20-FE2F CombiningHalfMarks; FE30-FE4F CJKCompatibilityForms; FE50-FE6F SmallFormVariants; \
    FE70-FEFE ArabicPresentationForms-B; FEFF-FEFF Specials; \
    FF00-FFEF HalfwidthandFullwidthForms; FFF0-FFFD Specials; 10300-1032F OldItalic; \
    10330-1034F Gothic; 10400-1044F Deseret; 1D000-1D0FF ByzantineMusicalSymbols; \
    1D100-1D1FF MusicalSymbols; 1D400-1D7FF MathematicalAlphanumericSymbols; \
    20000-2A6D6 CJKUnifiedIdeographsExtensionB; \
    2F800-2FA1F CJKCompatibilityIdeographsSupplement; E0000-E007F Tags; F0000-FFFFD PrivateUse; \
    100000-10FFFD PrivateUse;";

/// An invalid XSD pattern; `position` is a byte offset into the XSD source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (position, message) = (self.position, &self.message);
        write!(f, "invalid pattern at offset {position}: {message}")
    }
}

impl std::error::Error for PatternError {}

fn fail<T>(position: usize, message: impl Into<String>) -> Result<T, PatternError> {
    let message = message.into();
    Err(PatternError { position, message })
}

/// A compiled YANG pattern: XSD regex semantics (implicitly anchored), optional invert-match.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
    invert: bool,
}

impl Pattern {
    /// Compiles an XSD regex; `invert_match` is YANG's `modifier invert-match`.
    /// A failure of the `regex` crate itself (in practice only its size limit) is
    /// reported at position 0.
    pub fn new(xsd: &str, invert_match: bool) -> Result<Pattern, PatternError> {
        let regex = RegexBuilder::new(&translate(xsd)?)
            .size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(4 * MAX_DEPTH as u32)
            .build();
        let regex = regex.or_else(|e| fail(0, format!("pattern cannot be compiled: {e}")))?;
        Ok(Pattern {
            source: xsd.to_string(),
            regex,
            invert: invert_match,
        })
    }

    /// Whether the whole `value` matches (inverted for invert-match patterns).
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value) != self.invert
    }

    /// The XSD source text of the pattern.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether this is an invert-match pattern.
    pub fn is_inverted(&self) -> bool {
        self.invert
    }
}

/// Translate to regex-crate syntax, anchored as `^(?:...)$` (XSD regexes always match the whole value).
pub fn translate(xsd: &str) -> Result<String, PatternError> {
    let chars = xsd.char_indices().collect();
    let mut p = Parser {
        chars,
        end: xsd.len(),
        pos: 0,
        depth: 0,
    };
    let mut out = String::with_capacity(xsd.len() * 2 + 8);
    out.push_str("^(?:");
    p.regexp(&mut out)?;
    if let Some(c) = p.peek() {
        return fail(p.offset(), format!("unmatched '{c}'"));
    }
    out.push_str(")$");
    Ok(out)
}

/// A parsed backslash escape: a single character, or a set given as class items.
enum Esc {
    Char(char),
    Set(String),
}

/// Recursive-descent parser over the XSD grammar that emits regex syntax directly.
struct Parser {
    chars: Vec<(usize, char)>,
    end: usize,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).map(|&(_, c)| c)
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += usize::from(c.is_some());
        c
    }

    /// Consumes the next character if it is `c`.
    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        self.pos += usize::from(hit);
        hit
    }

    /// Byte offset of the next character (or the end of the source).
    fn offset(&self) -> usize {
        self.chars.get(self.pos).map_or(self.end, |&(o, _)| o)
    }

    fn enter(&mut self, at: usize) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return fail(
                at,
                format!("groups and classes nested deeper than {MAX_DEPTH}"),
            );
        }
        Ok(())
    }

    /// regExp ::= branch ( '|' branch )* ;  branch ::= piece*
    fn regexp(&mut self, out: &mut String) -> Result<(), PatternError> {
        loop {
            while self.peek().is_some_and(|c| c != '|' && c != ')') {
                self.piece(out)?;
            }
            if !self.eat('|') {
                return Ok(());
            }
            out.push('|');
        }
    }

    /// piece ::= atom quantifier?
    fn piece(&mut self, out: &mut String) -> Result<(), PatternError> {
        self.atom(out)?;
        match self.peek() {
            Some(c @ ('?' | '*' | '+')) => {
                self.pos += 1;
                out.push(c);
            }
            Some('{') => self.quantity(out)?,
            _ => return Ok(()),
        }
        if let Some(c @ ('?' | '*' | '+' | '{')) = self.peek() {
            let why = "XSD has no stacked, lazy or possessive quantifiers";
            return fail(
                self.offset(),
                format!("'{c}' cannot follow a quantifier ({why})"),
            );
        }
        Ok(())
    }

    /// quantifier ::= '{' n '}' | '{' n ',' '}' | '{' n ',' m '}'  (n, m ASCII digits)
    fn quantity(&mut self, out: &mut String) -> Result<(), PatternError> {
        let start = self.offset();
        self.pos += 1;
        let Some(min) = self.number()? else {
            return fail(start, "'{' must start a quantifier {n}, {n,} or {n,m}");
        };
        let max = if self.eat(',') {
            Some(self.number()?)
        } else {
            None
        };
        if !self.eat('}') {
            return fail(self.offset(), "expected '}' to close the quantifier");
        }
        let _ = match max {
            Some(Some(max)) if max < min => {
                return fail(start, format!("quantifier {{{min},{max}}} has min > max"));
            }
            None => write!(out, "{{{min}}}"),
            Some(None) => write!(out, "{{{min},}}"),
            Some(Some(max)) => write!(out, "{{{min},{max}}}"),
        };
        Ok(())
    }

    fn number(&mut self) -> Result<Option<u32>, PatternError> {
        let (start, mut value) = (self.offset(), None);
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            let v = value
                .unwrap_or(0u32)
                .checked_mul(10)
                .and_then(|v| v.checked_add(d));
            value = Some(v.map_or_else(|| fail(start, "quantifier bound is too large"), Ok)?);
            self.pos += 1;
        }
        Ok(value)
    }

    /// atom ::= Char | charClass | '(' regExp ')'
    fn atom(&mut self, out: &mut String) -> Result<(), PatternError> {
        let at = self.offset();
        let Some(c) = self.next() else {
            return fail(at, "unexpected end of pattern");
        };
        match c {
            '(' if self.peek() == Some('?') => {
                return fail(
                    at,
                    "'(?' is not XSD syntax (no lookaround, flags or (?:...) groups)",
                );
            }
            '(' => {
                self.enter(at)?;
                out.push_str("(?:");
                self.regexp(out)?;
                if !self.eat(')') {
                    return fail(at, "unclosed '('");
                }
                out.push(')');
                self.depth -= 1;
            }
            '[' => {
                let class = self.class(at)?;
                out.push_str(&class);
            }
            '.' => out.push_str(r"[^\n\r]"),
            '\\' => match self.escape(at)? {
                Esc::Char(c) => push_lit(out, c),
                Esc::Set(set) => {
                    let _ = write!(out, "[{set}]");
                }
            },
            '?' | '*' | '+' => return fail(at, format!("quantifier '{c}' has nothing to repeat")),
            // XSD 1.0's Char production allows a bare '}', but not '{', '[' or ']'.
            '{' | ']' => return fail(at, format!("'{c}' must be escaped")),
            _ => push_lit(out, c),
        }
        Ok(())
    }

    /// Parses the escape after a consumed `\` at byte offset `at`.
    fn escape(&mut self, at: usize) -> Result<Esc, PatternError> {
        let Some(c) = self.next() else {
            return fail(at, "pattern ends with a lone '\\'");
        };
        let set = match c {
            'n' => return Ok(Esc::Char('\n')),
            'r' => return Ok(Esc::Char('\r')),
            't' => return Ok(Esc::Char('\t')),
            '\\' | '|' | '.' | '-' | '^' | '?' | '*' | '+' | '{' | '}' | '(' | ')' | '[' | ']' => {
                return Ok(Esc::Char(c));
            }
            'd' => r"\p{gc=Nd}".to_string(),
            'D' => r"\P{gc=Nd}".to_string(),
            's' => SPACE.to_string(),
            'S' => format!("[^{SPACE}]"),
            'w' => r"[^\p{gc=P}\p{gc=Z}\p{gc=C}]".to_string(),
            'W' => r"\p{gc=P}\p{gc=Z}\p{gc=C}".to_string(),
            'i' => NAME_START.to_string(),
            'I' => format!("[^{NAME_START}]"),
            'c' => format!("{NAME_START}{NAME_EXTRA}"),
            'C' => format!("[^{NAME_START}{NAME_EXTRA}]"),
            'p' | 'P' => return self.property(at, c == 'P'),
            _ => {
                let hint = match c {
                    '0'..='9' => " (XSD has no backreferences)",
                    'b' | 'B' | 'A' | 'z' | 'Z' | 'G' => " (XSD has no anchors or word boundaries)",
                    '$' => " ('$' is an ordinary character in XSD; write it unescaped)",
                    _ => "",
                };
                return fail(at, format!("unknown escape '\\{c}'{hint}"));
            }
        };
        Ok(Esc::Set(set))
    }

    /// `\p{Name}` / `\P{Name}`: a general category, or `Is` + an XSD block name.
    fn property(&mut self, at: usize, negated: bool) -> Result<Esc, PatternError> {
        if !self.eat('{') {
            return fail(at, "expected '{' after \\p or \\P");
        }
        let mut name = String::new();
        loop {
            match self.next() {
                Some('}') => break,
                Some(c) => name.push(c),
                None => return fail(at, "unterminated \\p{...}"),
            }
        }
        let mut items = if let Some(block) = name.strip_prefix("Is") {
            let ranges: Vec<(u32, u32)> = block_ranges(block).collect();
            if ranges.is_empty() {
                return fail(at, format!("unknown block name '{block}' in \\p{{{name}}}"));
            }
            // Surrogate blocks contain no characters (an empty class is left below).
            let ranges = ranges
                .into_iter()
                .filter(|r| !(0xD800..=0xDFFF).contains(&r.0));
            ranges
                .map(|(lo, hi)| format!(r"\x{{{lo:X}}}-\x{{{hi:X}}}"))
                .collect()
        } else if CATEGORIES.split_whitespace().any(|c| c == name) {
            format!(r"\p{{gc={name}}}")
        } else {
            return fail(at, format!("unknown character category '{name}'"));
        };
        if items.is_empty() {
            items = EMPTY_SET.to_string();
        }
        Ok(Esc::Set(if negated {
            format!("[^{items}]")
        } else {
            items
        }))
    }

    /// charClassExpr ::= '[' '^'? posCharGroup ( '-' charClassExpr )? ']'
    /// Called after the '[' at byte offset `at`; returns a complete regex class.
    fn class(&mut self, at: usize) -> Result<String, PatternError> {
        self.enter(at)?;
        let neg = if self.eat('^') { "^" } else { "" };
        let (mut items, mut count, mut subtraction) = (String::new(), 0, None);
        loop {
            let here = self.offset();
            let Some(c) = self.next() else {
                return fail(at, "unclosed '['");
            };
            match c {
                ']' if count == 0 => return fail(at, "empty character class"),
                ']' => break,
                '-' if count > 0 && self.eat('[') => {
                    subtraction = Some(self.class(here + 1)?);
                    if !self.eat(']') {
                        return fail(self.offset(), "a class subtraction must end its class");
                    }
                    break;
                }
                '-' if count > 0 && !matches!(self.peek(), Some(']') | None) => {
                    return fail(here, "'-' must be escaped unless first or last in a class");
                }
                '[' => return fail(here, "'[' must be escaped inside a character class"),
                _ => {
                    count += 1;
                    let lo = match c {
                        '\\' => match self.escape(here)? {
                            Esc::Char(lo) => lo,
                            Esc::Set(set) => {
                                items.push_str(&set);
                                continue;
                            }
                        },
                        _ => c,
                    };
                    push_lit(&mut items, lo);
                    let range_end = matches!(self.peek_at(1), Some(']' | '[') | None);
                    if c == '-' || self.peek() != Some('-') || range_end {
                        continue; // a single character, not the start of a range
                    }
                    self.pos += 1;
                    let hi_at = self.offset();
                    let hi = match self.next() {
                        Some('\\') => match self.escape(hi_at)? {
                            Esc::Char(hi) => hi,
                            Esc::Set(_) => {
                                return fail(hi_at, "a range cannot end with \\p, \\d etc.");
                            }
                        },
                        Some('-') | None => {
                            return fail(hi_at, "'-' must be escaped as a range end");
                        }
                        Some(hi) => hi,
                    };
                    if hi < lo {
                        return fail(here, format!("range {lo:?}-{hi:?} is out of order"));
                    }
                    items.push('-');
                    push_lit(&mut items, hi);
                }
            }
        }
        self.depth -= 1;
        Ok(match subtraction {
            // XSD negation applies to the group only, so it stays in the left operand.
            Some(sub) => format!("[[{neg}{items}]--{sub}]"),
            None => format!("[{neg}{items}]"),
        })
    }
}

/// The code point ranges of the XSD block `name` (empty if unknown).
fn block_ranges(name: &str) -> impl Iterator<Item = (u32, u32)> + '_ {
    BLOCKS.split(';').filter_map(move |entry| {
        let (range, block) = entry.trim().split_once(' ')?;
        let (lo, hi) = range.split_once('-')?;
        let hex = |h| u32::from_str_radix(h, 16).ok();
        (block == name).then_some((hex(lo)?, hex(hi)?))
    })
}

/// Appends `c` as a literal that is valid both inside and outside a regex class.
fn push_lit(out: &mut String, c: char) {
    if META.contains(c) {
        out.push('\\');
        out.push(c);
    } else if c.is_ascii_alphanumeric() || (c.is_ascii_punctuation() && c != ':') {
        out.push(c); // ':' is hex-escaped so that `[[:` never forms a POSIX class
    } else {
        let _ = write!(out, "\\x{{{:X}}}", c as u32);
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str]);

    /// Each case: the pattern compiles, matches every `yes` value and no `no` value.
    fn check(cases: &[Case]) {
        for &(p, yes, no) in cases {
            let re = Pattern::new(p, false).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            for v in yes {
                assert!(
                    re.is_match(v),
                    "{p:?} should match {v:?}: {:?}",
                    translate(p)
                );
            }
            for v in no {
                assert!(
                    !re.is_match(v),
                    "{p:?} must not match {v:?}: {:?}",
                    translate(p)
                );
            }
        }
    }

    /// `cases` holds space-separated `pattern@offset` items that must be rejected at `offset`.
    fn bad(cases: &str) {
        for case in cases.split(' ') {
            let (p, pos) = case.rsplit_once('@').expect("pattern@offset");
            match Pattern::new(p, false) {
                Ok(_) => panic!("{p:?} should be rejected"),
                Err(e) => assert_eq!(e.position.to_string(), pos, "{p:?}: {e}"),
            }
        }
    }

    #[test]
    #[rustfmt::skip]
    fn anchoring_literals_and_dot() {
        check(&[
            ("abc", &["abc"], &["", "ab", "xabc", "abcx", "abc\n"]),
            ("", &[""], &["a"]),
            ("a b,c/d%e_f}", &["a b,c/d%e_f}"], &["a bc"]),
            ("a$", &["a$"], &["a", "a$$"]),
            ("^a", &["^a"], &["a"]),
            ("$0$.*", &["$0$", "$0$xyz"], &["0", "$0"]),
            ("[$^]+", &["$^$"], &["a"]),
            (".", &["a", "é", "\t", "\u{10000}"], &["", "\n", "\r", "ab"]),
            ("a.*b", &["ab", "a x b"], &["a\nb", "a\rb"]),
        ]);
        assert_eq!(translate("a.b").as_deref(), Ok(r"^(?:a[^\n\r]b)$"));
        assert_eq!(translate("(a)|b").as_deref(), Ok("^(?:(?:a)|b)$"));
    }

    #[test]
    #[rustfmt::skip]
    fn space_digit_and_word_escapes() {
        check(&[
            (r"\s+", &[" \t\n\r"], &["\u{a0}", "\u{2003}", "\u{2028}", "\u{b}", "\u{c}", "a"]),
            (r"\S", &["a", "\u{a0}", "\u{2028}"], &[" ", "\n"]),
            (r"\d+", &["0123456789", "\u{663}"], &["a", "\u{b2}"]),
            (r"\D", &["a", "\u{b2}"], &["5"]),
            (r"\w+", &["aZé5", "+", "$", "^", "~", "\u{4e00}"], &["_", "-", " ", ".", "\0"]),
            (r"\w", &[], &["\u{200b}", "\u{e000}", "\u{2028}"]),
            (r"\W", &["_", " ", "!", "\n"], &["a", "+"]),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn xml_name_escapes() {
        check(&[
            (r"\i", &["a", ":", "_", "é"], &["1", "-", ".", " "]),
            (r"\I", &["1", "-"], &["a", ":"]),
            (r"\c+", &["a:b-c.d_1\u{b7}\u{301}"], &[" ", "$"]),
            (r"\C", &[" ", "$"], &["a", "-"]),
            (r"[\i-[:]][\c-[:]]*", &["foo", "_a-b.c", "x"], &["a:b", ":a", "1a", ""]),
            (r"[^\I]", &["a"], &["~", "1"]),
            (r"[\P{Nd}\C]+", &["z ", "~"], &["5"]),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn single_char_escapes() {
        for (esc, ch) in r"nN rR tT \\ || .. -- ^^ ?? ** ++ {{ }} (( )) [[ ]]"
            .split(' ')
            .map(|s| s.split_at(1))
        {
            let ch = &ch.replace('N', "\n").replace('R', "\r").replace('T', "\t");
            for p in [
                format!(r"\{esc}"),
                format!(r"[\{esc}]"),
                format!(r"[a\{esc}]"),
            ] {
                check(&[(&p, &[ch], &["b", ""])]);
            }
        }
    }

    #[test]
    #[rustfmt::skip]
    fn categories() {
        for name in CATEGORIES.split_whitespace() {
            for p in [r"\p{X}", r"\P{X}", r"[a\p{X}-[b]]", r"[^\P{X}]"] {
                check(&[(&p.replace('X', name), &[], &[""])]);
            }
        }
        check(&[
            (r"\p{Lu}+", &["ABÉ"], &["aBC"]),
            (r"\p{L}\p{Ll}", &["Ab", "éa"], &["A1", "aB"]),
            (r"\P{Nd}", &["a", "_"], &["5"]),
            (r"\p{Sc}+", &["$€"], &["a"]),
            (r"[\p{N}\p{L}]+", &["eth0", "Ⅻ"], &["eth-0"]),
            (r"\p{Pc}", &["_"], &["-"]),
        ]);
        bad(r"\p{Xx}@0 \p{}@0 \p{Cs}@0 \pL@0 \p{L@0 \p@0 \P{lu}@0 a\p{Is}@1 \p{IsGreek@0");
    }

    #[test]
    #[rustfmt::skip]
    fn blocks() {
        check(&[
            (r"\p{IsBasicLatin}+", &["abc~\u{7f}"], &["é"]),
            (r"\p{IsLatin-1Supplement}", &["é", "\u{80}"], &["a", "\u{100}"]),
            (r"\p{IsGreek}+", &["αβγ"], &["a"]),
            (r"\P{IsGreek}", &["a"], &["α"]),
            (r"\p{IsSpecials}", &["\u{feff}", "\u{fffd}"], &["\u{fef0}", "a"]),
            (r"\p{IsPrivateUse}", &["\u{e000}", "\u{f0000}", "\u{10fffd}"], &["a"]),
            (r"\p{IsCJKUnifiedIdeographsExtensionB}", &["\u{20000}"], &["\u{4e00}"]),
            (r"\p{IsHighSurrogates}?", &[""], &["a", "\u{10000}"]),
            (r"\P{IsLowSurrogates}", &["a", "\u{10000}"], &[""]),
            (r"[a\p{IsLowSurrogates}]", &["a"], &["b"]),
            (r"[\p{IsArabicPresentationForms-A}\p{IsLatinExtended-A}]", &["ﭐ", "ā"], &["a"]),
        ]);
        bad(r"\p{IsNoSuchBlock}@0 \p{Isbasiclatin}@0 [a\p{IsFoo}]@2 \p{IsLatinExtended-C}@0");
    }

    #[test]
    fn block_table_is_ordered_and_every_block_compiles() {
        let (mut next, mut bmp) = (0, 0);
        for entry in BLOCKS.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (range, name) = entry.split_once(' ').expect("entry");
            let lo = u32::from_str_radix(&range[..range.find('-').expect("-")], 16);
            let (lo, hi) = block_ranges(name).find(|r| Ok(r.0) == lo).expect("range");
            assert!(next <= lo && lo <= hi, "{entry}");
            (next, bmp) = (hi + 1, bmp + usize::from(hi <= 0xFFFF));
            let first = char::from_u32(lo).map(String::from).unwrap_or_default();
            let yes: &[&str] = if first.is_empty() { &[] } else { &[&first] };
            check(&[
                (&format!(r"\p{{Is{name}}}"), yes, &["", "\u{50f}"]),
                (&format!(r"[^x\P{{Is{name}}}-[a]]"), yes, &[]),
            ]);
        }
        assert!(bmp >= 85, "only {bmp} BMP blocks");
    }

    #[test]
    #[rustfmt::skip]
    fn character_classes() {
        check(&[
            ("[abc]", &["a", "c"], &["d", "ab"]),
            ("[a-c0-9]+", &["abc09"], &["d"]),
            ("[^abc]", &["d", "\n", "é"], &["a"]),
            ("[^^]", &["a"], &["^"]),
            ("[a^]", &["a", "^"], &["b"]),
            ("[-a]", &["-", "a"], &["b"]),
            ("[a-]", &["-", "a"], &["b"]),
            ("[a-c-]", &["-", "b"], &["d"]),
            (r"[\--\.]", &["-", "."], &["/", ","]),
            (r"[\r-a]", &["\r", "a", "A"], &["b"]),
            (r"[\s\d]+", &[" 1\t2"], &["a"]),
            (r"[\[\]]", &["[", "]"], &["a"]),
            // Set operators and POSIX classes of the regex crate are literal text in XSD.
            ("[&&]+", &["&&"], &["a"]),
            ("[a&&b]", &["a", "&", "b"], &["c"]),
            (r"[a\-\-b]", &["a", "-", "b"], &["c"]),
            ("[a~~b]", &["a", "~", "b"], &["c"]),
            ("[.*+?(){}|$#]+", &[".*+?(){}|$#"], &["a"]),
            (":[:a:]", &["::", ":a"], &[":l", "::a"]),
            (":[:alpha:-[h]]", &[":a", "::"], &[":h", ":Z"]),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn class_subtraction() {
        check(&[
            ("[a-z-[aeiou]]+", &["bcd"], &["a", "e", "B"]),
            ("[a-z-[aeiou-[e]]]", &["b", "e"], &["a", "o"]),
            ("[^a-z-[0-9]]", &["A", "\n"], &["b", "5"]),
            (r"[\d-[5]]", &["4"], &["5"]),
            (r"[\p{L}-[\p{Lu}]]", &["a"], &["A"]),
            ("[--[a]]", &["-"], &["a"]),
        ]);
        // XSD negation binds to the group only, not to the result of the subtraction.
        assert_eq!(translate("[^a-[b]]").as_deref(), Ok("^(?:[[^a]--[b]])$"));
    }

    #[test]
    fn class_errors() {
        bad(r"[]@0 [^]@0 [a@0 [b-a]@1 [a-\d]@3 [a-b-c]@4 [a-[b]c]@6 [[a]]@1 [a--b]@3 [-[a]]@2");
        bad(r"[\d-a]@3 [a-[b]@6 x[^-[a]]@4 [a-@0 [\@1 [\q]@1 [a-[]]@3 []a]@0");
    }

    #[test]
    #[rustfmt::skip]
    fn quantifiers() {
        check(&[
            ("a?", &["", "a"], &["aa"]),
            ("a*", &["", "aaa"], &["b"]),
            ("a+", &["a", "aa"], &[""]),
            ("a{2}", &["aa"], &["a", "aaa"]),
            ("a{2,}", &["aa", "aaaa"], &["a"]),
            ("a{2,3}", &["aa", "aaa"], &["a", "aaaa"]),
            ("a{0}b{0,0}", &[""], &["a"]),
            ("(ab){2}[0-9]{1,3}", &["abab1", "abab123"], &["ab1", "abab1234"]),
        ]);
        bad("a{2,1}@1 a{@1 a{,2}@1 a{x}@1 a{1@3 a{1,2@5 a**@2 a*?@2 a+*@2 a{2}{3}@4 a?+@2");
        bad("*a@0 +@0 ?@0 {1}@0 a|*@2 (*)@1 a{99999999999}@2 a{1,99999999999}@4 a{١}@1");
    }

    #[test]
    #[rustfmt::skip]
    fn groups_branches_and_nesting() {
        check(&[
            ("a|b|", &["a", "b", ""], &["ab"]),
            ("(a|)b", &["ab", "b"], &["a"]),
            ("()", &[""], &["a"]),
            ("(a(b(c)))+", &["abc", "abcabc"], &["ab"]),
            ("ab|cd", &["ab", "cd"], &["abd", "acd"]),
            (":{2}é{2}\u{10000}{2}", &["::éé\u{10000}\u{10000}"], &[":éé\u{10000}\u{10000}"]),
            (&format!("{}a{}", "(".repeat(MAX_DEPTH), ")*".repeat(MAX_DEPTH)), &["a", ""], &["b"]),
            (&format!("{}a{}", "[a-".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH)), &[], &["a"]),
            (&format!("{}b{}", "[^a-".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH)), &["b"], &["a", "c"]),
        ]);
    }

    #[test]
    fn perl_only_and_malformed_syntax_is_rejected() {
        bad(r"(@0 ab(@2 (a@0 )@0 a)@1 (?:a)@0 (?=a)@0 x(?i)a@1 (a)\1@3 \b@0 \$@0 \x41@0");
        bad(r"]@0 {@0 abc\q@3 é\q@2 a\@1 \@0 a(b|c@1 \:@0 \&@0 \~@0 \a@0");
        let deep = "(".repeat(1000) + &")".repeat(1000);
        assert_eq!(translate(&deep).map_err(|e| e.position), Err(MAX_DEPTH));
        assert!(Pattern::new(&"[".repeat(1000), false).is_err());
        let e = translate("ab(").expect_err("unclosed");
        assert_eq!(e.to_string(), "invalid pattern at offset 2: unclosed '('");
        let _: &dyn std::error::Error = &e;
    }

    const IPV4: &str = r"(([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])\.){3}([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])";
    const IPV6: &str = r"((:|[0-9a-fA-F]{0,4}):)([0-9a-fA-F]{0,4}:){0,5}((([0-9a-fA-F]{0,4}:)?(:|[0-9a-fA-F]{0,4}))|(((25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])))";
    const IPV6_B: &str =
        r"(([^:]+:){6}(([^:]+:[^:]+)|(.*\..*)))|((([^:]+:)*[^:]+)?::(([^:]+:)*[^:]+)?)";
    const DOMAIN: &str = r"((([a-zA-Z0-9_]([a-zA-Z0-9\-_]){0,61})?[a-zA-Z0-9]\.)*([a-zA-Z0-9_]([a-zA-Z0-9\-_]){0,61})?[a-zA-Z0-9]\.?)|\.";

    #[test]
    #[rustfmt::skip]
    fn ietf_inet_types() {
        let v6 = &["::", "::1", "fe80::1%eth0", "2001:db8::42:8329", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8"];
        let long = format!("{}.com", "a".repeat(63));
        check(&[
            (&format!(r"{IPV4}(%[\p{{N}}\p{{L}}]+)?"), &["0.0.0.0", "192.168.1.255", "10.0.0.1%eth0"], &["256.1.1.1", "1.2.3", "1.2.3.4%", "01.2.3.4", "1.2.3.4 "]),
            (&format!(r"{IPV6}(%[\p{{N}}\p{{L}}]+)?"), v6, &["1:2:3:4:5:6:7:8:9", "g::1", "12345::"]),
            (&format!("{IPV6_B}(%.+)?"), v6, &["1:2", "abc"]),
            (&format!("{IPV4}/(([0-9])|([1-2][0-9])|(3[0-2]))"), &["10.0.0.0/8"], &["10.0.0.0/33"]),
            (&format!("{IPV6_B}(/.+)"), &["2001:db8::/32"], &["2001:db8::"]),
            (DOMAIN, &["example.com", "example.com.", ".", "a", "_srv.x-y.org", &long], &["", "-a.com", "a-.com", "a..b", &format!("a{long}"), "a b"]),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn ietf_yang_types_and_others() {
        check(&[
            (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[\+\-]\d{2}:\d{2})", &["2024-01-31T12:00:00Z", "2024-01-31T12:00:00.5+05:30"], &["2024-01-31T12:00", "2024-01-31 12:00:00Z"]),
            ("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}", &["00:1b:44:11:3A:B7"], &["00:1b:44:11:3A", "00-1b-44-11-3A-B7"]),
            ("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", &["123e4567-e89b-12d3-a456-426614174000"], &["123e4567e89b12d3a456"]),
            (r"(([0-1](\.[1-3]?[0-9]))|(2\.(0|([1-9]\d*))))(\.(0|([1-9]\d*)))*", &["1.3.6.1.2.1", "2.999"], &["3.1", "1.3.06"]),
            ("([0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*)?", &["", "ab:cd"], &["abc"]),
            (".|..|[^xX].*|.[^mM].*|..[^lL].*", &["ifx", "xm", "xmi"], &["XMLfoo", "xml"]),
            (r"$0$.*|$1$[a-zA-Z0-9./]{1,8}$[a-zA-Z0-9./]{22}|$5$(rounds=\d+$)?[a-z]{1,16}", &["$0$clear", &format!("$1$salt${}", "x".repeat(22)), "$5$rounds=5$ab"], &["$2$x", "$1$salt$short"]),
        ]);
    }

    #[test]
    fn invert_match() {
        let p = Pattern::new("[xX][mM][lL].*", true).expect("compiles");
        assert!(p.is_match("interface") && !p.is_match("xml-foo") && !p.is_match("XML"));
        assert!(p.is_inverted() && p.source() == "[xX][mM][lL].*");
        assert!(Pattern::new("[0-9]+", true)
            .expect("compiles")
            .is_match("12a"));
        assert!(!Pattern::new("[0-9]+", false)
            .expect("compiles")
            .is_match("12a"));
    }

    /// Every pattern of up to 3 characters over a small alphabet: translation never
    /// panics, and whatever translates must also compile with the `regex` crate.
    #[test]
    fn every_accepted_short_pattern_compiles() {
        let (mut stack, mut accepted) = (vec![String::new()], 0);
        while let Some(p) = stack.pop() {
            if let Ok(re) = translate(&p) {
                Pattern::new(&p, false).unwrap_or_else(|e| panic!("{p:?} {re:?}: {e}"));
                accepted += 1;
            }
            if p.chars().count() < 3 {
                stack.extend(
                    "a-[]^\\(){}|.?*+,1dp$&~:"
                        .chars()
                        .map(|c| format!("{p}{c}")),
                );
            }
        }
        assert!(accepted > 1000, "{accepted}");
    }

    /// Every `pattern` statement of the installed IETF/IANA YANG modules compiles.
    #[test]
    fn installed_yang_module_patterns_compile() {
        let dir = std::env::var("YANG_MODULES_DIR");
        let dir = dir.as_deref().unwrap_or("/work/venv/share/yang/modules");
        let quoted = r#"'[^']*'|"(?:[^"\\]|\\.)*""#;
        let stmt = format!(r"(?:^|[;{{}}])\s*pattern\s+((?:{quoted})(?:\s*\+\s*(?:{quoted}))*)");
        let (stmt, part) = (
            Regex::new(&stmt).expect("re"),
            Regex::new(quoted).expect("re"),
        );
        let (mut dirs, mut count) = (vec![std::path::PathBuf::from(dir)], 0);
        while let Some(d) = dirs.pop() {
            for path in std::fs::read_dir(&d)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
            {
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                } else if path.extension().is_none_or(|e| e != "yang") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("readable module");
                for caps in stmt.captures_iter(&text) {
                    let mut p = String::new();
                    for q in part.find_iter(&caps[1]).map(|m| m.as_str()) {
                        let body = &q[1..q.len() - 1];
                        if q.starts_with('\'') {
                            p.push_str(body);
                        } else {
                            let esc =
                                [("\\n", "\n"), ("\\t", "\t"), ("\\\"", "\""), ("\\\\", "\\")];
                            p.push_str(
                                &esc.iter()
                                    .fold(body.to_string(), |s, (a, b)| s.replace(a, b)),
                            );
                        }
                    }
                    Pattern::new(&p, false)
                        .unwrap_or_else(|e| panic!("{}: {p:?}: {e}", path.display()));
                    count += 1;
                }
            }
        }
        if count == 0 {
            println!("skipped: no YANG modules with patterns under {dir}");
        }
        println!("{count} YANG patterns from {dir} compiled");
    }
}
