//! The commit log: the last [`HISTORY`] commits, each with its change set and the before/after
//! images of the chunks it rewrote (what rollback needs).

use crate::codec::{CodecError, Front, Reader, Writer};
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
    /// The record's fields up to the number of changes, and the record's format.
    fn decode_head(r: &mut Reader<'_>) -> Result<(CommitInfo, u8), CodecError> {
        let format = r.u8()?;
        if format != 1 && format != 2 {
            return Err(CodecError("unknown record format"));
        }
        let info = CommitInfo {
            id: r.u64()?,
            time_ms: r.u64()?,
            user: r.str()?,
            session: r.u32()?,
            comment: r.opt()?,
            change_count: r.u32()? as usize,
        };
        Ok((info, format))
    }

    /// A stored record's summary, stepping over its change set and chunk images without
    /// copying them (at boot the history of a commit of 10,000 entries costs no 20,000
    /// strings); the record's structure is still checked to its end.
    pub fn decode(buf: &[u8]) -> Result<CommitInfo, CodecError> {
        let mut r = Reader::new(buf);
        let (info, format) = CommitInfo::decode_head(&mut r)?;
        if format == 1 {
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
        } else {
            let mut path = 0;
            for _ in 0..info.change_count {
                op_of(r.u8()?)?;
                path = r.skip_front(path)?;
                r.skip_opt()?;
                r.skip_opt()?;
            }
            let (mut key, mut old, mut new) = (0, 0, 0);
            for _ in 0..r.u32()? {
                key = r.skip_front(key)?;
                old = r.skip_front_opt(old)?;
                new = r.skip_front_opt(new)?;
            }
        }
        r.done()?;
        Ok(info)
    }
}

/// A record of format 2 (the paths of the changes and the keys and images of the chunks
/// front-coded, see [`crate::codec`]) from its parts, straight from a commit's change list:
/// `info.change_count` must be the number of `changes`.
pub fn encode_record<'a>(
    info: &CommitInfo,
    changes: impl Iterator<Item = (ChangeOp, &'a str, Option<&'a str>, Option<&'a str>)>,
    chunks: &[ChunkImage],
) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(2); // format version
    w.u64(info.id);
    w.u64(info.time_ms);
    w.str(&info.user);
    w.u32(info.session);
    w.opt(info.comment.as_deref());
    w.u32(info.change_count as u32);
    let mut path = Front::default();
    for (op, p, old, new) in changes {
        w.u8(op_code(op));
        path.put(&mut w, p);
        w.opt(old);
        w.opt(new);
    }
    w.u32(chunks.len() as u32);
    let (mut key, mut old, mut new) = (Front::default(), Front::default(), Front::default());
    for c in chunks {
        key.put(&mut w, &c.key);
        old.put_opt(&mut w, c.old.as_deref());
        new.put_opt(&mut w, c.new.as_deref());
    }
    w.buf
}

impl CommitRecord {
    pub fn encode(&self) -> Vec<u8> {
        let info = CommitInfo::from(self);
        let changes = self
            .changes
            .iter()
            .map(|c| (c.op, c.path.as_str(), c.old.as_deref(), c.new.as_deref()));
        encode_record(&info, changes, &self.chunks)
    }

