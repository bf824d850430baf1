//! The CLI as a management front end: a [`Session`] of one logged-in user over the server's
//! datastores. Display commands read running as the user may read it (RFC 8341); `commit`
//! goes through the same pipeline as NETCONF's (the user's access control, validation, the
//! engines, commit history with the comment, netconf-config-change), laying the session's
//! changes over running as it is now: changes others committed meanwhile to other nodes stay,
//! the same nodes changed by both are a conflict that commits nothing.
//!
//! Three ways in (see [`super::ssh`] for the SSH side): [`Cli::typed`] for a terminal (echo,
//! prompts, line editing), [`Cli::batch`] for command lines without one (output only; the
//! first error stops it with its line number), the same for an `exec` request's command.
//! No I/O here: bytes in, bytes out.

use std::sync::Arc;

use datastore::{CommitMeta, CommitOutcome, StoreError, Target};
use tracing::info;
use yang::data::DataTree;
use yang::instance_id::split_steps;

use super::line::{Editor, Event};
use super::{show, CliError, Outcome, Session, Show};
use crate::netconf::server::Server;
use crate::netconf::BASE_NS;
use crate::netconf::{notify, state};
use crate::northbound::access::{Checker, IETF_NETCONF};
use crate::northbound::nacm::Nacm;

/// The host name the prompt shows until `sysname` sets one.
pub const HOSTNAME: &str = "ne-agent";

/// Longest command line a batch takes, in bytes (the interactive editor has its own limit).
pub const MAX_BATCH_LINE: usize = 64 * 1024;

/// What a command line did, as the front end shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Output(String),
    Quit,
}

/// What a batch or an exec request prints: command output and errors apart (stdout, stderr).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Printed {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// One CLI session of one user.
pub struct Cli {
    server: Arc<Server>,
    user: String,
    id: u32,
    source: String,
    session: Session,
    /// The commit (datastore generation) the session last saw running at.
    generation: u64,
    editor: Editor,
    /// Interactive: `quit` found uncommitted changes and asked what to do with them.
    asking: bool,
    /// Batch: the unfinished line and the number of the last line run.
    pending: Vec<u8>,
    line_no: usize,
}

