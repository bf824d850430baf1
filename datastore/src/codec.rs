//! A small length-prefixed binary encoding for the records kept in sled.
//!
//! Records of format 2 write lengths as LEB128 varints and *front-code* the strings of a
//! sequence: each one is stored as the length of the prefix it shares with the one before it,
//! then the rest. Consecutive paths and chunks of a list share most of their bytes
//! (`/mg:monitor-groups/mg:monitor-group[mg:name='mg1234']/...`), so a commit of 10,000 entries
//! writes about a quarter of the bytes it did with whole strings.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub &'static str);

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt record: {}", self.0)
    }
}

impl std::error::Error for CodecError {}

#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
    }
    pub fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
    /// An unsigned LEB128 varint.
    pub fn var(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(b);
                return;
            }
            self.buf.push(b | 0x80);
        }
    }
    /// `s` after `prev`: the length of their common prefix, then the rest of `s`.
    pub fn front(&mut self, prev: &str, s: &str) {
        let mut n = prev
            .bytes()
            .zip(s.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.var(n as u64);
        self.var((s.len() - n) as u64);
        self.buf.extend_from_slice(&s.as_bytes()[n..]);
    }
    /// An optional string front-coded after `prev` (the last present value of its field).
    pub fn front_opt(&mut self, prev: &str, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.front(prev, s);
            }
            None => self.u8(0),
        }
    }
}

/// The previous value of a front-coded field, on the writing side: what the next value is
/// coded against.
#[derive(Default)]
pub struct Front<'a>(&'a str);

impl<'a> Front<'a> {
    pub fn put(&mut self, w: &mut Writer, s: &'a str) {
        w.front(self.0, s);
        self.0 = s;
    }
    pub fn put_opt(&mut self, w: &mut Writer, s: Option<&'a str>) {
        w.front_opt(self.0, s);
        if let Some(s) = s {
            self.0 = s;
        }
    }
}

pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return Err(CodecError("truncated"));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn u64(&mut self) -> Result<u64, CodecError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    pub fn str(&mut self) -> Result<String, CodecError> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| CodecError("invalid UTF-8"))
    }
    pub fn opt(&mut self) -> Result<Option<String>, CodecError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.str()?)),
            _ => Err(CodecError("bad option tag")),
        }
    }
    /// Step over a string without copying it (its bytes are not checked for UTF-8).
    pub fn skip_str(&mut self) -> Result<(), CodecError> {
        let n = self.u32()? as usize;
        self.take(n).map(|_| ())
    }
    pub fn skip_opt(&mut self) -> Result<(), CodecError> {
        match self.u8()? {
            0 => Ok(()),
            1 => self.skip_str(),
            _ => Err(CodecError("bad option tag")),
        }
    }
    pub fn var(&mut self) -> Result<u64, CodecError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CodecError("bad varint"))
    }
    /// A length read as a varint, no larger than what is left of the buffer.
    fn len(&mut self) -> Result<usize, CodecError> {
        let n = self.var()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.buf.len())
            .ok_or(CodecError("truncated"))
    }
    /// A string front-coded after `prev`.
    pub fn front(&mut self, prev: &str) -> Result<String, CodecError> {
        let shared = self.var()?;
        let shared = usize::try_from(shared)
            .ok()
            .filter(|&n| n <= prev.len() && prev.is_char_boundary(n))
            .ok_or(CodecError("bad shared prefix"))?;
        let n = self.len()?;
        let rest = std::str::from_utf8(self.take(n)?).map_err(|_| CodecError("invalid UTF-8"))?;
        let mut s = String::with_capacity(shared + rest.len());
        s.push_str(&prev[..shared]);
        s.push_str(rest);
        Ok(s)
    }
    pub fn front_opt(&mut self, prev: &str) -> Result<Option<String>, CodecError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.front(prev)?)),
            _ => Err(CodecError("bad option tag")),
        }
    }
    /// Step over a front-coded string after one of `prev_len` bytes; its length.
    pub fn skip_front(&mut self, prev_len: usize) -> Result<usize, CodecError> {
        let shared = self.var()?;
        let shared = usize::try_from(shared)
            .ok()
            .filter(|&n| n <= prev_len)
            .ok_or(CodecError("bad shared prefix"))?;
        let n = self.len()?;
        self.take(n)?;
        Ok(shared + n)
    }
    /// Step over an optional front-coded string; the length of the field's last present value.
    pub fn skip_front_opt(&mut self, prev_len: usize) -> Result<usize, CodecError> {
        match self.u8()? {
            0 => Ok(prev_len),
            1 => self.skip_front(prev_len),
            _ => Err(CodecError("bad option tag")),
        }
    }
    pub fn done(&self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(CodecError("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let mut w = Writer::default();
        w.u64(7);
        w.str("héllo");
        w.opt(None);
        w.opt(Some("x"));
        w.u32(3);
        let mut r = Reader::new(&w.buf);
        assert_eq!(r.u64().unwrap(), 7);
        assert_eq!(r.str().unwrap(), "héllo");
        assert_eq!(r.opt().unwrap(), None);
        assert_eq!(r.opt().unwrap().as_deref(), Some("x"));
        assert_eq!(r.u32().unwrap(), 3);
        r.done().unwrap();
        for cut in 0..w.buf.len() {
            let mut r = Reader::new(&w.buf[..cut]);
            let ok = r
                .u64()
                .and_then(|_| r.str())
                .and_then(|_| r.opt())
                .and_then(|_| r.opt())
                .and_then(|_| r.u32());
            assert!(ok.is_err());
        }
    }

    #[test]
    fn front_coding_round_trip_and_truncation() {
        let values = [
            "",
            "/a:x[a:n='1']",
            "/a:x[a:n='1']/a:y",
            "/a:x[a:n='12']",
            "é",
            "éa",
            "b",
        ];
        let mut w = Writer::default();
        let mut f = Front::default();
        for v in values {
            f.put(&mut w, v);
        }
        let mut g = Front::default();
        g.put_opt(&mut w, Some("<x>1</x>"));
        g.put_opt(&mut w, None);
        g.put_opt(&mut w, Some("<x>2</x>"));
        w.var(u64::MAX);
        let bytes = w.buf;
        let decode = |b: &[u8]| -> Result<(), CodecError> {
            let mut r = Reader::new(b);
            let mut prev = String::new();
            for v in values {
                prev = r.front(&prev)?;
                assert_eq!(prev, v);
            }
            assert_eq!(r.front_opt("")?.as_deref(), Some("<x>1</x>"));
            assert_eq!(r.front_opt("<x>1</x>")?, None);
            assert_eq!(r.front_opt("<x>1</x>")?.as_deref(), Some("<x>2</x>"));
            assert_eq!(r.var()?, u64::MAX);
            r.done()
        };
        decode(&bytes).unwrap();
        let skip = |b: &[u8]| -> Result<(), CodecError> {
            let mut r = Reader::new(b);
            let mut n = 0;
            for v in values {
                n = r.skip_front(n)?;
                assert_eq!(n, v.len());
            }
            let n = r.skip_front_opt(0)?;
            assert_eq!(r.skip_front_opt(n)?, n);
            r.skip_front_opt(n)?;
            r.var()?;
            r.done()
        };
        skip(&bytes).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
            assert!(skip(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // A shared prefix longer than the previous value, or inside a character, is refused.
        let mut r = Reader::new(&[3, 0]);
        assert!(r.front("ab").is_err());
        let mut r = Reader::new(&[1, 0]);
        assert!(r.front("é").is_err());
    }
}
