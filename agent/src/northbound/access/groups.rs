//! External groups (RFC 8341 `enable-external-groups`): the groups of users kept outside the
//! device's configuration, in a file named by `--nacm-groups`, one line per user:
//!
//! ```text
//! # user: group...
//! alice: ops noc
//! bob:   noc
//! ```
//!
//! The file is read at start (an unreadable or malformed file stops the start), again on
//! SIGHUP, and when a login finds its modification time changed. A reload that fails keeps
//! the groups read before, and says why in the log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use tracing::{info, warn};

/// The groups file and what it said when last read.
#[derive(Debug, Default)]
pub struct ExternalGroups {
    inner: Mutex<Option<GroupsFile>>,
}

#[derive(Debug)]
struct GroupsFile {
    path: PathBuf,
    modified: Option<SystemTime>,
    users: HashMap<String, Vec<String>>,
}

impl ExternalGroups {
    fn inner(&self) -> std::sync::MutexGuard<'_, Option<GroupsFile>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Read `path` and use it from now on.
    pub fn load(&self, path: PathBuf) -> Result<(), String> {
        let (users, modified) = read(&path)?;
        info!(file = %path.display(), users = users.len(), "external NACM groups read");
        *self.inner() = Some(GroupsFile {
            path,
            modified,
            users,
        });
        Ok(())
    }

    /// Read the file again if it changed since it was last read (at each login: one stat).
    pub fn refresh(&self) {
        let mut inner = self.inner();
        let Some(f) = inner.as_mut() else {
            return;
        };
        let modified = std::fs::metadata(&f.path).and_then(|m| m.modified()).ok();
        if modified != f.modified {
            reread(f);
        }
    }

    /// Read the file again (SIGHUP).
    pub fn reload(&self) {
        if let Some(f) = self.inner().as_mut() {
            reread(f);
        }
    }

    /// The groups the file gives `user` (none without a file).
    pub fn groups_of(&self, user: &str) -> Vec<String> {
        self.inner()
            .as_ref()
            .and_then(|f| f.users.get(user).cloned())
            .unwrap_or_default()
    }
}

fn reread(f: &mut GroupsFile) {
    match read(&f.path) {
        Ok((users, modified)) => {
            info!(file = %f.path.display(), users = users.len(), "external NACM groups read again");
            f.users = users;
            f.modified = modified;
        }
        Err(e) => {
            warn!(error = %e, "the external NACM groups file could not be read again; the groups read before stay in use");
            // Not retried at every login until the file changes again.
            f.modified = std::fs::metadata(&f.path).and_then(|m| m.modified()).ok();
        }
    }
}

type Read = (HashMap<String, Vec<String>>, Option<SystemTime>);

fn read(path: &Path) -> Result<Read, String> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let users = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((users, modified))
}

/// `user: group...` lines; `#` starts a comment; a user named twice gets both lines' groups.
pub(super) fn parse(text: &str) -> Result<HashMap<String, Vec<String>>, String> {
    let mut users: HashMap<String, Vec<String>> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some((user, groups)) = line.split_once(':') else {
            return Err(format!(
                "line {}: expected 'user: group...', got '{line}'",
                n + 1
            ));
        };
        let user = user.trim();
        if user.is_empty() || user.contains(char::is_whitespace) {
            return Err(format!("line {}: '{user}' is not a user name", n + 1));
        }
        let entry = users.entry(user.to_string()).or_default();
        for g in groups.split(|c: char| c.is_whitespace() || c == ',') {
            if !g.is_empty() && !entry.iter().any(|e| e == g) {
                entry.push(g.to_string());
            }
        }
    }
    Ok(users)
}
