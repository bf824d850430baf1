//! NETCONF message framing over SSH (RFC 6242 §4): end-of-message (`]]>]]>`, base:1.0) and
//! chunked framing (`\n#<len>\n ... \n##\n`, base:1.1). A pure codec: bytes in, messages out.

use std::fmt;

/// The base:1.0 end-of-message marker.
pub const EOM: &[u8] = b"]]>]]>";

/// Largest chunk size RFC 6242 allows (4294967295).
const MAX_CHUNK: u64 = u32::MAX as u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    EndOfMessage,
    Chunked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    /// A chunk header that does not follow `\n#<1..4294967295>\n` or `\n##\n`.
    BadChunkHeader(String),
    /// The message grew beyond the configured limit.
    TooBig { limit: usize },
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::BadChunkHeader(m) => write!(f, "invalid chunk framing: {m}"),
            FramingError::TooBig { limit } => {
                write!(f, "message larger than the {limit}-byte limit")
            }
        }
    }
}

impl std::error::Error for FramingError {}

/// Incremental decoder: feed bytes with [`Decoder::push`], take messages with
/// [`Decoder::next_message`].
#[derive(Debug)]
pub struct Decoder {
    framing: Framing,
    buf: Vec<u8>,
    /// Chunked: the message assembled so far.
    message: Vec<u8>,
    /// Chunked: bytes of the current chunk still to read.
    remaining: usize,
    limit: usize,
}

impl Decoder {
    pub fn new(framing: Framing, limit: usize) -> Decoder {
        Decoder {
            framing,
            buf: Vec::new(),
            message: Vec::new(),
            remaining: 0,
            limit,
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Switch framing after the hello exchange; bytes already buffered are kept.
    pub fn set_framing(&mut self, framing: Framing) {
        self.framing = framing;
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet part of a complete message.
    pub fn pending(&self) -> usize {
        self.buf.len() + self.message.len()
    }

    /// The next complete message, if one has arrived.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        match self.framing {
            Framing::EndOfMessage => self.next_eom(),
            Framing::Chunked => self.next_chunked(),
        }
    }

    fn next_eom(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        match find(&self.buf, EOM) {
            Some(i) => {
                let msg = self.buf[..i].to_vec();
                self.buf.drain(..i + EOM.len());
                Ok(Some(msg))
            }
            None if self.buf.len() > self.limit => Err(FramingError::TooBig { limit: self.limit }),
            None => Ok(None),
        }
    }

    fn next_chunked(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        loop {
            if self.remaining > 0 {
                let n = self.remaining.min(self.buf.len());
                if n == 0 {
                    return Ok(None);
                }
                self.message.extend(self.buf.drain(..n));
                self.remaining -= n;
                if self.message.len() > self.limit {
                    return Err(FramingError::TooBig { limit: self.limit });
                }
                continue;
            }
            // A header: "\n#" then either "#\n" (end of message) or digits and "\n".
            if self.buf.len() < 3 {
                return self.check_prefix();
            }
            if &self.buf[..2] != b"\n#" {
                return Err(FramingError::BadChunkHeader(format!(
                    "expected '\\n#', found {:?}",
                    String::from_utf8_lossy(&self.buf[..2])
                )));
            }
            if self.buf[2] == b'#' {
                if self.buf.len() < 4 {
                    return Ok(None);
                }
                if self.buf[3] != b'\n' {
                    return Err(FramingError::BadChunkHeader(
                        "'\\n##' not followed by newline".into(),
                    ));
                }
                self.buf.drain(..4);
                if self.message.is_empty() {
                    return Err(FramingError::BadChunkHeader(
                        "end-of-chunks with no chunk".into(),
                    ));
                }
                return Ok(Some(std::mem::take(&mut self.message)));
            }
            let digits_end = self.buf[2..].iter().position(|b| !b.is_ascii_digit());
            let Some(d) = digits_end else {
                if self.buf.len() - 2 > 10 {
                    return Err(FramingError::BadChunkHeader("chunk size too long".into()));
                }
                return Ok(None);
            };
            let digits = &self.buf[2..2 + d];
            if self.buf[2 + d] != b'\n' || digits.is_empty() || digits[0] == b'0' || d > 10 {
                return Err(FramingError::BadChunkHeader(format!(
                    "bad chunk size {:?}",
                    String::from_utf8_lossy(&self.buf[2..(3 + d).min(self.buf.len())])
                )));
            }
            let size: u64 = std::str::from_utf8(digits)
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|&n| (1..=MAX_CHUNK).contains(&n))
                .ok_or_else(|| FramingError::BadChunkHeader("chunk size out of range".into()))?;
            if self.message.len() as u64 + size > self.limit as u64 {
                return Err(FramingError::TooBig { limit: self.limit });
            }
            self.buf.drain(..3 + d);
            self.remaining = size as usize;
        }
    }

