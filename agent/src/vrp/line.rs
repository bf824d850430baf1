//! The interactive CLI's line editor, over any byte stream (an SSH channel with a terminal):
//! the client's key bytes in, one at a time; the bytes that redraw the line out, and an
//! [`Event`] when a key ends the line or asks something of the session. No terminal of our
//! own: the client's terminal is in raw mode, so echo and cursor movement are ours.
//!
//! Keys: printable characters (UTF-8) insert at the cursor; Backspace/Delete; Left/Right,
//! Home/End (and Ctrl-B/F/A/E); Up/Down and Ctrl-P/N walk the history; Ctrl-U/K/W kill the
//! line, its end, the word before the cursor; Enter ends the line; Ctrl-C abandons it; Ctrl-D
//! on an empty line ends the session; Ctrl-Z returns to the user view (VRP's); Tab and `?`
//! ask for completion and help. Other control bytes and unknown escape sequences are ignored.
//! A line holds at most [`MAX_LINE`] characters (more rings the bell), so nothing a client
//! sends makes it grow without bound. The cursor moves with backspace bytes and the line is
//! redrawn with spaces: only what every terminal does, one column per character.

use std::collections::VecDeque;

/// Characters in one line, at most (VRP takes 510; long descriptions fit).
pub const MAX_LINE: usize = 4096;
/// Lines kept in the history.
pub const HISTORY: usize = 256;
/// Bytes of an escape sequence, at most; a longer one is dropped.
const MAX_ESCAPE: usize = 16;

const BELL: u8 = 0x07;
const BS: u8 = 0x08;

/// What a key asks of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Enter: the line (the editor is empty again).
    Line(String),
    /// Ctrl-C: the line was abandoned.
    Cancel,
    /// Ctrl-D on an empty line.
    Eof,
    /// Ctrl-Z: back to the user view.
    Return,
    /// Tab: complete the word before the cursor ([`Editor::before_cursor`]).
    Complete,
    /// `?`: list what may follow the text before the cursor.
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Escape {
    None,
    /// ESC seen.
    Start,
    /// `ESC [` and the parameter bytes so far.
    Csi(Vec<u8>),
    /// `ESC O`.
    Ss3,
    /// A CSI sequence too long to be a key: skipped to its final byte.
    Skip,
}

/// One line being typed, and the lines typed before.
#[derive(Debug, Clone)]
pub struct Editor {
    buf: Vec<char>,
    cursor: usize,
    history: VecDeque<String>,
    /// While walking the history: the entry shown, and the line that was being typed.
    browsing: Option<(usize, Vec<char>)>,
    utf8: Vec<u8>,
    escape: Escape,
    /// The previous byte was CR: a LF right after it is the same Enter.
    after_cr: bool,
}

impl Default for Editor {
    fn default() -> Self {
        Editor::new()
    }
}

impl Editor {
    pub fn new() -> Editor {
        Editor {
            buf: Vec::new(),
            cursor: 0,
            history: VecDeque::new(),
            browsing: None,
            utf8: Vec::new(),
            escape: Escape::None,
            after_cr: false,
        }
    }

    /// The line so far.
    pub fn text(&self) -> String {
        self.buf.iter().collect()
    }

    /// The line up to the cursor (what Tab and `?` look at).
    pub fn before_cursor(&self) -> String {
        self.buf[..self.cursor].iter().collect()
    }

    /// Take one byte from the client; what to send back is appended to `out`.
    pub fn key(&mut self, byte: u8, out: &mut Vec<u8>) -> Option<Event> {
        let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
        if self.escape != Escape::None {
            self.escape_byte(byte, out);
            return None;
        }
        if byte >= 0x80 {
            self.utf8_byte(byte, out);
            return None;
        }
        // An ASCII byte ends an unfinished UTF-8 sequence, which is dropped.
        self.utf8.clear();
        match byte {
            b'\r' => return Some(self.enter(out)),
            b'\n' if after_cr => {}
            b'\n' => return Some(self.enter(out)),
            0x1b => self.escape = Escape::Start,
            0x7f | BS => self.backspace(out),
            0x03 => {
                out.extend_from_slice(b"^C\r\n");
                self.clear();
                return Some(Event::Cancel);
            }
            0x04 if self.buf.is_empty() => return Some(Event::Eof),
            0x04 => self.delete(out),
            0x1a => {
                out.extend_from_slice(b"\r\n");
                self.clear();
                return Some(Event::Return);
            }
            b'\t' => return Some(Event::Complete),
            b'?' => return Some(Event::Help),
            0x01 => self.home(out),
            0x05 => self.end(out),
            0x02 => self.left(out),
            0x06 => self.right(out),
            0x10 => self.older(out),
            0x0e => self.newer(out),
            0x15 => self.kill(0, self.buf.len(), out),
            0x0b => self.kill(self.cursor, self.buf.len(), out),
            0x17 => {
                let mut start = self.cursor;
                while start > 0 && self.buf[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && self.buf[start - 1] != ' ' {
                    start -= 1;
                }
                self.kill(start, self.cursor, out);
            }
            0x20..=0x7e => self.insert(char::from(byte), out),
            _ => {}
        }
        None
    }

    fn utf8_byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        self.utf8.push(byte);
        match std::str::from_utf8(&self.utf8) {
            Ok(s) => {
                let c = s.chars().next();
                self.utf8.clear();
                if let Some(c) = c.filter(|c| !c.is_control()) {
                    self.insert(c, out);
                }
            }
            // Incomplete so far: wait for the rest.
            Err(e) if e.error_len().is_none() && self.utf8.len() < 4 => {}
            Err(_) => self.utf8.clear(),
        }
    }