impl Cli {
    /// A session of `user` (logged in from `source`) registered as session `id`.
    pub fn new(server: Arc<Server>, user: &str, id: u32, source: &str) -> Cli {
        let generation = server.store.generation();
        let running = readable_running(&server, user, id);
        let session = Session::new(Arc::clone(&server.schema), &running, HOSTNAME);
        Cli {
            server,
            user: user.to_string(),
            id,
            source: source.to_string(),
            session,
            generation,
            editor: Editor::new(),
            asking: false,
            pending: Vec::new(),
            line_no: 0,
        }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Follow the commits of others: display shows them; a candidate without changes
    /// follows them, one with changes keeps its base (commit decides whether they meet).
    fn refresh(&mut self) {
        let generation = self.server.store.generation();
        if generation != self.generation {
            self.generation = generation;
            let running = readable_running(&self.server, &self.user, self.id);
            self.session.set_running(&running);
        }
    }

    /// Run one command line.
    pub fn line(&mut self, text: &str) -> Result<Step, CliError> {
        self.refresh();
        match self.session.line(text) {
            Outcome::Output(s) => Ok(Step::Output(s)),
            Outcome::Error(e) => Err(e),
            Outcome::Commit { comment } => self.commit(comment).map(Step::Output),
            Outcome::Quit => Ok(Step::Quit),
            Outcome::Show(what) => self.show(what).map(Step::Output),
            Outcome::Rollback { id } => self.rollback(id).map(Step::Output),
        }
    }

    /// The access rules in force now.
    fn nacm(&self) -> Arc<Nacm> {
        self.server.access.current()
    }

    /// The access checks of `user` (session `id`) under `nacm`.
    fn checker<'a>(server: &'a Server, nacm: &'a Nacm, user: &'a str, id: u32) -> Checker<'a> {
        server
            .access
            .checker(nacm, user, id, server.is_recovery(user))
    }

    /// What the session's user may read of the commit history, or of running with the
    /// engines' state.
    fn show(&self, what: Show) -> Result<String, CliError> {
        let server = &self.server;
        let schema = &server.schema;
        let nacm = self.nacm();
        let check = Self::checker(server, &nacm, &self.user, self.id);
        let unavailable = |e: yang::data::DataError| {
            CliError::refused(format!(
                "Error: The display is not available: {}",
                e.message
            ))
        };
        if what == Show::CommitList {
            let mut tree = DataTree::new();
            let history = state::commit_history(server).map_err(unavailable)?;
            tree.insert(schema, history).map_err(unavailable)?;
            return Ok(show::commit_list(schema, &check.read(&tree)));
        }
        let mut tree = server.store.get(Target::Running).unwrap_or_default();
        if let Some(engines) = server.engines.get() {
            let state = engines.state().ok_or_else(|| {
                CliError::refused("Error: The protocol engines did not answer in time.")
            })?;
            yang::data::merge(schema, &mut tree, state);
        }
        let tree = check.read(&tree);
        Ok(match what {
            Show::VrrpBrief => show::vrrp_brief(schema, &tree),
            Show::Vrrp { interface, vrid } => {
                show::vrrp_verbose(schema, &tree, interface.as_deref(), vrid.as_deref())
            }
            Show::MonitorGroup(name) => show::monitor_groups(schema, &tree, name.as_deref()),
            Show::BfdSessions { verbose: false } => show::bfd_sessions(schema, &tree),
            Show::BfdSessions { verbose: true } => show::bfd_verbose(schema, &tree),
            Show::IgmpGroups { verbose } => show::igmp_groups(schema, &tree, verbose),
            Show::IgmpInterfaces(name) => show::igmp_interfaces(schema, &tree, name.as_deref()),
            Show::PimNeighbors => show::pim_neighbors(schema, &tree),
            Show::PimInterfaces => show::pim_interfaces(schema, &tree),
            Show::PimRoutes => show::pim_routes(schema, &tree),
            Show::PimBsrInfo => show::bsr_info(schema, &tree),
            Show::PimRpInfo => show::rp_info(schema, &tree),
            Show::MulticastRoutes => show::multicast_routes(schema, &tree),
            Show::InterfaceBrief => show::interface_brief(schema, &tree),
            // Answered above.
            Show::CommitList => String::new(),
        })
    }

    /// Roll running back to what it was after commit `id`, as ne-system:rollback does.
    fn rollback(&mut self, id: u64) -> Result<String, CliError> {
        let (server, user) = (Arc::clone(&self.server), self.user.clone());
        let nacm = self.nacm();
        let check = Self::checker(&server, &nacm, &user, self.id);
        check
            .exec(
                "ne-system",
                "rollback",
                server.schema.find_rpc(state::SYSTEM_NS, "rollback"),
            )
            .map_err(|e| refusal(&StoreError::Denied(e)))?;
        let meta = CommitMeta {
            user: self.user.clone(),
            session: self.id,
            comment: Some(format!("rollback to commit {id}")),
        };
        let out = server
            .with_subscribers(|subs| server.store.checked(&check).rollback(id, &meta, subs))
            .map_err(|e| refusal(&e))?;
        let running = self.published(&out, &check);
        self.session.committed(&running);
        Ok(match out.id {
            Some(n) => format!("Info: Rolled back to commit {id} as commit {n}.\n"),
            None => format!("Info: The configuration is already as it was after commit {id}.\n"),
        })
    }

    /// After a commit: announce the change (netconf-config-change) and give running as the
    /// user may read it.
    fn published(&mut self, out: &CommitOutcome, check: &Checker<'_>) -> DataTree {
        let server = &self.server;
        if out.id.is_some() {
            server.events.publish(notify::config_change(
                &self.user,
                self.id,
                &self.source,
                &out.changes,
            ));
        }
        self.generation = server.store.generation();
        check.read(&server.store.get(Target::Running).unwrap_or_default())
    }

    /// Commit the session's changes through the pipeline, as the logged-in user.
    fn commit(&mut self, comment: Option<String>) -> Result<String, CliError> {
        let (server, user) = (Arc::clone(&self.server), self.user.clone());
        let nacm = self.nacm();
        let check = Self::checker(&server, &nacm, &user, self.id);
        // The user's right to commit at all, as for NETCONF's <commit>.
        check
            .exec(
                IETF_NETCONF,
                "commit",
                server.schema.find_rpc(BASE_NS, "commit"),
            )
            .map_err(|e| refusal(&StoreError::Denied(e)))?;
        if !self.session.has_changes() {
            return Ok(String::new());
        }
        let meta = CommitMeta {
            user: self.user.clone(),
            session: self.id,
            comment,
        };
        let (base, candidate) = (self.session.base(), self.session.candidate());
        let result = server.with_subscribers(|subs| {
            server
                .store
                .checked(&check)
                .commit_private(base, candidate, &meta, subs)
        });
        let out = result.map_err(|e| {
            info!(user = %self.user, session = self.id, error = %e, "cli commit refused");
            refusal(&e)
        })?;
        let running = self.published(&out, &check);
        self.session.committed(&running);
        Ok(String::new())
    }

    // ---- a terminal ----------------------------------------------------------------------

    /// The first prompt of an interactive session.
    pub fn greeting(&mut self) -> Vec<u8> {
        self.refresh();
        format!("\r\n{}", self.session.prompt()).into_bytes()
    }

    /// Keys typed on the terminal; what to send back is appended to `out`. `Some(status)`
    /// when the session ends.
    pub fn typed(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Option<u32> {
        for &b in bytes {
            let Some(event) = self.editor.key(b, out) else {
                continue;
            };
            match event {
                Event::Line(text) if self.asking => {
                    self.asking = false;
                    match text.trim().to_ascii_lowercase().as_str() {
                        "y" | "yes" => match self.commit(None) {
                            Ok(_) => return Some(0),
                            Err(e) => crlf(out, &e.render(0)),
                        },
                        "n" | "no" => return Some(0),
                        _ => {}
                    }
                }
                Event::Line(text) => {
                    let width = self.session.prompt().chars().count();
                    match self.line(&text) {
                        Ok(Step::Output(s)) => crlf(out, &s),
                        Err(e) => crlf(out, &e.render(width)),
                        Ok(Step::Quit) if self.session.has_changes() => {
                            self.asking = true;
                            out.extend_from_slice(
                                b"Warning: Uncommitted configurations found. Are you sure to \
                                  commit them before exiting? [Y(yes)/N(no)/C(cancel)]:",
                            );
                            continue;
                        }
                        Ok(Step::Quit) => return Some(0),
                    }
                }
                Event::Cancel => self.asking = false,
                Event::Eof => return Some(0),
                Event::Return => {
                    self.asking = false;
                    let _ = self.session.line("return");
                }
                Event::Complete => {
                    let before = self.editor.before_cursor();
                    if let Some(rest) = self.session.complete(&before) {
                        self.editor.insert_str(&rest, out);
                        continue;
                    }
                    let help = self.session.help_lines(&before);
                    if help.is_empty() {
                        out.push(0x07);
                        continue;
                    }
                    out.extend_from_slice(b"\r\n");
                    crlf(out, &help_text(&help));
                }
                Event::Help => {
                    let help = self.session.help_lines(&self.editor.before_cursor());
                    out.extend_from_slice(b"?\r\n");
                    if help.is_empty() {
                        crlf(out, "Error: Unrecognized command found at '^' position.\n");
                    } else {
                        crlf(out, &help_text(&help));
                    }
                }
            }
            self.refresh();
            out.extend_from_slice(self.session.prompt().as_bytes());
            self.editor.redraw(out);
        }
        None
    }

    // ---- command lines without a terminal --------------------------------------------------

    /// Standard input of a batch. `Some(status)` when it stops (at the first error).
    pub fn batch(&mut self, bytes: &[u8], printed: &mut Printed) -> Option<u32> {
        let mut rest = bytes;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(nl);
            rest = &tail[1..];
            if self.pending.len() + head.len() > MAX_BATCH_LINE {
                return Some(self.too_long(printed));
            }
            self.pending.extend_from_slice(head);
            let line = std::mem::take(&mut self.pending);
            if let Some(status) = self.batch_line(&line, printed) {
                return Some(status);
            }
        }
        if self.pending.len() + rest.len() > MAX_BATCH_LINE {
            return Some(self.too_long(printed));
        }
        self.pending.extend_from_slice(rest);
        None
    }

    /// The end of a batch's input: its last line, if unfinished, runs; uncommitted changes
    /// are discarded (and said so). The exit status.
    pub fn batch_end(&mut self, printed: &mut Printed) -> u32 {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            if let Some(status) = self.batch_line(&line, printed) {
                return status;
            }
        }
        if self.session.has_changes() {
            printed.stderr.extend_from_slice(
                b"Warning: The uncommitted configuration of this session was discarded \
                  (no commit after the last change).\n",
            );
        }
        0
    }

    /// Run one line of a batch; `Some(status)` when the batch stops.
    fn batch_line(&mut self, bytes: &[u8], printed: &mut Printed) -> Option<u32> {
        self.line_no += 1;
        let text = String::from_utf8_lossy(bytes);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        match self.line(text) {
            Ok(Step::Output(s)) => {
                printed.stdout.extend_from_slice(s.as_bytes());
                None
            }
            Ok(Step::Quit) => Some(0),
            Err(e) => {
                // The line as typed (control characters shown as blanks, so that the caret
                // stays under its word), the caret, the message.
                let head = format!("line {}: ", self.line_no);
                let shown: String = text
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                printed
                    .stderr
                    .extend_from_slice(format!("{head}{shown}\n").as_bytes());
                printed
                    .stderr
                    .extend_from_slice(e.render(head.chars().count()).as_bytes());
                Some(1)
            }
        }
    }

    fn too_long(&mut self, printed: &mut Printed) -> u32 {
        self.pending.clear();
        printed.stderr.extend_from_slice(
            format!(
                "line {}: Error: The command line is longer than {MAX_BATCH_LINE} bytes.\n",
                self.line_no + 1
            )
            .as_bytes(),
        );
        1
    }
}

