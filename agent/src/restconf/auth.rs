//! HTTP Basic authentication (RFC 7617) against the users SSH logs in (the same database, the
//! same failed-login penalties by source address as SSH's `northbound::throttle`).
//!
//! A password check costs a crypt hash (thousands of SHA-512 rounds), too much for every
//! request of a keep-alive client, so a credential that passed is remembered (its SHA-256 only)
//! for as long as the user database stays the same one: a commit that changes `/system`
//! swaps the database and forgets them all.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64ct::Encoding as _;
use sha2::Digest;
use tracing::{info, warn};

use crate::northbound::throttle::{self, Throttle};
use crate::northbound::users::{PasswordCheck, UserDb, Users};

/// Remembered credentials at most (cleared when full).
const MAX_REMEMBERED: usize = 1024;

/// Why a request did not authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No `Authorization: Basic` header, or one that does not decode.
    NoCredentials,
    /// A wrong user or password.
    Failed,
}

pub struct Authenticator {
    users: Arc<Users>,
    throttle: Mutex<Throttle>,
    remembered: Mutex<Remembered>,
}

#[derive(Default)]
struct Remembered {
    db: Option<Arc<UserDb>>,
    credentials: HashMap<[u8; 32], String>,
}

impl Authenticator {
    pub fn new(users: Arc<Users>, penalties: throttle::Policy) -> Authenticator {
        Authenticator {
            users,
            throttle: Mutex::new(Throttle::new(penalties)),
            remembered: Mutex::new(Remembered::default()),
        }
    }

    /// The user an `Authorization` header names, once its password checks out. A source with
    /// failed attempts waits first, as over SSH.
    pub async fn user(&self, header: Option<&str>, source: IpAddr) -> Result<String, Refused> {
        let (name, password) = parse_basic(header).ok_or(Refused::NoCredentials)?;
        let digest: [u8; 32] = {
            let mut h = sha2::Sha256::new();
            h.update(name.as_bytes());
            h.update([0]);
            h.update(password.as_bytes());
            h.finalize().into()
        };
        let db = self.users.current();
        {
            let mut r = self.remembered.lock().unwrap_or_else(|p| p.into_inner());
            if !r.db.as_ref().is_some_and(|d| Arc::ptr_eq(d, &db)) {
                r.db = Some(Arc::clone(&db));
                r.credentials.clear();
            }
            if let Some(user) = r.credentials.get(&digest) {
                return Ok(user.clone());
            }
        }
        let wait = self
            .throttle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .delay(source, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let check_db = Arc::clone(&db);
        let user = name.clone();
        let check = tokio::task::spawn_blocking(move || check_db.check_password(&user, &password))
            .await
            .unwrap_or(PasswordCheck::WrongPassword);
        let mut throttle = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        match check {
            PasswordCheck::Accepted(id) => {
                throttle.succeeded(source);
                info!(user = %id.name, %source, transport = "restconf", method = "basic", outcome = "accepted", "login");
                let mut r = self.remembered.lock().unwrap_or_else(|p| p.into_inner());
                if r.db.as_ref().is_some_and(|d| Arc::ptr_eq(d, &db)) {
                    if r.credentials.len() >= MAX_REMEMBERED {
                        r.credentials.clear();
                    }
                    r.credentials.insert(digest, id.name.clone());
                }
                Ok(id.name)
            }
            other => {
                let failures = throttle.failed(source, Instant::now());
                let reason = match other {
                    PasswordCheck::UnknownUser => "unknown user",
                    PasswordCheck::NoPassword => "no password set",
                    _ => "wrong password",
                };
                // Never log the password; the name is the client's, so quoted and escaped.
                warn!(user = ?name, %source, transport = "restconf", method = "basic", outcome = "refused", reason, failures, "login");
                Err(Refused::Failed)
            }
        }
    }
}

/// `Basic base64(user:password)` (RFC 7617 §2).
fn parse_basic(header: Option<&str>) -> Option<(String, String)> {
    let h = header?.trim();
    let (scheme, rest) = h.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64ct::Base64::decode_vec(rest.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials() {
        assert_eq!(
            parse_basic(Some("Basic YWRtaW46cGE6c3M=")),
            Some(("admin".into(), "pa:ss".into()))
        );
        assert_eq!(parse_basic(Some("Bearer x")), None);
        assert_eq!(parse_basic(Some("Basic !!!")), None);
        assert_eq!(parse_basic(None), None);
    }
}
