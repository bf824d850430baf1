//! The VRP-style command line (issue 17), as a pure core: command lines in, output text,
//! errors and requests out, over a private candidate data tree. No terminal, no SSH, no
//! datastore: the front end that owns the connection feeds it lines and acts on what it asks.
//!
//! ```text
//! let mut cli = Session::new(schema, &running, "ne-agent");
//! loop {
//!     write(cli.prompt());                        // <ne-agent>, [~ne-agent], [*ne-agent-a-dn], ...
//!     match cli.line(&read_line()) {
//!         Outcome::Output(text) => write(text),   // display output; "" for most commands
//!         Outcome::Error(e) => write(e.render(width(cli.prompt()))), // caret + "Error: ..."
//!         Outcome::Commit { comment } => {        // commit the candidate through the pipeline
//!             match pipeline.commit(cli.base(), cli.candidate(), comment) {
//!                 Ok(new_running) => cli.committed(&new_running),
//!                 Err(e) => write(e),             // the candidate stays as it was
//!             }
//!         }
//!         Outcome::Quit => break,                 // `quit` in the user view
//!         Outcome::Show(what) => write(show::...(tree)), // history, engines' state
//!         Outcome::Rollback { id } => ...,        // like Commit, through the pipeline
//!     }
//! }
//! ```
//!
//! [`shell::Cli`] is that loop over the server's datastores (the CLI as a management front
//! end), and [`ssh`] runs it on an SSH channel; they are the only parts here that touch
//! anything outside the session.
//!
//! - [`Session::new`]`(schema, running, hostname)`: a session in the user view; `running` is
//!   the running configuration as the datastore holds it (with defaults), `hostname` the name
//!   the prompt shows while the configuration sets none (`/ietf-system:system/hostname`, set by
//!   `sysname`, takes over once committed, as on VRP).
//! - [`Session::line`]: one command line (a trailing CR/LF is ignored); never panics, costs
//!   what the line's words cost plus the edit it makes.
//! - [`Session::prompt`]: `<HOST>` in the user view; `[~HOST]` in the system view, `[*HOST]`
//!   while the candidate differs from the running configuration it was made from; sub-views
//!   add their name: `[~HOST-a-dn]`, `[~HOST-monitor-group-uplinks]`,
//!   `[~HOST-bfd-session-to-b]`, `[~HOST-pim]`.
//! - [`Session::candidate`], [`Session::base`] (the running tree the candidate was made from:
//!   a commit applies `diff(base, candidate)`), [`Session::has_changes`].
//! - [`Session::help`]`(text)` and [`Session::complete`]`(text)`: VRP's `?` and Tab, from the
//!   command table; [`line::Editor`] is the interactive line editor that asks for them.
//! - [`Session::committed`]`(running)` after a successful commit, [`Session::set_running`]
//!   when the running configuration changed under the session (display commands show it).
//! - [`CliError::render`]`(indent)`: the caret line and the message; `indent` is the width (in
//!   characters) of what precedes the command line on its row, the prompt when the line was
//!   echoed after it. A batch without echo can print [`CliError::message`] alone.
//!
//! As on VRP, `display current-configuration` and `display this` show the running
//! configuration; `display configuration candidate` shows the session's changes (from its
//! base) as `+`/`-` lines, `... merge` the whole candidate. Uncommitted changes stay in the
//! candidate across `quit` and `return` (VRP asks whether to commit them; a front end may) and
//! go with the session. A description or a commit comment is the rest of the line; a name with
//! blanks is written in double quotes.
//!
//! Commands: the seed procedure's (`monitor-group`, `monitor enable`, `binding interface`,
//! `bfd NAME bind peer-ip`, `discriminator local|remote`, `multicast routing-enable`, `pim sm`,
//! `igmp enable`, `vrrp vrid N track bfd-session|monitor-group`, `multicast track admin-vrrp`,
//! `pim ignore dr-state|assert-state`), their prerequisites and neighbours, each with `undo`;
//! views (`system-view`, `quit`, `return`), `commit [comment TEXT]`, `display
//! current-configuration [configuration SECTION | interface IF]`, `display this`, `display
//! configuration candidate [changes | merge]`, `clear configuration candidate` (drops the
//! session's changes), `display configuration commit list`, `rollback configuration to
//! commit-id N` (user view); the displays of the engines' state, in every view: `display vrrp
//! [brief | verbose | interface IF [vrid N]]`, `display bfd session all [verbose]`, `display
//! monitor-group [NAME]`, `display igmp group [verbose]`, `display igmp interface [IF]`,
//! `display pim neighbor|interface|routing-table`, `display multicast routing-table`,
//! `display interface brief` ([`show`]). The table is in [`commands`]. Keywords may be
//! abbreviated to a unique prefix; a line that is no command of a sub-view (unrecognized or
//! incomplete there) is looked up in the system view and then runs there, as VRP does with
//! `interface X` typed in another interface's view; lines starting with `#` or `!` are
//! comments.

