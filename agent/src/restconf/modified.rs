//! Last-Modified per data resource (RFC 8040 §3.4.1.1, §3.5.1): the time of the last commit
//! that changed the resource or anything under it; the datastore's is the last commit's.
//!
//! The times come from the commit log's change sets (the datastore keeps the last
//! [`datastore::log::HISTORY`] commits, across restarts), read once per new commit, on the first
//! request after it, never on the commit path. Every changed path adds its ancestors' prefixes
//! (`/if:interfaces`, `/if:interfaces/if:interface`, `/if:interfaces/if:interface[if:name='a']`,
//! ...) to a map, so a lookup is one hash probe. What the log no longer holds (or never held:
//! the configuration loaded at start) is dated by the oldest commit it holds, which is no
//! earlier than the real time: a client at worst re-reads, it never misses a change.
//!
//! A commit with more than [`DETAILED_CHANGES`] changes is not read (decoding a change set of
//! 100,000 changes would cost the next request more than the commit): it dates every resource
//! until it leaves the log. That bounds the map to about `HISTORY × DETAILED_CHANGES × depth`
//! entries and the work after a commit to one small change set.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::netconf::server::Server;

/// Above this many changes, a commit's change set is not read: it dates every resource.
pub const DETAILED_CHANGES: usize = 2048;

/// The per-resource times, as of one generation of the datastore.
pub struct Modified {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The datastore generation the state was brought up to (None: never).
    generation: Option<u64>,
    /// The newest commit read from the log.
    last_id: Option<u64>,
    /// The oldest commit the log holds, its time (the time of anything not in `paths`), and
    /// the newest commit's time (the datastore's).
    oldest: Option<(u64, u64)>,
    newest_ms: Option<u64>,
    /// Path prefix -> (time, commit id) of the last change at or under it.
    paths: HashMap<String, (u64, u64)>,
    /// (time, commit id) of the last logged commit whose change set was not read: it may
    /// have changed anything.
    anything: Option<(u64, u64)>,
}

impl Modified {
    pub fn new() -> Modified {
        Modified {
            state: Mutex::new(State::default()),
        }
    }

    /// The last-modified time (unix ms) of the resource at instance-identifier `path` ("" for
    /// the datastore).
    pub fn of(&self, server: &Server, path: &str) -> u64 {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.catch_up(server);
        let base = st.oldest.map_or(server.stats.start_ms, |(_, t)| t);
        if path.is_empty() {
            return st.newest_ms.unwrap_or(server.stats.start_ms);
        }
        let detailed = st.paths.get(path).map(|&(t, _)| t);
        let anything = st.anything.map(|(t, _)| t);
        detailed.max(anything).map_or(base, |t| t.max(base))
    }
}

impl Default for Modified {
    fn default() -> Self {
        Modified::new()
    }
}

impl State {
    /// Read the commits logged since the last call.
    fn catch_up(&mut self, server: &Server) {
        let store = &server.store;
        let generation = store.generation();
        if self.generation == Some(generation) {
            return;
        }
        self.generation = Some(generation);
        let history = store.history();
        self.oldest = history.first().map(|c| (c.id, c.time_ms));
        self.newest_ms = history.last().map(|c| c.time_ms);
        let read_up_to = self.last_id;
        for info in history
            .iter()
            .filter(|c| read_up_to.is_none_or(|l| c.id > l))
        {
            self.last_id = Some(info.id);
            if info.change_count > DETAILED_CHANGES {
                // Reading and walking its change set would cost the next request more than
                // the commit took; it dates everything instead.
                self.anything = Some((info.time_ms, info.id));
                continue;
            }
            let record = match store.record(info.id) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(commit = info.id, error = %e, "commit log entry unreadable: its resources take the datastore's time");
                    self.anything = Some((info.time_ms, info.id));
                    continue;
                }
            };
            let at = (record.time_ms, record.id);
            for c in &record.changes {
                for prefix in prefixes(&c.path) {
                    match self.paths.get_mut(prefix) {
                        Some(v) => *v = at,
                        None => {
                            self.paths.insert(prefix.to_string(), at);
                        }
                    }
                }
            }
        }
        // Forget what fell out of the log: the oldest commit's time stands for it.
        if let Some((oldest, _)) = self.oldest {
            self.paths.retain(|_, &mut (_, id)| id >= oldest);
            self.anything = self.anything.filter(|&(_, id)| id >= oldest);
        }
    }
}

