//! The CLI as a front end over a real datastore (`shell::Cli`): batches, the terminal, and
//! commits through the pipeline, with conflicts between sessions.

use std::sync::Arc;

use datastore::Target;

use super::seed::A_XML;
use super::*;
use crate::netconf::server::{Limits, Server};
use crate::vrp::shell::{self, Cli, Printed};

const A_VRP: &str = include_str!("../../../../examples/seed/device-a.vrp");

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
    let dir = std::env::temp_dir().join(format!("ne-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (store, _) = datastore::Datastore::open(&dir, schema()).unwrap();
    Fixture {
        server: Server::new(schema(), Arc::new(store), Limits::default()),
        dir,
    }
}

/// A session of the recovery user (a server without a user database has `admin`).
fn cli(f: &Fixture, id: u32) -> Cli {
    Cli::new(Arc::clone(&f.server), "admin", id, "192.0.2.1")
}

/// Feed a whole batch: (status, stdout, stderr).
fn batch(c: &mut Cli, input: &str) -> (u32, String, String) {
    let mut p = Printed::default();
    let status = c
        .batch(input.as_bytes(), &mut p)
        .unwrap_or_else(|| c.batch_end(&mut p));
    (
        status,
        String::from_utf8(p.stdout).unwrap(),
        String::from_utf8(p.stderr).unwrap(),
    )
}

fn running(f: &Fixture) -> DataTree {
    f.server.store.get(Target::Running).unwrap_or_default()
}

#[test]
fn the_seed_batch_commits_device_a() {
    let f = fixture("seed");
    let mut events = f.server.events.subscribe();
    let (status, out, err) = batch(&mut cli(&f, 7), A_VRP);
    assert_eq!((status, out.as_str(), err.as_str()), (0, "", ""));
    assert!(normalize(&running(&f)) == normalize(&decode_config(A_XML)));
    let history = f.server.store.history();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].user.as_str(), history[0].session), ("admin", 7));
    let event = events.try_recv().unwrap();
    assert!(
        event.content.contains("<netconf-config-change"),
        "{}",
        event.content
    );
    assert!(
        event.content.contains("<session-id>7</session-id>"),
        "{}",
        event.content
    );
    assert!(event.content.contains("192.0.2.1"), "{}", event.content);
    // Display shows it; a comment goes into the history.
    let (_, shown, _) = batch(&mut cli(&f, 8), "display current-configuration");
    assert!(
        shown.contains("monitor-group uplinks\n monitor enable\n"),
        "{shown}"
    );
    let (status, _, _) = batch(
        &mut cli(&f, 8),
        "system-view\nsysname a1\ncommit comment renamed for the lab",
    );
    assert_eq!(status, 0);
    let history = f.server.store.history();
    assert_eq!(history[1].comment.as_deref(), Some("renamed for the lab"));
}

#[test]
fn a_bad_line_stops_the_batch_and_commits_nothing() {
    let f = fixture("bad");
    let input = A_VRP.replace(" vrrp vrid 1 priority 120", " vrrp vrid 1 priority 300");
    let (status, out, err) = batch(&mut cli(&f, 1), &input);
    let line = input
        .lines()
        .position(|l| l.contains("priority 300"))
        .unwrap()
        + 1;
    assert_eq!(status, 1);
    assert_eq!(out, "");
    let head = format!("line {line}: ");
    let caret = " ".repeat(head.len() + " vrrp vrid 1 priority ".len());
    assert_eq!(
        err,
        format!(
            "{head} vrrp vrid 1 priority 300\n{caret}^\nError: Wrong parameter found at '^' position.\n"
        )
    );
    assert_eq!(f.server.store.generation(), 0);
    // A commit the pipeline refuses: in words, status 1.
    let (status, _, err) = batch(
        &mut cli(&f, 1),
        "system-view\nbfd x bind peer-ip 10.0.0.9\ncommit",
    );
    assert_eq!(status, 1);
    assert_eq!(
        err,
        "line 3: commit\nError: Mandatory node 'local-discriminator' is missing (at bfd session x)\n"
    );
    assert_eq!(f.server.store.generation(), 0);
    // Many problems: the first few, and how many more.
    let many: String = (0..20)
        .map(|i| format!("monitor-group g{i}\nbinding interface e{i}\nquit\n"))
        .collect();
    let (status, _, err) = batch(&mut cli(&f, 1), &format!("system-view\n{many}commit"));
    assert_eq!(status, 1);
    assert_eq!(
        err.lines().filter(|l| l.contains("refers to")).count(),
        5,
        "{err}"
    );
    assert!(
        err.ends_with("Error: ... and 15 more problems (nothing was committed).\n"),
        "{err}"
    );
    // Uncommitted changes are discarded, and said so; the batch still succeeded.
    let (status, _, err) = batch(&mut cli(&f, 1), "system-view\nsysname x");
    assert_eq!(status, 0);
    assert!(
        err.starts_with("Warning: The uncommitted configuration"),
        "{err}"
    );
    // Too long a line stops the batch.
    let long = format!("system-view\ndescription {}\n", "d".repeat(70_000));
    let (status, _, err) = batch(&mut cli(&f, 1), &long);
    assert_eq!(status, 1);
    assert!(
        err.starts_with("line 2: Error: The command line is longer"),
        "{err}"
    );
}