    /// With fewer than 3 buffered bytes, reject early what can never become a header.
    fn check_prefix(&self) -> Result<Option<Vec<u8>>, FramingError> {
        let ok = matches!(self.buf.as_slice(), [] | [b'\n'] | [b'\n', b'#']);
        if ok {
            Ok(None)
        } else {
            Err(FramingError::BadChunkHeader(format!(
                "expected '\\n#', found {:?}",
                String::from_utf8_lossy(&self.buf)
            )))
        }
    }
}

/// Frame one message for sending.
pub fn encode(msg: &[u8], framing: Framing) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 16);
    match framing {
        Framing::EndOfMessage => {
            out.extend_from_slice(msg);
            out.extend_from_slice(EOM);
        }
        Framing::Chunked => {
            let mut rest = msg;
            while !rest.is_empty() {
                let (chunk, tail) = rest.split_at(chunk_end(rest));
                out.extend_from_slice(format!("\n#{}\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                rest = tail;
            }
            out.extend_from_slice(b"\n##\n");
        }
    }
    out
}

/// The largest chunk the server sends. RFC 6242 allows up to 4 GiB in one chunk, but clients
/// may rescan their whole pending chunk on every read: ncclient 0.7 decodes it again for each
/// 4 KiB it receives, which is quadratic in the chunk's size (a 5 MB reply in one chunk cost it
/// 0.6-0.8 s, in 32 KiB chunks 45 ms; BENCHMARKS.md).
pub const SEND_CHUNK: usize = 32 * 1024;

/// Where the first chunk of `rest` ends: at most [`SEND_CHUNK`] bytes, and not inside a UTF-8
/// character (clients such as ncclient decode each chunk on its own).
fn chunk_end(rest: &[u8]) -> usize {
    if rest.len() <= SEND_CHUNK {
        return rest.len();
    }
    let is_continuation = |b: u8| b & 0xc0 == 0x80;
    let mut end = SEND_CHUNK;
    // A UTF-8 character is at most 4 bytes; anything else (not UTF-8) is cut where it falls.
    while end > SEND_CHUNK - 3 && is_continuation(rest[end]) {
        end -= 1;
    }
    if is_continuation(rest[end]) {
        SEND_CHUNK
    } else {
        end
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(d: &mut Decoder) -> Result<Vec<Vec<u8>>, FramingError> {
        let mut out = Vec::new();
        while let Some(m) = d.next_message()? {
            out.push(m);
        }
        Ok(out)
    }

    #[test]
    fn end_of_message_split_anywhere() {
        let stream = b"<a/>]]>]]><b/>]]>]]>";
        for cut in 0..stream.len() {
            let mut d = Decoder::new(Framing::EndOfMessage, 1 << 20);
            d.push(&stream[..cut]);
            let mut got = all(&mut d).unwrap();
            d.push(&stream[cut..]);
            got.extend(all(&mut d).unwrap());
            assert_eq!(got, [b"<a/>".to_vec(), b"<b/>".to_vec()], "cut {cut}");
        }
    }

    #[test]
    fn chunked_split_anywhere() {
        // RFC 6242 §4.2 example shape: two chunks making one message, then another message.
        let stream = b"\n#4\n<rpc\n#18\n message-id=\"102\"\n\n##\n\n#3\nabc\n##\n";
        for cut in 0..stream.len() {
            let mut d = Decoder::new(Framing::Chunked, 1 << 20);
            d.push(&stream[..cut]);
            let mut got = all(&mut d).unwrap();
            d.push(&stream[cut..]);
            got.extend(all(&mut d).unwrap());
            assert_eq!(
                got,
                [b"<rpc message-id=\"102\"\n".to_vec(), b"abc".to_vec()],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn round_trip() {
        for f in [Framing::EndOfMessage, Framing::Chunked] {
            let mut d = Decoder::new(f, 1 << 20);
            d.push(&encode(b"<x>1</x>", f));
            d.push(&encode(b"<y/>", f));
            assert_eq!(
                all(&mut d).unwrap(),
                [b"<x>1</x>".to_vec(), b"<y/>".to_vec()]
            );
        }
    }

    /// A long message goes out in chunks of at most SEND_CHUNK bytes, each whole UTF-8 text,
    /// and decodes back to itself.
    #[test]
    fn long_messages_are_sent_in_chunks_cut_between_characters() {
        // Multi-byte characters of every width, so that some fall across every cut position.
        let text: String = (0..40_000)
            .map(|i| ["a", "\u{e9}", "\u{20ac}", "\u{1d11e}"][i % 4])
            .collect();
        for shift in 0..4 {
            let msg = format!("{}{text}", "x".repeat(shift));
            let framed = encode(msg.as_bytes(), Framing::Chunked);
            let mut d = Decoder::new(Framing::Chunked, 1 << 24);
            d.push(&framed);
            assert_eq!(all(&mut d).unwrap(), [msg.as_bytes().to_vec()]);
            // Walk the chunks: sizes, and each one valid UTF-8 by itself.
            let mut rest = &framed[..];
            let mut lens = Vec::new();
            while rest != b"\n##\n" {
                let body = rest.strip_prefix(b"\n#").unwrap();
                let nl = body.iter().position(|&b| b == b'\n').unwrap();
                let len: usize = std::str::from_utf8(&body[..nl]).unwrap().parse().unwrap();
                let chunk = &body[nl + 1..nl + 1 + len];
                assert!(
                    std::str::from_utf8(chunk).is_ok(),
                    "chunk {} cuts a character",
                    lens.len()
                );
                lens.push(len);
                rest = &body[nl + 1 + len..];
            }
            let (last, full) = lens.split_last().unwrap();
            assert!(
                full.iter().all(|&l| l <= SEND_CHUNK && l > SEND_CHUNK - 4),
                "{lens:?}"
            );
            assert!(*last <= SEND_CHUNK);
            assert_eq!(lens.iter().sum::<usize>(), msg.len());
            let chunks = lens.len();
            assert!(
                chunks > msg.len() / SEND_CHUNK,
                "shift {shift}: {chunks} chunks"
            );
        }
    }

    #[test]
    fn bad_chunk_headers() {
        for bad in [
            &b"#4\nabcd"[..],
            b"\n#0\n",
            b"\n#04\nabcd",
            b"\n#x\n",
            b"\n#4294967296\n",
            b"\n#99999999999\n",
            b"\n##\n",
            b"\n#3\nabc\n#\n",
            b"\n##x",
            b"<rpc/>",
        ] {
            let mut d = Decoder::new(Framing::Chunked, 1 << 20);
            d.push(bad);
            assert!(
                matches!(all(&mut d), Err(FramingError::BadChunkHeader(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn size_limits() {
        let mut d = Decoder::new(Framing::Chunked, 10);
        d.push(b"\n#11\n");
        assert_eq!(all(&mut d), Err(FramingError::TooBig { limit: 10 }));
        let mut d = Decoder::new(Framing::EndOfMessage, 10);
        d.push(&[b'a'; 11]);
        assert_eq!(all(&mut d), Err(FramingError::TooBig { limit: 10 }));
        let mut d = Decoder::new(Framing::Chunked, 10);
        d.push(b"\n#6\nabcdef\n#6\nabcdef");
        assert_eq!(all(&mut d), Err(FramingError::TooBig { limit: 10 }));
    }
}