    fn escape_byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        match std::mem::replace(&mut self.escape, Escape::None) {
            Escape::None => {}
            Escape::Start => match byte {
                b'[' => self.escape = Escape::Csi(Vec::new()),
                b'O' => self.escape = Escape::Ss3,
                _ => {}
            },
            Escape::Ss3 => self.arrow(byte, out),
            Escape::Skip => {
                if (0x20..=0x3f).contains(&byte) {
                    self.escape = Escape::Skip;
                }
            }
            Escape::Csi(mut params) => match byte {
                0x20..=0x3f if params.len() < MAX_ESCAPE => {
                    params.push(byte);
                    self.escape = Escape::Csi(params);
                }
                0x20..=0x3f => self.escape = Escape::Skip,
                0x40..=0x7e => match (params.as_slice(), byte) {
                    (b"1" | b"7", b'~') => self.home(out),
                    (b"4" | b"8", b'~') => self.end(out),
                    (b"3", b'~') => self.delete(out),
                    (_, b'~') => {}
                    _ => self.arrow(byte, out),
                },
                // Not a CSI byte: the sequence is dropped.
                _ => {}
            },
        }
    }

    fn arrow(&mut self, byte: u8, out: &mut Vec<u8>) {
        match byte {
            b'A' => self.older(out),
            b'B' => self.newer(out),
            b'C' => self.right(out),
            b'D' => self.left(out),
            b'H' => self.home(out),
            b'F' => self.end(out),
            _ => {}
        }
    }

    fn enter(&mut self, out: &mut Vec<u8>) -> Event {
        out.extend_from_slice(b"\r\n");
        let line = self.text();
        if !line.trim().is_empty() && self.history.back() != Some(&line) {
            if self.history.len() == HISTORY {
                self.history.pop_front();
            }
            self.history.push_back(line.clone());
        }
        self.clear();
        Event::Line(line)
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.cursor = 0;
        self.browsing = None;
        self.utf8.clear();
        self.escape = Escape::None;
    }

    /// Write `chars`, then move the cursor back over the last `back` of them.
    fn put(out: &mut Vec<u8>, chars: &[char], back: usize) {
        let mut tmp = [0u8; 4];
        for c in chars {
            out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        }
        out.extend(std::iter::repeat_n(BS, back));
    }

    /// Insert text at the cursor (a character typed, or a completion).
    pub fn insert_str(&mut self, s: &str, out: &mut Vec<u8>) {
        for c in s.chars() {
            self.insert(c, out);
        }
    }

    fn insert(&mut self, c: char, out: &mut Vec<u8>) {
        if self.buf.len() >= MAX_LINE {
            out.push(BELL);
            return;
        }
        self.buf.insert(self.cursor, c);
        self.cursor += 1;
        let tail = self.buf.len() - self.cursor;
        Self::put(out, &self.buf[self.cursor - 1..], tail);
    }

    fn backspace(&mut self, out: &mut Vec<u8>) {
        if self.cursor == 0 {
            return;
        }
        self.cursor -= 1;
        out.push(BS);
        self.delete(out);
    }

    /// Delete the character under the cursor.
    fn delete(&mut self, out: &mut Vec<u8>) {
        if self.cursor == self.buf.len() {
            return;
        }
        self.buf.remove(self.cursor);
        let mut tail: Vec<char> = self.buf[self.cursor..].to_vec();
        tail.push(' ');
        Self::put(out, &tail, tail.len());
    }

    /// Remove the characters `from..to` and redraw from there.
    fn kill(&mut self, from: usize, to: usize, out: &mut Vec<u8>) {
        if from >= to {
            return;
        }
        out.extend(std::iter::repeat_n(BS, self.cursor - from));
        self.buf.drain(from..to);
        self.cursor = from;
        let mut tail: Vec<char> = self.buf[from..].to_vec();
        tail.extend(std::iter::repeat_n(' ', to - from));
        Self::put(out, &tail, tail.len());
    }

    fn home(&mut self, out: &mut Vec<u8>) {
        out.extend(std::iter::repeat_n(BS, self.cursor));
        self.cursor = 0;
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        Self::put(out, &self.buf[self.cursor..], 0);
        self.cursor = self.buf.len();
    }

    fn left(&mut self, out: &mut Vec<u8>) {
        if self.cursor > 0 {
            self.cursor -= 1;
            out.push(BS);
        }
    }

    fn right(&mut self, out: &mut Vec<u8>) {
        if self.cursor < self.buf.len() {
            Self::put(out, &self.buf[self.cursor..=self.cursor], 0);
            self.cursor += 1;
        }
    }

    /// Show `line` in place of the current one, the cursor at its end.
    fn replace(&mut self, line: Vec<char>, out: &mut Vec<u8>) {
        out.extend(std::iter::repeat_n(BS, self.cursor));
        let extra = self.buf.len().saturating_sub(line.len());
        Self::put(out, &line, 0);
        out.extend(std::iter::repeat_n(b' ', extra));
        out.extend(std::iter::repeat_n(BS, extra));
        self.cursor = line.len();
        self.buf = line;
    }

    fn older(&mut self, out: &mut Vec<u8>) {
        let index = match &self.browsing {
            None if self.history.is_empty() => None,
            None => Some(self.history.len() - 1),
            Some((0, _)) => None,
            Some((i, _)) => Some(i - 1),
        };
        let Some(index) = index else {
            out.push(BELL);
            return;
        };
        let saved = match self.browsing.take() {
            Some((_, saved)) => saved,
            None => self.buf.clone(),
        };
        let line = self.history[index].chars().collect();
        self.browsing = Some((index, saved));
        self.replace(line, out);
    }

    fn newer(&mut self, out: &mut Vec<u8>) {
        let Some((index, saved)) = self.browsing.take() else {
            out.push(BELL);
            return;
        };
        if index + 1 < self.history.len() {
            let line = self.history[index + 1].chars().collect();
            self.browsing = Some((index + 1, saved));
            self.replace(line, out);
        } else {
            self.replace(saved, out);
        }
    }

    /// Draw the whole line again (after a listing printed below it and a new prompt), with
    /// the cursor where it was.
    pub fn redraw(&self, out: &mut Vec<u8>) {
        Self::put(out, &self.buf, self.buf.len() - self.cursor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `input`; the events and what the terminal shows (backspaces applied).
    fn feed(e: &mut Editor, input: &[u8]) -> (Vec<Event>, Vec<u8>) {
        let mut out = Vec::new();
        let mut events = Vec::new();
        for &b in input {
            if let Some(ev) = e.key(b, &mut out) {
                events.push(ev);
            }
        }
        (events, out)
    }

    /// What a terminal shows on one row after `out` (one column per character).
    fn screen(out: &[u8]) -> String {
        let mut row: Vec<char> = Vec::new();
        let mut col = 0usize;
        for c in String::from_utf8_lossy(out).chars() {
            match c {
                '\u{8}' => col = col.saturating_sub(1),
                '\u{7}' => {}
                c => {
                    if col < row.len() {
                        row[col] = c;
                    } else {
                        row.push(c);
                    }
                    col += 1;
                }
            }
        }
        row.into_iter().collect::<String>().trim_end().to_string()
    }

    fn line(e: &mut Editor, input: &[u8]) -> String {
        let (events, _) = feed(e, input);
        match events.as_slice() {
            [Event::Line(l)] => l.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn typing_and_enter() {
        let mut e = Editor::new();
        let (events, out) = feed(&mut e, b"system-view\r");
        assert_eq!(events, [Event::Line("system-view".into())]);
        assert_eq!(out, b"system-view\r\n");
        // CR LF is one Enter; LF alone is one too.
        assert_eq!(
            feed(&mut e, b"a\r\nb\n").0,
            [Event::Line("a".into()), Event::Line("b".into())]
        );
    }

    #[test]
    fn editing_in_the_middle() {
        let mut e = Editor::new();
        // "sytem", left x3, insert 's' -> "system"; End; backspace x1 -> "syste"; "m-view"
        let (_, out) = feed(&mut e, b"sytem\x1b[D\x1b[D\x1b[Ds\x1b[F\x7fm-view");
        assert_eq!(e.text(), "system-view");
        assert_eq!(screen(&out), "system-view");
        // Home, Delete x7 -> "view"; Ctrl-E; Ctrl-W kills the word; Ctrl-U the line.
        let (_, out2) = feed(
            &mut e,
            b"\x1b[H\x1b[3~\x1b[3~\x1b[3~\x1b[3~\x1b[3~\x1b[3~\x1b[3~",
        );
        assert_eq!(e.text(), "view");
        let mut all = out.clone();
        all.extend_from_slice(&out2);
        assert_eq!(screen(&all), "view");
        feed(&mut e, b"\x05 one two\x17");
        assert_eq!(e.text(), "view one ");
        feed(&mut e, b"\x15");
        assert_eq!(e.text(), "");
        assert_eq!(line(&mut e, b"x\r"), "x");
    }

    #[test]
    fn ctrl_c_ctrl_d_ctrl_z() {
        let mut e = Editor::new();
        let (events, out) = feed(&mut e, b"interface x\x03");
        assert_eq!(events, [Event::Cancel]);
        assert!(out.ends_with(b"^C\r\n"));
        assert_eq!(e.text(), "");
        // Ctrl-D deletes under the cursor, and ends the session on an empty line.
        assert_eq!(feed(&mut e, b"ab\x02\x04").0, []);
        assert_eq!(e.text(), "a");
        assert_eq!(feed(&mut e, b"\x15\x04").0, [Event::Eof]);
        assert_eq!(feed(&mut e, b"x\x1a").0, [Event::Return]);
        assert_eq!(e.text(), "");
    }

    #[test]
    fn history_up_and_down() {
        let mut e = Editor::new();
        line(&mut e, b"one\r");
        line(&mut e, b"two\r");
        line(&mut e, b"two\r");
        line(&mut e, b"   \r");
        feed(&mut e, b"thr");
        let (_, out) = feed(&mut e, b"\x1b[A");
        assert_eq!(e.text(), "two", "duplicates and blank lines are not kept");
        feed(&mut e, b"\x1b[A");
        assert_eq!(e.text(), "one");
        let (_, bell) = feed(&mut e, b"\x1b[A");
        assert_eq!(bell, [BELL]);
        feed(&mut e, b"\x1bOB");
        assert_eq!(e.text(), "two");
        let (_, back) = feed(&mut e, b"\x0e");
        assert_eq!(e.text(), "thr", "the line being typed comes back");
        let mut all = b"thr".to_vec();
        all.extend_from_slice(&out);
        all.extend_from_slice(&back);
        assert_eq!(screen(&all), "thr");
        assert_eq!(line(&mut e, b"\x10x\r"), "twox");
    }

    #[test]
    fn tab_help_and_completion() {
        let mut e = Editor::new();
        let (events, out) = feed(&mut e, b"sys\t");
        assert_eq!(events, [Event::Complete]);
        assert_eq!(e.before_cursor(), "sys");
        e.insert_str("tem-view ", &mut Vec::new());
        assert_eq!(feed(&mut e, b"?").0, [Event::Help]);
        assert_eq!(e.text(), "system-view ", "? is not inserted");
        let mut again = Vec::new();
        e.redraw(&mut again);
        assert_eq!(screen(&again), "system-view");
        assert_eq!(screen(&out), "sys");
    }

    #[test]
    fn utf8_and_control_bytes() {
        let mut e = Editor::new();
        feed(&mut e, "description café ünï".as_bytes());
        assert_eq!(e.text(), "description café ünï");
        // Invalid UTF-8, stray control bytes and unknown escapes are dropped.
        feed(
            &mut e,
            b"\xff\xc3\x28\x00\x07\x1b[99;99Z\x1bx\x1b[12~\x1c\x1d\x1e\x1f",
        );
        assert_eq!(e.text(), "description café ünï(");
    }

    #[test]
    fn long_lines_and_endless_escapes_stay_bounded() {
        let mut e = Editor::new();
        let (_, out) = feed(&mut e, &vec![b'x'; MAX_LINE + 100]);
        assert_eq!(e.text().len(), MAX_LINE);
        assert_eq!(out.iter().filter(|&&b| b == BELL).count(), 100);
        let mut endless = b"\x1b[".to_vec();
        endless.extend(std::iter::repeat_n(b'1', 100_000));
        feed(&mut e, &endless);
        assert_eq!(e.text().len(), MAX_LINE);
        assert_eq!(e.escape, Escape::Skip);
        assert_eq!(line(&mut e, b"~\x15ok\r"), "ok");
    }

    proptest::proptest! {
        /// Any bytes: no panic, the line stays bounded, and the cursor inside it.
        #[test]
        fn any_bytes(input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
            let mut e = Editor::new();
            let mut out = Vec::new();
            for b in input {
                let _ = e.key(b, &mut out);
                proptest::prop_assert!(e.buf.len() <= MAX_LINE);
                proptest::prop_assert!(e.cursor <= e.buf.len());
            }
        }
    }
}