#[test]
fn sessions_commit_side_by_side_and_conflicts_are_reported() {
    let f = fixture("conflict");
    batch(&mut cli(&f, 1), A_VRP);
    let (mut a, mut b) = (cli(&f, 2), cli(&f, 3));
    // Different nodes: both commits stay.
    batch_lines(
        &mut a,
        "system-view\ninterface a-ic\nvrrp vrid 1 priority 110",
    )
    .unwrap();
    batch_lines(&mut b, "system-view\nmonitor-group extra\nmonitor enable").unwrap();
    assert_eq!(batch_lines(&mut b, "commit"), Ok(()));
    assert_eq!(batch_lines(&mut a, "commit"), Ok(()));
    let shown = display(&running(&f));
    assert!(shown.contains("vrrp vrid 1 priority 110"), "{shown}");
    assert!(shown.contains("monitor-group extra"), "{shown}");
    // The same node: the second commit is a conflict and changes nothing.
    batch_lines(&mut a, "vrrp vrid 1 priority 111").unwrap();
    batch_lines(&mut b, "interface a-ic\nvrrp vrid 1 priority 112\ncommit").unwrap();
    let generation = f.server.store.generation();
    let err = batch_lines(&mut a, "commit").unwrap_err();
    assert!(
        err.starts_with(
            "Error: Conflict: another session committed changes to the same configuration"
        ) && err.contains("interface a-ic vrrp group 1 priority"),
        "{err}"
    );
    assert_eq!(f.server.store.generation(), generation);
    assert!(display(&running(&f)).contains("vrrp vrid 1 priority 112"));
    // Dropping the changes and making them again on the new running commits.
    batch_lines(
        &mut a,
        "clear configuration candidate\nvrrp vrid 1 priority 111",
    )
    .unwrap();
    assert_eq!(batch_lines(&mut a, "commit"), Ok(()));
    assert!(display(&running(&f)).contains("vrrp vrid 1 priority 111"));
}

/// Lines in an open session (no end of input): Ok, or the first error's message.
fn batch_lines(c: &mut Cli, lines: &str) -> Result<(), String> {
    for l in lines.lines() {
        if let Err(e) = c.line(l) {
            return Err(e.message);
        }
    }
    Ok(())
}

#[test]
fn the_terminal_shows_prompts_echo_and_asks_before_dropping_changes() {
    let f = fixture("tty");
    let mut c = cli(&f, 1);
    let mut out = c.greeting();
    let mut type_in = |c: &mut Cli, keys: &[u8]| {
        let mut o = Vec::new();
        let s = c.typed(keys, &mut o);
        out.extend_from_slice(&o);
        s
    };
    assert_eq!(type_in(&mut c, b"sys\t\r"), None);
    assert_eq!(
        type_in(&mut c, b"interface x1\r vrrp vrid 1 virtual-ip 10.0.0.6\r"),
        None
    );
    assert_eq!(type_in(&mut c, b"vrrp vrid 1 pri?"), None);
    assert_eq!(type_in(&mut c, b"\x03quit\rcommit\r"), None);
    assert_eq!(
        type_in(&mut c, b"display this\rsysname r9\rreturn\rquit\r"),
        None
    );
    assert_eq!(type_in(&mut c, b"c\r"), None, "cancel: the session stays");
    assert_eq!(type_in(&mut c, b"quit\rn\r"), Some(0));
    let screen = String::from_utf8(out).unwrap();
    for want in [
        "\r\n<ne-agent>system-view \r\n[~ne-agent]interface x1\r\n",
        "[*ne-agent-x1] vrrp vrid 1 virtual-ip 10.0.0.6\r\n[*ne-agent-x1]",
        "vrrp vrid 1 pri?\r\n  priority  Set the priority\r\n[*ne-agent-x1]vrrp vrid 1 pri^C\r\n[*ne-agent-x1]quit",
        "[*ne-agent]commit\r\n[~ne-agent]display this\r\n#\r\ninterface x1\r\n",
        "[*ne-agent]return\r\n<ne-agent>quit\r\nWarning: Uncommitted configurations found.",
        "[Y(yes)/N(no)/C(cancel)]:c\r\n<ne-agent>quit\r\n",
    ] {
        assert!(screen.contains(want), "{want:?} in\n{screen}");
    }
    assert!(display(&running(&f)).contains("vrrp vrid 1 virtual-ip 10.0.0.6"));
    assert!(!display(&running(&f)).contains("sysname"));
}

