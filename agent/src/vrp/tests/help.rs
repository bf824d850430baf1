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
