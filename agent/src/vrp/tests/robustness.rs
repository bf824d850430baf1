//! Bad input never panics and never leaves a half-made edit: very long lines, control
//! characters, arbitrary text, and a batch of 10,000 commands.

use std::fmt::Write;
use std::time::Instant;

use proptest::prelude::*;

use super::*;
use crate::vrp::View;

/// Every view, with a session in it.
fn sessions_in_every_view() -> Vec<Session> {
    let mut out = Vec::new();
    for setup in [
        "",
        "system-view",
        "system-view\ninterface x1",
        "system-view\nmonitor-group m1",
        "system-view\nbfd s1 bind peer-ip 10.0.0.2",
        "system-view\npim",
    ] {
        let mut s = session();
        run(&mut s, setup);
        out.push(s);
    }
    out
}

#[test]
fn very_long_lines() {
    for mut s in sessions_in_every_view() {
        let before = s.candidate().clone();
        let word = "x".repeat(200_000);
        assert_eq!(error(&mut s, &word), (ErrorKind::Unrecognized, Some(0)));
        let many = "vrrp ".repeat(50_000);
        assert!(matches!(s.line(&many), Outcome::Error(_)));
        let deep = format!("display current-configuration {}", "this ".repeat(50_000));
        assert!(matches!(s.line(&deep), Outcome::Error(_)));
        assert_eq!(s.candidate(), &before);
    }
    // A long value that fits its leaf is taken (descriptions have no length limit).
    let mut s = session();
    run(&mut s, "system-view\ninterface x1");
    let text = "d".repeat(100_000);
    run(&mut s, &format!("description {text}"));
    assert!(display(s.candidate()).contains(&text));
    // One that does not is refused where it starts.
    assert_eq!(
        error(
            &mut s,
            &format!("vrrp vrid 1 virtual-ip {}", "1".repeat(100_000))
        ),
        (ErrorKind::WrongParameter, Some(23))
    );
}

#[test]
fn control_characters() {
    for c in (0u8..0x20).chain([0x7f]).map(char::from) {
        for mut s in sessions_in_every_view() {
            let before = s.candidate().clone();
            let view = s.view().clone();
            for line in [
                format!("{c}"),
                format!("sysname a{c}b"),
                format!("interface x{c}"),
                format!("description a{c}b"),
                format!("monitor-group {c}"),
                format!("vrrp vrid 1{c} virtual-ip 10.0.0.6"),
                format!("\"{c}\""),
                format!("display{c}this"),
            ] {
                let o = s.line(&line);
                // Tabs separate words; a line may end with CR LF. Anything else is refused.
                if c != '\t' && c != '\r' && c != '\n' {
                    assert!(matches!(o, Outcome::Error(_)), "{line:?} gave {o:?}");
                }
            }
            if c != '\t' && c != '\r' && c != '\n' {
                assert_eq!(s.candidate(), &before, "{c:?}");
                assert_eq!(s.view(), &view);
            }
            // Nothing that reaches the candidate holds a control character.
            let text = display(s.candidate());
            assert!(
                !text.chars().any(|ch| ch.is_control() && ch != '\n'),
                "{text:?}"
            );
        }
    }
    // Terminal escapes, as a client sends for the arrow keys.
    let mut s = session();
    assert_eq!(
        error(&mut s, "\u{1b}[A"),
        (ErrorKind::Unrecognized, Some(0))
    );
    // CR LF and tabs are fine.
    run(&mut s, "system-view\r\n");
    run(&mut s, "interface\tx1\r");
    assert_eq!(s.view(), &View::Interface("x1".into()));
}

/// 2,000 monitoring groups: 10,000 lines, then the commit. Parsing is linear in the line and
/// each edit copies only the path to what it changes, so this is quick (the time is printed,
/// not asserted).
#[test]
fn ten_thousand_lines() {
    let mut script = String::from("system-view\n");
    for i in 0..2000 {
        let _ = write!(
            script,
            "monitor-group g{i}\n monitor enable\n binding interface x{}\n binding interface y down-weight 5\n quit\n",
            i % 7
        );
    }
    script.push_str("commit comment 2000 groups\n");
    assert_eq!(script.lines().count(), 10_002);
    let mut s = session();
    let started = Instant::now();
    let outcomes = run(&mut s, &script);
    eprintln!("10,002 lines in {:?}", started.elapsed());
    assert_eq!(
        outcomes.last(),
        Some(&Outcome::Commit {
            comment: Some("2000 groups".into())
        })
    );
    let text = display(s.candidate());
    assert_eq!(text.matches("\nmonitor-group g").count(), 2000);
    assert_eq!(
        text.matches(" binding interface y down-weight 5\n").count(),
        2000
    );

    // And 10,000 lines of rubbish: each refused, nothing changed.
    let mut s = session();
    run(&mut s, "system-view\ninterface x1");
    let before = s.candidate().clone();
    let started = Instant::now();
    for i in 0..10_000 {
        let line = format!("vrrp vrid {} priority {}", i % 300, 255 + i);
        assert!(matches!(s.line(&line), Outcome::Error(_)));
    }
    eprintln!("10,000 refused lines in {:?}", started.elapsed());
    assert_eq!(s.candidate(), &before);
}

proptest! {
    /// Arbitrary text in any view: an outcome, never a panic; errors point into the line.
    #[test]
    fn arbitrary_lines(lines in prop::collection::vec(any::<String>(), 1..20), view in 0usize..6) {
        let mut s = sessions_in_every_view().swap_remove(view);
        for line in &lines {
            if let Outcome::Error(e) = s.line(line) {
                if let Some(c) = e.column {
                    prop_assert!(c <= line.chars().count() + 1, "{line:?} {c}");
                }
            }
            let _ = s.prompt();
        }
    }

    /// Words of the command table in any order: the same.
    #[test]
    fn scrambled_commands(words in prop::collection::vec(prop::sample::select(vec![
        "undo", "vrrp", "vrid", "1", "300", "virtual-ip", "10.0.0.6", "track", "bfd-session",
        "session-name", "monitor-group", "failure-ratio", "100", "link", "reduced", "increased",
        "interface", "x1", "pim", "igmp", "sm", "ignore", "dr-state", "multicast", "admin-vrrp",
        "quit", "return", "display", "this", "commit", "comment", "bfd", "bind", "peer-ip",
        "discriminator", "local", "remote", "system-view", "static-rp", "\"a b\"", "#", "d",
    ]), 0..12), view in 0usize..6) {
        let mut s = sessions_in_every_view().swap_remove(view);
        let line = words.join(" ");
        let _ = s.line(&line);
        let _ = s.prompt();
        let _ = display(s.candidate());
    }
}
