//! Confirmed commit (RFC 6241 §8.4, :confirmed-commit:1.1): the pending state and its rules.
//!
//! The state is persisted with the commit that arms it, together with a full copy of the running
//! configuration from before the first confirmed commit (the rollback point). Follow-up confirmed
//! commits keep that original rollback point; a failed confirmed commit arms nothing; the state
//! survives a restart (the caller re-arms its timer from [`Pending::deadline_ms`], and a deadline
//! that passed while the agent was down rolls back at boot).

use crate::codec::{CodecError, Reader, Writer};

/// Default confirm-timeout in seconds (RFC 6241 §8.4.5.1).
pub const DEFAULT_TIMEOUT_S: u32 = 600;

/// A confirmed commit waiting for its confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Unix time in milliseconds at which running rolls back.
    pub deadline_ms: u64,
    /// The `persist` token: when set, any session may confirm or cancel by giving it as
    /// `persist-id`, and the commit outlives its session.
    pub persist: Option<String>,
    /// The session that issued the confirmed commit (relevant without `persist`).
    pub session: u32,
    /// Generation of running before the first confirmed commit.
    pub backup_generation: u64,
}

impl Pending {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(1);
        w.u64(self.deadline_ms);
        w.opt(self.persist.as_deref());
        w.u32(self.session);
        w.u64(self.backup_generation);
        w.buf
    }

    pub fn decode(buf: &[u8]) -> Result<Pending, CodecError> {
        let mut r = Reader::new(buf);
        if r.u8()? != 1 {
            return Err(CodecError("unknown confirmed-commit format"));
        }
        let p = Pending {
            deadline_ms: r.u64()?,
            persist: r.opt()?,
            session: r.u32()?,
            backup_generation: r.u64()?,
        };
        r.done()?;
        Ok(p)
    }

    /// May `session` (with `persist_id`) confirm, extend or cancel this commit?
    pub fn authorizes(&self, session: u32, persist_id: Option<&str>) -> Result<(), String> {
        match (&self.persist, persist_id) {
            (Some(p), Some(id)) if p == id => Ok(()),
            (Some(_), Some(_)) => Err("persist-id does not match the pending confirmed commit".into()),
            (Some(_), None) => Err(
                "a persistent confirmed commit is pending: give its persist-id to confirm or cancel it"
                    .into(),
            ),
            (None, Some(_)) => Err("no persistent confirmed commit is pending (persist-id given)".into()),
            (None, None) if self.session == session => Ok(()),
            (None, None) => Err(format!(
                "the pending confirmed commit belongs to session {}",
                self.session
            )),
        }
    }
}

/// What a commit request asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitRequest {
    pub confirmed: bool,
    /// confirm-timeout in seconds (default 600).
    pub timeout_s: Option<u32>,
    pub persist: Option<String>,
    pub persist_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_round_trip_and_authorization() {
        let p = Pending {
            deadline_ms: 123,
            persist: Some("tok".into()),
            session: 4,
            backup_generation: 9,
        };
        assert_eq!(Pending::decode(&p.encode()).unwrap(), p);
        assert!(p.authorizes(7, Some("tok")).is_ok());
        assert!(p.authorizes(4, None).is_err());
        assert!(p.authorizes(4, Some("other")).is_err());
        let q = Pending { persist: None, ..p };
        assert!(q.authorizes(4, None).is_ok());
        assert!(q.authorizes(5, None).is_err());
        assert!(q.authorizes(4, Some("tok")).is_err());
    }
}