/// Running as `user` may read it.
fn readable_running(server: &Server, user: &str, id: u32) -> DataTree {
    let nacm = server.access.current();
    let check = server
        .access
        .checker(&nacm, user, id, server.is_recovery(user));
    check.read(&server.store.get(Target::Running).unwrap_or_default())
}

/// Append `text` with its newlines as a terminal wants them (CR LF).
fn crlf(out: &mut Vec<u8>, text: &str) {
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(line.as_bytes());
    }
}

/// `?` help: one candidate a line, with what it does in a column after the widest.
fn help_text(help: &[(String, String)]) -> String {
    let width = help
        .iter()
        .map(|(h, _)| h.chars().count())
        .max()
        .unwrap_or(0);
    help.iter()
        .map(|(h, text)| format!("  {h:<width$}  {text}").trim_end().to_string() + "\n")
        .collect()
}

/// A refused commit in words: `Error: ` and what refused it, with the place in the
/// configuration it concerns.
fn refusal(e: &StoreError) -> CliError {
    if let StoreError::Conflict(paths) = e {
        let places: Vec<String> = paths.iter().map(|p| place(p)).collect();
        return CliError::refused(format!(
            "Error: Conflict: another session committed changes to the same configuration \
             since this session's changes were made ({}). Nothing was committed; `clear \
             configuration candidate` drops this session's changes.",
            places.join("; ")
        ));
    }
    // A handful says what is wrong; thousands of the same would bury it.
    const SHOWN: usize = 5;
    let errors = e.to_data_errors();
    let mut lines: Vec<String> = errors
        .iter()
        .take(SHOWN)
        .map(|d| {
            let mut m = capitalized(&d.message);
            // A leafref's message names its place already.
            if let Some(p) = d.path.as_deref() {
                if d.app_tag.as_deref() != Some("instance-required") {
                    m = format!("{} (at {})", m.trim_end_matches('.'), place(p));
                }
            }
            format!("Error: {m}")
        })
        .collect();
    if errors.len() > SHOWN {
        lines.push(format!(
            "Error: ... and {} more problems (nothing was committed).",
            errors.len() - SHOWN
        ));
    }
    CliError::refused(lines.join("\n"))
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A node's instance-identifier as an engineer reads it: `interface a-ic vrrp group 1
/// priority` for `/if:interfaces/if:interface[if:name='a-ic']/vrrp:vrrp/vrrp:group[...]/...`
/// (a container named as the plural of the list it holds is left out).
pub fn place(path: &str) -> String {
    let steps: Vec<(&str, Vec<&str>)> = split_steps(path)
        .into_iter()
        .map(|s| {
            let s = s.trim_start_matches('/');
            let (name, preds) = s.split_once('[').unwrap_or((s, ""));
            let local = name.rsplit(':').next().unwrap_or(name);
            let keys = preds
                .split('[')
                .filter_map(|p| p.split_once('=').map(|(_, v)| v))
                .map(|v| {
                    v.trim_end_matches(']')
                        .trim_matches(|c| c == '\'' || c == '"')
                })
                .collect();
            (local, keys)
        })
        .collect();
    let mut words = Vec::new();
    for (i, (name, keys)) in steps.iter().enumerate() {
        // `interfaces interface a-ic` says it twice; `bfd session x` does not.
        let plural_of_next = keys.is_empty()
            && steps
                .get(i + 1)
                .is_some_and(|(next, next_keys)| !next_keys.is_empty() && name.starts_with(next));
        if plural_of_next {
            continue;
        }
        words.push(name.to_string());
        words.extend(keys.iter().map(|k| k.to_string()));
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_read_as_words() {
        assert_eq!(
            place("/if:interfaces/if:interface[if:name='a-ic']/vrrp:vrrp/vrrp:group[vrrp:vrid='1']/vrrp:priority"),
            "interface a-ic vrrp group 1 priority"
        );
        assert_eq!(place("/bfd:bfd"), "bfd");
        assert_eq!(place("/bfd:bfd/bfd:session[bfd:name='x']"), "bfd session x");
        assert_eq!(
            place("/mg:monitor-groups/mg:monitor-group[mg:name='up links']"),
            "monitor-group up links"
        );
    }
}
