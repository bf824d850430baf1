//! The commit log: the last [`HISTORY`] commits, each with its change set and the before/after
//! images of the chunks it rewrote (what rollback needs).

use crate::codec::{CodecError, Reader, Writer};
use yang::diff::{Change, ChangeOp};

/// How many commits are kept.
pub const HISTORY: usize = 50;

/// One changed node, as listed in `commit-history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSummary {
    pub op: ChangeOp,
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl From<&Change> for ChangeSummary {
    fn from(c: &Change) -> Self {
        ChangeSummary {
            op: c.op,
            path: c.path.clone(),
            old: c.old.clone(),
            new: c.new.clone(),
        }
    }
}

/// A chunk before and after a commit (None: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkImage {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRecord {
    pub id: u64,
    /// Unix time in milliseconds.
    pub time_ms: u64,
    pub user: String,
    pub session: u32,
    pub comment: Option<String>,
    pub changes: Vec<ChangeSummary>,
    pub chunks: Vec<ChunkImage>,
}

/// A commit-log entry without its change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: u64,
    pub time_ms: u64,
    pub user: String,
    pub session: u32,
    pub comment: Option<String>,
    pub change_count: usize,
}

impl From<&CommitRecord> for CommitInfo {
    fn from(r: &CommitRecord) -> Self {
        CommitInfo {
            id: r.id,
            time_ms: r.time_ms,
            user: r.user.clone(),
            session: r.session,
            comment: r.comment.clone(),
            change_count: r.changes.len(),
        }
    }
}

fn op_code(op: ChangeOp) -> u8 {
    match op {
        ChangeOp::Create => 0,
        ChangeOp::Modify => 1,
        ChangeOp::Delete => 2,
        ChangeOp::Move => 3,
    }
}

fn op_of(code: u8) -> Result<ChangeOp, CodecError> {
    match code {
        0 => Ok(ChangeOp::Create),
        1 => Ok(ChangeOp::Modify),
        2 => Ok(ChangeOp::Delete),
        3 => Ok(ChangeOp::Move),
        _ => Err(CodecError("bad change op")),
    }
}

impl CommitInfo {
    /// The record's fields up to the number of changes.
    fn decode_head(r: &mut Reader<'_>) -> Result<CommitInfo, CodecError> {
        if r.u8()? != 1 {
            return Err(CodecError("unknown record format"));
        }
        Ok(CommitInfo {
            id: r.u64()?,
            time_ms: r.u64()?,
            user: r.str()?,
            session: r.u32()?,
            comment: r.opt()?,
            change_count: r.u32()? as usize,
        })
    }

    /// A stored record's summary, stepping over its change set and chunk images without
    /// copying them (at boot the history of a commit of 10,000 entries costs no 20,000
    /// strings); the record's structure is still checked to its end.
    pub fn decode(buf: &[u8]) -> Result<CommitInfo, CodecError> {
        let mut r = Reader::new(buf);
        let info = CommitInfo::decode_head(&mut r)?;
        for _ in 0..info.change_count {
            op_of(r.u8()?)?;
            r.skip_str()?;
            r.skip_opt()?;
            r.skip_opt()?;
        }
        for _ in 0..r.u32()? {
            r.skip_str()?;
            r.skip_opt()?;
            r.skip_opt()?;
        }
        r.done()?;
        Ok(info)
    }
}

impl CommitRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(1); // format version
        w.u64(self.id);
        w.u64(self.time_ms);
        w.str(&self.user);
        w.u32(self.session);
        w.opt(self.comment.as_deref());
        w.u32(self.changes.len() as u32);
        for c in &self.changes {
            w.u8(op_code(c.op));
            w.str(&c.path);
            w.opt(c.old.as_deref());
            w.opt(c.new.as_deref());
        }
        w.u32(self.chunks.len() as u32);
        for c in &self.chunks {
            w.str(&c.key);
            w.opt(c.old.as_deref());
            w.opt(c.new.as_deref());
        }
        w.buf
    }

    pub fn decode(buf: &[u8]) -> Result<CommitRecord, CodecError> {
        let mut r = Reader::new(buf);
        let CommitInfo {
            id,
            time_ms,
            user,
            session,
            comment,
            change_count: n,
        } = CommitInfo::decode_head(&mut r)?;
        let mut changes = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let op = op_of(r.u8()?)?;
            changes.push(ChangeSummary {
                op,
                path: r.str()?,
                old: r.opt()?,
                new: r.opt()?,
            });
        }
        let n = r.u32()? as usize;
        let mut chunks = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            chunks.push(ChunkImage {
                key: r.str()?,
                old: r.opt()?,
                new: r.opt()?,
            });
        }
        r.done()?;
        Ok(CommitRecord {
            id,
            time_ms,
            user,
            session,
            comment,
            changes,
            chunks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip() {
        let r = CommitRecord {
            id: 42,
            time_ms: 1_700_000_000_000,
            user: "admin".into(),
            session: 3,
            comment: Some("lift B".into()),
            changes: vec![ChangeSummary {
                op: ChangeOp::Modify,
                path: "/bfd:bfd/bfd:session[bfd:name='a']/bfd:min-tx-interval".into(),
                old: Some("10".into()),
                new: Some("100".into()),
            }],
            chunks: vec![ChunkImage {
                key: "/bfd:bfd/bfd:session[bfd:name='a']".into(),
                old: Some("<bfd/>".into()),
                new: None,
            }],
        };
        let bytes = r.encode();
        assert_eq!(CommitRecord::decode(&bytes).unwrap(), r);
        assert!(CommitRecord::decode(&bytes[..bytes.len() - 1]).is_err());
        assert_eq!(CommitInfo::decode(&bytes).unwrap(), CommitInfo::from(&r));
        for cut in 0..bytes.len() {
            assert!(CommitInfo::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