#[test]
fn commit_list_and_rollback_through_the_pipeline() {
    let f = fixture("rollback");
    let mut c = cli(&f, 1);
    batch_lines(&mut c, A_VRP).unwrap();
    batch_lines(&mut c, "sysname r1\ncommit comment the lab name\nreturn").unwrap();
    let list = match c.line("display configuration commit list") {
        Ok(shell::Step::Output(s)) => s,
        other => panic!("{other:?}"),
    };
    assert!(list.starts_with("Total commit records: 2\n"), "{list}");
    let rows: Vec<&str> = list.lines().filter(|l| l.starts_with(['1', '2'])).collect();
    assert!(
        rows.len() == 2
            && rows[0].starts_with("1     2         admin ")
            && rows[0].ends_with("the lab name")
            && rows[1].starts_with("2     1         admin "),
        "{list}"
    );
    // Not while this session has changes of its own.
    batch_lines(&mut c, "system-view\nsysname r2\nreturn").unwrap();
    let e = batch_lines(&mut c, "rollback configuration to commit-id 1").unwrap_err();
    assert!(e.contains("uncommitted configurations"), "{e}");
    batch_lines(&mut c, "system-view\nclear configuration candidate\nreturn").unwrap();
    assert_eq!(
        c.line("rollback configuration to commit-id 1"),
        Ok(shell::Step::Output(
            "Info: Rolled back to commit 1 as commit 3.\n".into()
        ))
    );
    assert!(!display(&running(&f)).contains("sysname"));
    assert_eq!(c.session().prompt(), "<ne-agent>", "the session follows");
    let history = f.server.store.history();
    assert_eq!(history[2].comment.as_deref(), Some("rollback to commit 1"));
    let e = batch_lines(&mut c, "rollback configuration to commit-id 99").unwrap_err();
    assert_eq!(e, "Error: No commit 99 in the history");
    // Without engines the displays show the configuration: nothing active.
    let brief = match c.line("display vrrp brief") {
        Ok(shell::Step::Output(s)) => s,
        other => panic!("{other:?}"),
    };
    assert!(brief.contains("\n1     Initialize   a-ic "), "{brief}");
    let bfd = match c.line("display bfd session all") {
        Ok(shell::Step::Output(s)) => s,
        other => panic!("{other:?}"),
    };
    assert!(
        bfd.contains("10    20         10.0.0.2        Down"),
        "{bfd}"
    );
}

mod batch_round_trip {
    use std::sync::atomic::{AtomicU32, Ordering};

    use proptest::prelude::*;
    use proptest::test_runner::Config;

    use super::super::roundtrip::{completed, conf, xml};
    use super::*;

    static CASE: AtomicU32 = AtomicU32::new(0);

    proptest! {
        #![proptest_config(Config { cases: 48, ..Config::default() })]

        /// Acceptance 2 through the non-interactive front end: `display current-configuration`
        /// of a generated configuration, fed as a batch (after `system-view`, with a commit)
        /// to an empty device, commits exactly that configuration when it is valid; when the
        /// datastore's validation refuses it, the batch fails at the commit and nothing of it
        /// is committed.
        #[test]
        fn displayed_configurations_fed_as_batches(c in conf(), complete in any::<bool>()) {
            let c = if complete { completed(c) } else { c };
            let tree = decode_config(&xml(&c));
            let text = display(&tree);
            let f = fixture(&format!("rt{}", CASE.fetch_add(1, Ordering::Relaxed)));
            let mut cli = cli(&f, 1);
            let (status, out, err) = batch(&mut cli, &format!("system-view\n{text}system-view\ncommit\n"));
            let valid = yang::validate::validate(
                &schema(),
                &tree,
                yang::validate::ValidateOptions::default(),
            );
            prop_assert_eq!(out, "");
            if valid.is_ok() {
                prop_assert_eq!(status, 0, "{}\n{}", text, err);
                let got = running(&f);
                prop_assert!(
                    normalize(&got) == normalize(&tree),
                    "{text}\n{}",
                    differences(&normalize(&tree), &normalize(&got))
                );
            } else {
                prop_assert_eq!(status, 1, "{}", text);
                let at_commit = format!("line {}: commit\n", text.lines().count() + 3);
                prop_assert!(err.starts_with(&at_commit), "{}\n{}", text, err);
                prop_assert!(display(&running(&f)) == display(&DataTree::new()), "{}", err);
            }
        }
    }
}