pub mod commands;
mod edit;
pub mod grammar;
pub mod lex;
pub mod line;
mod nav;
pub mod params;
pub mod render;
pub mod shell;
pub mod show;
pub mod ssh;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use yang::data::DataTree;
use yang::schema::Schema;

use commands::{Action, Grammars, Section, SYS};
pub use grammar::{CliError, ErrorKind};
use grammar::{Grammar, Matched, Next};
use params::Params;

/// Where the session is: the view decides which commands exist and what they apply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    User,
    System,
    Interface(String),
    MonitorGroup(String),
    BfdSession(String),
    Pim,
}

impl View {
    /// The view whose commands are also available here (and where they run).
    fn parent(&self) -> Option<View> {
        match self {
            View::User | View::System => None,
            _ => Some(View::System),
        }
    }

    fn suffix(&self) -> String {
        match self {
            View::User | View::System => String::new(),
            View::Interface(n) => format!("-{n}"),
            View::MonitorGroup(n) => format!("-monitor-group-{n}"),
            View::BfdSession(n) => format!("-bfd-session-{n}"),
            View::Pim => "-pim".into(),
        }
    }
}

/// What a command line did, for the caller to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Text to print (each line ends with a newline); empty for most commands.
    Output(String),
    Error(CliError),
    /// `commit [comment TEXT]`: commit the candidate, then call [`Session::committed`].
    Commit {
        comment: Option<String>,
    },
    /// `quit` in the user view: end the session (uncommitted changes are dropped with it).
    Quit,
    /// A display of what the session does not hold: the caller reads it (as the user may)
    /// and renders it with [`show`].
    Show(Show),
    /// `rollback configuration to commit-id N`: roll running back through the pipeline, then
    /// call [`Session::committed`].
    Rollback {
        id: u64,
    },
}

/// The displays [`Outcome::Show`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Show {
    /// `display configuration commit list`: from `ne-system:commit-history`
    /// ([`show::commit_list`]).
    CommitList,
    /// `display vrrp brief`: from running with the engines' state ([`show::vrrp_brief`]).
    VrrpBrief,
    /// `display vrrp [verbose]`, `display vrrp interface IF [vrid N]`: the same
    /// ([`show::vrrp_verbose`]).
    Vrrp {
        interface: Option<String>,
        vrid: Option<String>,
    },
    /// `display bfd session all [verbose]`: the same ([`show::bfd_sessions`],
    /// [`show::bfd_verbose`]).
    BfdSessions { verbose: bool },
    /// `display monitor-group [NAME]`: the same ([`show::monitor_groups`]).
    MonitorGroup(Option<String>),
    /// `display igmp group [verbose]` ([`show::igmp_groups`]).
    IgmpGroups { verbose: bool },
    /// `display igmp interface [IF]` ([`show::igmp_interfaces`]).
    IgmpInterfaces(Option<String>),
    /// `display pim neighbor` ([`show::pim_neighbors`]).
    PimNeighbors,
    /// `display pim interface` ([`show::pim_interfaces`]).
    PimInterfaces,
    /// `display pim routing-table` ([`show::pim_routes`]).
    PimRoutes,
    /// `display pim bsr-info` ([`show::bsr_info`]).
    PimBsrInfo,
    /// `display pim rp-info` ([`show::rp_info`]).
    PimRpInfo,
    /// `display multicast routing-table` ([`show::multicast_routes`]).
    MulticastRoutes,
    /// `display interface brief` ([`show::interface_brief`]).
    InterfaceBrief,
}