/// The prefixes of an instance-identifier that end a step or a step's name: for
/// `/a:x/a:l[a:k='1/2']/a:y`, `/a:x`, `/a:x/a:l`, `/a:x/a:l[a:k='1/2']` and the whole path.
/// Quoted key values may hold `/` and `[`.
fn prefixes(path: &str) -> impl Iterator<Item = &str> {
    let bytes = path.as_bytes();
    let mut quote: Option<u8> = None;
    let mut ends = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'/' && i > 0 => ends.push(i),
            None if b == b'[' && i > 0 && bytes[i - 1] != b']' => ends.push(i),
            None => {}
        }
    }
    if !path.is_empty() {
        ends.push(path.len());
    }
    ends.dedup();
    ends.into_iter().map(move |e| &path[..e])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_end_at_steps_and_names_not_inside_keys() {
        let p = "/if:interfaces/if:interface[if:name='a/b[c]']/if:description";
        assert_eq!(
            prefixes(p).collect::<Vec<_>>(),
            [
                "/if:interfaces",
                "/if:interfaces/if:interface",
                "/if:interfaces/if:interface[if:name='a/b[c]']",
                p
            ]
        );
        let two = "/m:l[m:a=\"x'y\"][m:b='2']";
        assert_eq!(
            prefixes(two).collect::<Vec<_>>(),
            ["/m:l", two],
            "a list with two keys: its name and the whole entry"
        );
        assert_eq!(prefixes("").count(), 0);
    }
}

#[cfg(test)]
mod store_tests {
    use std::sync::Arc;

    use datastore::{CommitMeta, Datastore};
    use yang::data::EditOp;

    use super::*;
    use crate::netconf::server::Limits;

    const IF: &str = "urn:ne-agent:yang:ne-interfaces";

    struct Fixture {
        server: Arc<Server>,
        dir: std::path::PathBuf,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fixture(tag: &str) -> Fixture {
        let dir = std::env::temp_dir().join(format!("ne-modified-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let schema = Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap());
        let (store, _) = Datastore::open(&dir, Arc::clone(&schema)).unwrap();
        Fixture {
            server: Server::new(schema, Arc::new(store), Limits::default()),
            dir,
        }
    }

    /// Commit interfaces `names` (with `description`) in one commit; its time.
    fn commit(f: &Fixture, names: &[String], description: &str) -> u64 {
        let entries: String = names
            .iter()
            .map(|n| format!("<interface><name>{n}</name><description>{description}</description></interface>"))
            .collect();
        let xml = format!("<config><interfaces xmlns=\"{IF}\">{entries}</interfaces></config>");
        let config = yang::xml::parse(&xml).unwrap();
        let meta = CommitMeta {
            user: "admin".into(),
            session: 1,
            comment: None,
        };
        f.server
            .store
            .edit_running(&config.children, EditOp::Merge, &meta, &mut [])
            .unwrap();
        // Distinct times for distinct commits.
        std::thread::sleep(std::time::Duration::from_millis(3));
        f.server.store.history().last().unwrap().time_ms
    }

    fn entry(name: &str) -> String {
        format!("/if:interfaces/if:interface[if:name='{name}']")
    }

    #[test]
    fn times_per_resource_all_for_large_commits_and_bounded_by_the_log() {
        let f = fixture("per-resource");
        let m = Modified::new();
        let start = f.server.stats.start_ms;
        assert_eq!(
            m.of(&f.server, ""),
            start,
            "no commit yet: the server's start"
        );
        let ta = commit(&f, &["a".into()], "x");
        let tb = commit(&f, &["b".into()], "x");
        assert_eq!(m.of(&f.server, &entry("a")), ta);
        assert_eq!(
            m.of(&f.server, &format!("{}/if:description", entry("a"))),
            ta
        );
        assert_eq!(m.of(&f.server, &entry("b")), tb);
        assert_eq!(m.of(&f.server, "/if:interfaces"), tb);
        assert_eq!(m.of(&f.server, "/if:interfaces/if:interface"), tb);
        assert_eq!(m.of(&f.server, ""), tb);
        // Nothing logged under it: the oldest logged commit.
        assert_eq!(m.of(&f.server, "/bfd:bfd"), ta);
        // A commit too large to read dates everything.
        let many: Vec<String> = (0..DETAILED_CHANGES).map(|i| format!("c{i}")).collect();
        let tc = commit(&f, &many, "x");
        assert_eq!(m.of(&f.server, &entry("a")), tc);
        assert_eq!(m.of(&f.server, "/bfd:bfd"), tc);
        // Commits that leave the log take their entries with them; what remains is dated by
        // the oldest logged commit, never earlier than the truth.
        let mut last = 0;
        for i in 0..datastore::log::HISTORY {
            last = commit(&f, &["d".into()], &i.to_string());
        }
        let oldest = f.server.store.history().first().unwrap().time_ms;
        assert!(oldest > tc);
        assert_eq!(m.of(&f.server, &entry("a")), oldest);
        assert_eq!(m.of(&f.server, &entry("d")), last);
        assert_eq!(m.of(&f.server, ""), last);
        let st = m.state.lock().unwrap();
        assert!(
            st.anything.is_none() && st.paths.len() < 40,
            "{}",
            st.paths.len()
        );
    }
}
