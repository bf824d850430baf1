//! The candidate's journal: each edit of the candidate is stored as one record holding the
//! chunks it touched (their value after the edit, or their absence), so an edit costs one write
//! whatever its size. Loading replays the records, in order, over running's chunks.

use crate::codec::{CodecError, Front, Reader, Writer};

/// Chunks touched by one edit: (chunk key, XML after the edit or None if gone).
pub type Entry = Vec<(String, Option<String>)>;

/// Format 2: keys and XML front-coded (see [`crate::codec`]).
pub fn encode(entry: &Entry) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(2); // format version
    w.u32(entry.len() as u32);
    let (mut key, mut xml) = (Front::default(), Front::default());
    for (k, x) in entry {
        key.put(&mut w, k);
        xml.put_opt(&mut w, x.as_deref());
    }
    w.buf
}

pub fn decode(buf: &[u8]) -> Result<Entry, CodecError> {
    let mut r = Reader::new(buf);
    let format = r.u8()?;
    if format != 1 && format != 2 {
        return Err(CodecError("unknown journal format"));
    }
    let n = r.u32()? as usize;
    let mut out: Entry = Vec::with_capacity(n.min(4096));
    let mut last_xml = String::new();
    for _ in 0..n {
        if format == 1 {
            out.push((r.str()?, r.opt()?));
            continue;
        }
        let key = r.front(out.last().map_or("", |(k, _)| k.as_str()))?;
        let xml = r.front_opt(&last_xml)?;
        if let Some(x) = &xml {
            last_xml.clone_from(x);
        }
        out.push((key, xml));
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
            ("/a:x[a:n='3']".into(), Some("<x><n>3</n></x>".into())),
        ];
        let mut v1 = Writer::default();
        v1.u8(1);
        v1.u32(e.len() as u32);
        for (k, x) in &e {
            v1.str(k);
            v1.opt(x.as_deref());
        }
        for bytes in [encode(&e), v1.buf] {
            assert_eq!(decode(&bytes).unwrap(), e);
            for cut in 0..bytes.len() {
                assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
            }
        }
        assert_eq!(seq_of(&key(7)), Some(7));
        assert!(key(1) < key(256));
    }
}