fn grammars() -> &'static Grammars {
    static GRAMMARS: OnceLock<Grammars> = OnceLock::new();
    GRAMMARS.get_or_init(|| match Grammars::new() {
        Ok(g) => g,
        Err(e) => {
            // A mistake in the static table (a unit test catches it): no commands at all.
            tracing::error!(error = %e.0, "vrp command table");
            Grammars {
                user: Grammar::new(),
                system: Grammar::new(),
                interface: Grammar::new(),
                monitor_group: Grammar::new(),
                bfd_session: Grammar::new(),
                pim: Grammar::new(),
            }
        }
    })
}

/// The tree with the schema's defaults, as every edit leaves the candidate (the datastore's
/// trees have them already; an empty device's may not), so that a command and its `undo`
/// give back a candidate equal to the running tree.
fn with_defaults(schema: &Schema, tree: &DataTree) -> DataTree {
    let mut tree = tree.clone();
    yang::data::add_defaults(schema, &mut tree);
    tree
}

/// One CLI session: its view and its private candidate.
pub struct Session {
    schema: Arc<Schema>,
    params: Params,
    running: DataTree,
    base: DataTree,
    candidate: DataTree,
    default_hostname: String,
    view: View,
}

impl Session {
    pub fn new(schema: Arc<Schema>, running: &DataTree, hostname: &str) -> Session {
        let running = with_defaults(&schema, running);
        Session {
            params: Params::new(schema.clone()),
            schema,
            base: running.clone(),
            candidate: running.clone(),
            running,
            default_hostname: hostname.to_string(),
            view: View::User,
        }
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    /// The session's candidate: the running configuration it started from plus its changes.
    pub fn candidate(&self) -> &DataTree {
        &self.candidate
    }

    /// The running configuration the candidate was made from.
    pub fn base(&self) -> &DataTree {
        &self.base
    }

    /// Does the candidate differ from the running configuration it was made from?
    pub fn has_changes(&self) -> bool {
        // Unchanged subtrees are shared, so this compares what the session edited.
        self.candidate != self.base
    }

    /// The candidate was committed and `running` is the result: start afresh from it.
    pub fn committed(&mut self, running: &DataTree) {
        self.running = with_defaults(&self.schema, running);
        self.base = self.running.clone();
        self.candidate = self.running.clone();
    }

    /// The running configuration changed (another session committed). The display commands
    /// show the new one; a candidate without changes follows it, one with changes keeps its
    /// base (the commit pipeline decides whether the changes still apply).
    pub fn set_running(&mut self, running: &DataTree) {
        self.running = with_defaults(&self.schema, running);
        if !self.has_changes() {
            self.base = self.running.clone();
            self.candidate = self.running.clone();
        }
    }

    /// The host name the prompt shows: the committed `sysname`, else the default.
    pub fn hostname(&self) -> String {
        let nav = nav::Nav::new(&self.schema);
        nav.top(&self.running, SYS, "system")
            .and_then(|s| nav.value(s, SYS, "hostname"))
            .unwrap_or(&self.default_hostname)
            .to_string()
    }

    pub fn prompt(&self) -> String {
        let host = self.hostname();
        match &self.view {
            View::User => format!("<{host}>"),
            view => {
                let mark = if self.has_changes() { '*' } else { '~' };
                format!("[{mark}{host}{}]", view.suffix())
            }
        }
    }

    fn grammar(view: &View) -> &'static Grammar<Action> {
        let g = grammars();
        match view {
            View::User => &g.user,
            View::System => &g.system,
            View::Interface(_) => &g.interface,
            View::MonitorGroup(_) => &g.monitor_group,
            View::BfdSession(_) => &g.bfd_session,
            View::Pim => &g.pim,
        }
    }

