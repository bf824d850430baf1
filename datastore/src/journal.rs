//! The candidate's journal: each edit of the candidate is stored as one record holding the
//! chunks it touched (their value after the edit, or their absence), so an edit costs one write
//! whatever its size. Loading replays the records, in order, over running's chunks.

use crate::codec::{CodecError, Reader, Writer};

/// Chunks touched by one edit: (chunk key, XML after the edit or None if gone).
pub type Entry = Vec<(String, Option<String>)>;

pub fn encode(entry: &Entry) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(1); // format version
    w.u32(entry.len() as u32);
    for (key, xml) in entry {
        w.str(key);
        w.opt(xml.as_deref());
    }
    w.buf
}

pub fn decode(buf: &[u8]) -> Result<Entry, CodecError> {
    let mut r = Reader::new(buf);
    if r.u8()? != 1 {
        return Err(CodecError("unknown journal format"));
    }
    let n = r.u32()? as usize;
    let mut out = Vec::with_capacity(n.min(4096));
    for _ in 0..n {
        out.push((r.str()?, r.opt()?));
    }
    r.done()?;
    Ok(out)
}

/// The sled key of journal record `seq` (ordered by seq).
pub fn key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'j'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The seq of a journal key.
pub fn seq_of(key: &[u8]) -> Option<u64> {
    let b: [u8; 8] = key.get(1..9)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let e: Entry = vec![
            ("/a:x[a:n='1']".into(), Some("<x><n>1</n></x>".into())),
            ("/a:x[a:n='2']".into(), None),
        ];
        assert_eq!(decode(&encode(&e)).unwrap(), e);
        assert!(decode(&encode(&e)[..5]).is_err());
        assert_eq!(seq_of(&key(7)), Some(7));
        assert!(key(1) < key(256));
    }
}
