//! `?` help and Tab completion from the command table.

use proptest::prelude::*;

use super::*;

#[test]
fn help_lists_what_may_come_next() {
    let mut s = session();
    let top = s.help("");
    for k in ["system-view", "display", "quit"] {
        assert!(top.iter().any(|h| h == k), "{k} in {top:?}");
    }
    assert_eq!(s.help("sys"), ["system-view"]);
    let display = s.help("display current-configuration ");
    assert!(display.contains(&"<cr>".to_string()), "{display:?}");
    assert!(display.contains(&"interface".to_string()), "{display:?}");
    assert!(s.help("nonsense ").is_empty());

    run(&mut s, "system-view\ninterface a-ic");
    assert_eq!(s.help("vrrp vrid "), ["<vrid>"]);
    let group = s.help("vrrp vrid 1 ");
    for k in ["virtual-ip", "priority", "track"] {
        assert!(group.iter().any(|h| h == k), "{k} in {group:?}");
    }
    // A parameter that does not fit is not offered.
    assert!(s.help("vrrp vrid 300 ").is_empty());
    // The system view's commands work here, so they are offered too.
    assert!(s.help("").iter().any(|h| h == "monitor-group"));
}

#[test]
fn tab_completes_a_unique_keyword() {
    let mut s = session();
    assert_eq!(s.complete("sys").as_deref(), Some("tem-view "));
    assert_eq!(s.complete("system-view").as_deref(), Some(" "));
    assert_eq!(
        s.complete("sys "),
        None,
        "nothing to complete after a blank"
    );
    run(&mut s, "system-view");
    assert_eq!(
        s.complete("display current-configuration conf").as_deref(),
        Some("iguration ")
    );
    assert_eq!(s.complete("bfd to-b bind peer"), Some("-ip ".into()));
    assert_eq!(s.complete("zzz"), None);
}

proptest! {
    #[test]
    fn help_and_completion_never_panic(text in "\\PC{0,60}", view in 0usize..3) {
        let mut s = session();
        let setup = ["", "system-view", "system-view\ninterface x1"][view];
        run(&mut s, setup);
        let _ = s.help(&text);
        let _ = s.complete(&text);
    }
}

/// `?` explains each candidate: keywords from the command table; parameters with the form,
/// range, description, units and default of their YANG leaf.
#[test]
fn help_explains_with_the_schema() {
    let mut s = session();
    run(&mut s, "system-view\ninterface a-ic");
    let lines = s.help_lines("vrrp vrid ");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].0, "INTEGER<1-255>");
    assert!(
        lines[0].1.to_lowercase().contains("virtual router"),
        "{lines:?}"
    );
    let priority = s.help_lines("vrrp vrid 1 priority ");
    assert_eq!(priority[0].0, "INTEGER<1-254>", "{priority:?}");
    assert!(priority[0].1.ends_with(", default 100"), "{priority:?}");
    // Seconds on the command line, milliseconds in the leaf.
    let seconds = s.help_lines("vrrp vrid 1 timer advertise ");
    let seconds: Vec<_> = seconds
        .iter()
        .filter(|(f, _)| f.starts_with("INTEGER"))
        .collect();
    assert_eq!(seconds[0].0, "INTEGER<1-40>", "{seconds:?}");
    assert!(seconds[0].1.contains("(seconds), default 1"), "{seconds:?}");
    let ms = s.help_lines("vrrp vrid 1 timer advertise millisecond ");
    assert!(ms[0].0.ends_with("(steps of 10)"), "{ms:?}");
    assert!(ms[0].1.contains("(milliseconds), default 1000"), "{ms:?}");
    let mask = s.help_lines("ip address 10.0.0.1 ");
    assert_eq!(mask[0].0, "INTEGER<0-32>|X.X.X.X", "{mask:?}");
    assert_eq!(s.help_lines("ip address ")[0].0, "X.X.X.X");
    let group = s.help_lines("vrrp vrid 1 ");
    let track = group.iter().find(|(k, _)| k == "track").unwrap();
    assert_eq!(track.1, "Track an object");
    // An enumeration lists its values; a command ends with <cr>.
    let mode = s.help_lines("vrrp vrid 1 checksum-mode ");
    assert_eq!(mode[0].0, "{include-pseudo-header|exclude-pseudo-header}");
    assert!(s
        .help_lines("pim sm ")
        .iter()
        .any(|(k, t)| k == "<cr>" && t.is_empty()));
    run(&mut s, "quit\nmonitor-group m1");
    let weight = s.help_lines("binding interface a-up down-weight ");
    assert_eq!(weight[0].0, "INTEGER<1-1000>", "{weight:?}");
    assert!(weight[0].1.ends_with("default 10"), "{weight:?}");
    let name = s.help_lines("binding interface ");
    assert!(name[0].0.starts_with("STRING<1-"), "{name:?}");
}