    /// VRP's `?`: what may come at the end of `text` here (this view's commands and those of
    /// the views above it): keywords in full, parameters as `<name>`, `<cr>` where `text` is
    /// a command already. Empty when `text` is no command's beginning.
    pub fn help(&self, text: &str) -> Vec<String> {
        let mut next = self.next(text);
        next.sort();
        next.dedup();
        next.into_iter()
            .map(|n| match n {
                Next::Keyword(k) => k.to_string(),
                Next::Param(p) => format!("<{p}>"),
                Next::End => "<cr>".to_string(),
            })
            .collect()
    }

    /// VRP's `?` with its explanations: each candidate of [`Session::help`] with what it
    /// does (a keyword's from the command table; a parameter's form, range, description,
    /// units and default from its YANG leaf; `<cr>` to run the command as it is).
    pub fn help_lines(&self, text: &str) -> Vec<(String, String)> {
        let mut next = self.next(text);
        next.sort();
        next.dedup();
        next.into_iter()
            .map(|n| match n {
                Next::Keyword(k) => (k.to_string(), commands::keyword_help(k).to_string()),
                Next::Param(p) => self.params.describe(p),
                Next::End => ("<cr>".to_string(), String::new()),
            })
            .collect()
    }

    /// Tab: what completes the last word of `text` when it abbreviates exactly one keyword
    /// here (the rest of the keyword and a blank).
    pub fn complete(&self, text: &str) -> Option<String> {
        let word = lex::words(text).pop()?;
        let mut keywords: Vec<&str> = self
            .next(text)
            .into_iter()
            .filter_map(|n| match n {
                Next::Keyword(k) => Some(k),
                _ => None,
            })
            .collect();
        keywords.sort_unstable();
        keywords.dedup();
        match keywords.as_slice() {
            [k] if !word.quoted && word.offset + word.text.len() == text.len() => {
                Some(format!("{} ", &k[word.text.len()..]))
            }
            _ => None,
        }
    }

    fn next(&self, text: &str) -> Vec<Next> {
        let words = lex::words(text);
        let partial = text.chars().last().is_some_and(|c| !lex::is_blank(c));
        let mut out = Vec::new();
        let mut view = Some(self.view.clone());
        while let Some(v) = view {
            out.extend(Self::grammar(&v).next(&words, partial, &self.params));
            view = v.parent();
        }
        out
    }

    /// Run one command line.
    pub fn line(&mut self, text: &str) -> Outcome {
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        let words = lex::words(text);
        let Some(first) = words.first() else {
            return Outcome::Output(String::new());
        };
        if !first.quoted && (first.text.starts_with('#') || first.text.starts_with('!')) {
            return Outcome::Output(String::new());
        }
        // The current view first; if the line is no command of it (unrecognized or
        // incomplete), the views above it. The error reported is the one that got furthest
        // into the line (the current view's on a tie).
        let mut view = self.view.clone();
        let mut best: Option<CliError> = None;
        loop {
            match Self::grammar(&view).matches(text, &words, &self.params) {
                Ok(m) => {
                    // The command runs in the view it was found in; if it fails, the session
                    // stays where it was.
                    let previous = std::mem::replace(&mut self.view, view);
                    let outcome = self.run(text, m);
                    if matches!(outcome, Outcome::Error(_)) {
                        self.view = previous;
                    }
                    return outcome;
                }
                Err(e) => {
                    let look_above =
                        matches!(e.kind, ErrorKind::Unrecognized | ErrorKind::Incomplete);
                    let further = |b: &CliError| e.column.unwrap_or(0) > b.column.unwrap_or(0);
                    if best.as_ref().is_none_or(further) {
                        best = Some(e);
                    }
                    if !look_above {
                        break;
                    }
                }
            }
            match view.parent() {
                Some(p) => view = p,
                None => break,
            }
        }
        Outcome::Error(best.unwrap_or_else(|| CliError::at(ErrorKind::Unrecognized, 0)))
    }