    pub fn decode(buf: &[u8]) -> Result<CommitRecord, CodecError> {
        let mut r = Reader::new(buf);
        let (
            CommitInfo {
                id,
                time_ms,
                user,
                session,
                comment,
                change_count: n,
            },
            format,
        ) = CommitInfo::decode_head(&mut r)?;
        let v1 = format == 1;
        let mut changes: Vec<ChangeSummary> = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let op = op_of(r.u8()?)?;
            let path = if v1 {
                r.str()?
            } else {
                r.front(changes.last().map_or("", |c| c.path.as_str()))?
            };
            changes.push(ChangeSummary {
                op,
                path,
                old: r.opt()?,
                new: r.opt()?,
            });
        }
        let n = r.u32()? as usize;
        let mut chunks: Vec<ChunkImage> = Vec::with_capacity(n.min(4096));
        let (mut old, mut new) = (String::new(), String::new());
        for _ in 0..n {
            let image = if v1 {
                ChunkImage {
                    key: r.str()?,
                    old: r.opt()?,
                    new: r.opt()?,
                }
            } else {
                let key = r.front(chunks.last().map_or("", |c| c.key.as_str()))?;
                let o = r.front_opt(&old)?;
                let n = r.front_opt(&new)?;
                if let Some(o) = &o {
                    old.clone_from(o);
                }
                if let Some(n) = &n {
                    new.clone_from(n);
                }
                ChunkImage {
                    key,
                    old: o,
                    new: n,
                }
            };
            chunks.push(image);
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

    fn record() -> CommitRecord {
        CommitRecord {
            id: 42,
            time_ms: 1_700_000_000_000,
            user: "admin".into(),
            session: 3,
            comment: Some("lift B".into()),
            changes: vec![
                ChangeSummary {
                    op: ChangeOp::Modify,
                    path: "/bfd:bfd/bfd:session[bfd:name='a']/bfd:min-tx-interval".into(),
                    old: Some("10".into()),
                    new: Some("100".into()),
                },
                ChangeSummary {
                    op: ChangeOp::Create,
                    path: "/bfd:bfd/bfd:session[bfd:name='b']".into(),
                    old: None,
                    new: None,
                },
            ],
            chunks: vec![
                ChunkImage {
                    key: "/bfd:bfd/bfd:session[bfd:name='a']".into(),
                    old: Some("<bfd/>".into()),
                    new: None,
                },
                ChunkImage {
                    key: "/bfd:bfd/bfd:session[bfd:name='b']".into(),
                    old: None,
                    new: Some("<bfd><session><name>b</name></session></bfd>".into()),
                },
                ChunkImage {
                    key: "/bfd:bfd/bfd:session[bfd:name='bé']".into(),
                    old: Some("<bfd><session><name>bé</name></session></bfd>".into()),
                    new: Some("<bfd><session><name>bé</name><x/></session></bfd>".into()),
                },
            ],
        }
    }

    /// Format 1, as records were written before front coding.
    fn encode_v1(r: &CommitRecord) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(1);
        w.u64(r.id);
        w.u64(r.time_ms);
        w.str(&r.user);
        w.u32(r.session);
        w.opt(r.comment.as_deref());
        w.u32(r.changes.len() as u32);
        for c in &r.changes {
            w.u8(op_code(c.op));
            w.str(&c.path);
            w.opt(c.old.as_deref());
            w.opt(c.new.as_deref());
        }
        w.u32(r.chunks.len() as u32);
        for c in &r.chunks {
            w.str(&c.key);
            w.opt(c.old.as_deref());
            w.opt(c.new.as_deref());
        }
        w.buf
    }

    #[test]
    fn record_round_trip() {
        let r = record();
        for bytes in [r.encode(), encode_v1(&r)] {
            assert_eq!(CommitRecord::decode(&bytes).unwrap(), r);
            assert!(CommitRecord::decode(&bytes[..bytes.len() - 1]).is_err());
            assert_eq!(CommitInfo::decode(&bytes).unwrap(), CommitInfo::from(&r));
            for cut in 0..bytes.len() {
                assert!(CommitInfo::decode(&bytes[..cut]).is_err(), "cut at {cut}");
                assert!(CommitRecord::decode(&bytes[..cut]).is_err(), "cut at {cut}");
            }
        }
        assert!(r.encode().len() < encode_v1(&r).len());
    }

    #[test]
    fn a_record_of_many_entries_is_front_coded() {
        let entry = |i: usize| format!("/mg:monitor-groups/mg:monitor-group[mg:name='mg{i}']");
        let xml = |i: usize| {
            format!(
                "<monitor-groups xmlns=\"urn:ne-agent:yang:ne-monitor-group\"><monitor-group>\
                 <name>mg{i}</name></monitor-group></monitor-groups>"
            )
        };
        let mut r = record();
        r.changes.clear();
        r.chunks.clear();
        for i in 0..1000 {
            r.changes.push(ChangeSummary {
                op: ChangeOp::Create,
                path: entry(i),
                old: None,
                new: None,
            });
            r.changes.push(ChangeSummary {
                op: ChangeOp::Create,
                path: format!("{}/mg:name", entry(i)),
                old: None,
                new: Some(format!("mg{i}")),
            });
            r.chunks.push(ChunkImage {
                key: entry(i),
                old: None,
                new: Some(xml(i)),
            });
        }
        let (v2, v1) = (r.encode(), encode_v1(&r));
        assert_eq!(CommitRecord::decode(&v2).unwrap(), r);
        assert_eq!(CommitInfo::decode(&v2).unwrap(), CommitInfo::from(&r));
        assert!(v2.len() * 3 < v1.len(), "{} vs {}", v2.len(), v1.len());
    }
}