    fn run(&mut self, text: &str, m: Matched<Action>) -> Outcome {
        let done = Outcome::Output(String::new());
        match m.action {
            Action::SystemView => {
                self.view = View::System;
                done
            }
            Action::Quit => match self.view {
                View::User => Outcome::Quit,
                View::System => {
                    self.view = View::User;
                    done
                }
                _ => {
                    self.view = View::System;
                    done
                }
            },
            Action::Return => {
                self.view = View::User;
                done
            }
            Action::Commit => Outcome::Commit {
                comment: m.value("comment").map(str::to_string),
            },
            Action::EnterPim => {
                self.view = View::Pim;
                done
            }
            Action::EnterBfd => {
                let name = m.value("bfd-name").unwrap_or_default();
                if !edit::has_bfd_session(&self.schema, &self.candidate, name) {
                    // A new session needs its binding: `bfd NAME bind peer-ip IP`.
                    return Outcome::Error(CliError::at(
                        ErrorKind::Incomplete,
                        lex::end_column(text),
                    ));
                }
                self.view = View::BfdSession(name.to_string());
                done
            }
            Action::DisplayCurrent => self.display(|_| true),
            Action::DisplaySection(section) => {
                let name = m
                    .value("mg-name")
                    .or(m.value("bfd-name"))
                    .or(m.value("ifname"));
                self.display(|b| b.section == section && name.is_none_or(|n| b.name == n))
            }
            Action::DisplayInterface => {
                let name = m.value("ifname").unwrap_or_default();
                self.display(|b| b.section == Section::Interface && b.name == name)
            }
            Action::DisplayThis => self.display_this(),
            Action::DisplayCandidateChanges => {
                let old = render::blocks(&self.schema, &self.base);
                let new = render::blocks(&self.schema, &self.candidate);
                Outcome::Output(render::changes(&old, &new))
            }
            Action::ClearCandidate => {
                // Made afresh from running as it is now: a commit of others that met this
                // session's changes no longer does.
                self.base = self.running.clone();
                self.candidate = self.running.clone();
                done
            }
            Action::DisplayCommitList => Outcome::Show(Show::CommitList),
            Action::DisplayVrrpBrief => Outcome::Show(Show::VrrpBrief),
            Action::DisplayVrrpVerbose => Outcome::Show(Show::Vrrp {
                interface: m.value("ifname").map(str::to_string),
                vrid: m.value("vrid").map(str::to_string),
            }),
            Action::DisplayBfdSessions => Outcome::Show(Show::BfdSessions { verbose: false }),
            Action::DisplayBfdVerbose => Outcome::Show(Show::BfdSessions { verbose: true }),
            Action::DisplayIgmpGroup => Outcome::Show(Show::IgmpGroups {
                verbose: m.has("verbose"),
            }),
            Action::DisplayIgmpInterface => {
                Outcome::Show(Show::IgmpInterfaces(m.value("ifname").map(str::to_string)))
            }
            Action::DisplayPimNeighbor => Outcome::Show(Show::PimNeighbors),
            Action::DisplayPimInterface => Outcome::Show(Show::PimInterfaces),
            Action::DisplayPimRoutingTable => Outcome::Show(Show::PimRoutes),
            Action::DisplayPimBsrInfo => Outcome::Show(Show::PimBsrInfo),
            Action::DisplayPimRpInfo => Outcome::Show(Show::PimRpInfo),
            Action::DisplayMulticastRoutingTable => Outcome::Show(Show::MulticastRoutes),
            Action::DisplayInterfaceBrief => Outcome::Show(Show::InterfaceBrief),
            Action::DisplayMonitorGroup => {
                Outcome::Show(Show::MonitorGroup(m.value("mg-name").map(str::to_string)))
            }
            Action::Rollback => {
                if self.has_changes() {
                    return Outcome::Error(CliError::refused(
                        "Error: This session has uncommitted configurations: commit them, or \
                         drop them with `clear configuration candidate` in the system view, \
                         before a rollback.",
                    ));
                }
                match m.value("commit-id").and_then(|v| v.parse().ok()) {
                    Some(id) => Outcome::Rollback { id },
                    None => Outcome::Error(CliError::at(
                        ErrorKind::WrongParameter,
                        lex::end_column(text),
                    )),
                }
            }
            Action::DisplayCandidateMerge => {
                Outcome::Output(render::text(&render::blocks(&self.schema, &self.candidate)))
            }
            _ => self.configure(m),
        }
    }

    /// A configuration command: edit the candidate, and enter the view it names, if any.
    fn configure(&mut self, m: Matched<Action>) -> Outcome {
        let mut ctx = edit::Context {
            interface: None,
            monitor_group: None,
            bfd_session: None,
        };
        match &self.view {
            View::Interface(n) => ctx.interface = Some(n),
            View::MonitorGroup(n) => ctx.monitor_group = Some(n),
            View::BfdSession(n) => ctx.bfd_session = Some(n),
            View::User | View::System | View::Pim => {}
        }
        let edit = match edit::edit_for(&self.schema, &self.candidate, &ctx, &m) {
            Ok(Some(edit)) => edit,
            Ok(None) => return Outcome::Output(String::new()),
            Err(e) => return Outcome::Error(e),
        };
        if let Err(e) = edit::apply(&self.schema, &mut self.candidate, &edit) {
            return Outcome::Error(e);
        }
        let entered = |param: &str| m.value(param).unwrap_or_default().to_string();
        match m.action {
            Action::EnterInterface => self.view = View::Interface(entered("ifname")),
            Action::EnterMonitorGroup => self.view = View::MonitorGroup(entered("mg-name")),
            Action::BfdBind => self.view = View::BfdSession(entered("bfd-name")),
            _ => {}
        }
        Outcome::Output(String::new())
    }

    /// The running configuration's blocks that `keep` selects.
    fn display(&self, keep: impl Fn(&render::Block) -> bool) -> Outcome {
        let blocks: Vec<_> = render::blocks(&self.schema, &self.running)
            .into_iter()
            .filter(|b| keep(b))
            .collect();
        Outcome::Output(render::text(&blocks))
    }

    /// The running configuration of the current view (all of it in the system view).
    fn display_this(&self) -> Outcome {
        let (section, name, head) = match &self.view {
            View::User | View::System => return self.display(|_| true),
            View::Interface(n) => (
                Section::Interface,
                n,
                format!("interface {}", lex::quote(n)),
            ),
            View::MonitorGroup(n) => (
                Section::MonitorGroup,
                n,
                format!("monitor-group {}", lex::quote(n)),
            ),
            View::BfdSession(n) => (Section::Bfd, n, format!("bfd {}", lex::quote(n))),
            View::Pim => {
                let blocks: Vec<_> = render::blocks(&self.schema, &self.running)
                    .into_iter()
                    .filter(|b| b.section == Section::Pim)
                    .collect();
                if blocks.is_empty() {
                    return Outcome::Output("#\npim\n#\nreturn\n".into());
                }
                return Outcome::Output(render::text(&blocks));
            }
        };
        let mut blocks: Vec<_> = render::blocks(&self.schema, &self.running)
            .into_iter()
            .filter(|b| b.section == section && b.name == *name)
            .collect();
        if blocks.is_empty() {
            // Not committed yet: the view exists, with nothing in it.
            blocks.push(render::Block {
                section,
                name: name.clone(),
                head,
                body: Vec::new(),
            });
        }
        Outcome::Output(render::text(&blocks))
    }
}
