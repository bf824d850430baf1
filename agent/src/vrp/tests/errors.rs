//! Every error VRP prints, with the caret under the word it is about, and abbreviations.

use super::*;
use crate::vrp::View;
use ErrorKind::*;

fn system() -> Session {
    let mut s = session();
    run(&mut s, "system-view");
    s
}

fn in_interface() -> Session {
    let mut s = system();
    run(&mut s, "interface a-ic");
    s
}

#[test]
fn unrecognized_command() {
    let mut s = session();
    // The user view has no configuration commands.
    assert_eq!(error(&mut s, "interface a-ic"), (Unrecognized, Some(0)));
    let mut s = system();
    assert_eq!(error(&mut s, "sysnaem x"), (Unrecognized, Some(0)));
    assert_eq!(error(&mut s, "   sysnaem x"), (Unrecognized, Some(3)));
    assert_eq!(
        error(&mut s, "multicast routeing"),
        (Unrecognized, Some(10))
    );
    assert_eq!(error(&mut s, "undo sysnaem"), (Unrecognized, Some(5)));
    let mut s = in_interface();
    let before = s.candidate().clone();
    assert_eq!(
        error(&mut s, "vrrp vrid 1 prority 3"),
        (Unrecognized, Some(12))
    );
    assert_eq!(
        error(&mut s, "pim ignore dr-stat3"),
        (Unrecognized, Some(11))
    );
    // Nothing changed, and the view is where it was.
    assert_eq!(s.candidate(), &before);
    assert_eq!(s.view(), &View::Interface("a-ic".into()));
}

#[test]
fn incomplete_command() {
    let mut s = system();
    assert_eq!(error(&mut s, "interface"), (Incomplete, Some(10)));
    assert_eq!(error(&mut s, "interface "), (Incomplete, Some(10)));
    assert_eq!(
        error(&mut s, "bfd to-b bind peer-ip"),
        (Incomplete, Some(22))
    );
    // A session that does not exist yet needs its binding.
    assert_eq!(error(&mut s, "bfd to-b"), (Incomplete, Some(9)));
    let mut s = in_interface();
    let before = s.candidate().clone();
    assert_eq!(error(&mut s, "vrrp vrid 1"), (Incomplete, Some(12)));
    assert_eq!(
        error(&mut s, "vrrp vrid 1 track monitor-group uplinks"),
        (Incomplete, Some(40))
    );
    assert_eq!(error(&mut s, "ip address 10.0.0.1"), (Incomplete, Some(20)));
    assert_eq!(s.candidate(), &before);
}

/// Parameters are checked against the range (or pattern, or length) of the YANG leaf they set.
#[test]
fn wrong_parameter() {
    let mut s = system();
    let cases: &[(&str, usize)] = &[
        ("bfd x bind peer-ip 10.0.0.256", 19),
        ("bfd x bind peer-ip 10.0.0.2 interface a/b", 38),
        ("bfd abcdefghijklmnop bind peer-ip 10.0.0.2", 4),
        ("monitor-group abcdefghijklmnopqrstuvwxyz012345", 14),
        ("interface a:b", 10),
        ("sysname bad_name!", 8),
    ];
    for &(line, column) in cases {
        assert_eq!(
            error(&mut s, line),
            (WrongParameter, Some(column)),
            "{line}"
        );
    }
    run(&mut s, "bfd to-b bind peer-ip 10.0.0.2");
    let cases: &[(&str, usize)] = &[
        ("discriminator local 0", 20),
        ("discriminator local 16385", 20),
        ("discriminator remote 4294967296", 21),
        ("min-tx-interval 2", 16),
        ("min-rx-interval 20001", 16),
        ("detect-multiplier 51", 18),
        ("detect-multiplier x", 18),
    ];
    for &(line, column) in cases {
        assert_eq!(
            error(&mut s, line),
            (WrongParameter, Some(column)),
            "{line}"
        );
    }
    run(&mut s, "monitor-group uplinks");
    assert_eq!(
        error(&mut s, "binding interface a-up down-weight 1001"),
        (WrongParameter, Some(35))
    );
    let mut s = in_interface();
    let before = s.candidate().clone();
    let cases: &[(&str, usize)] = &[
        ("vrrp vrid 256 priority 3", 10),
        ("vrrp vrid 0 priority 3", 10),
        ("vrrp vrid 1 priority 255", 21),
        ("vrrp vrid 1 priority 0", 21),
        ("vrrp vrid 1 virtual-ip 10.0.0", 23),
        ("vrrp vrid 1 preempt-mode timer delay 3601", 37),
        ("vrrp vrid 1 timer advertise 41", 28),
        ("vrrp vrid 1 timer advertise millisecond 5", 40),
        ("vrrp vrid 1 timer advertise millisecond 105", 40),
        ("vrrp vrid 1 version 4", 20),
        ("vrrp vrid 1 checksum-mode none", 26),
        ("vrrp vrid 1 track monitor-group m failure-ratio 0", 48),
        (
            "vrrp vrid 1 track monitor-group m failure-ratio 100 reduced 255",
            60,
        ),
        (
            "vrrp vrid 1 track bfd-session session-name s increased 0",
            55,
        ),
        ("ip address 10.0.0.1 255.0.255.0", 20),
        ("ip address 10.0.0.1 33", 20),
        ("pim timer hello 0", 16),
        ("pim hello-option dr-priority 4294967296", 29),
        ("igmp version 1", 13),
        ("igmp timer query 18001", 17),
        ("igmp robust-count 8", 18),
        ("multicast track admin-vrrp interface a-ic vrid 0", 47),
    ];
    for &(line, column) in cases {
        assert_eq!(
            error(&mut s, line),
            (WrongParameter, Some(column)),
            "{line}"
        );
    }
    // A BFD session tracked by number must exist: the number is its local discriminator.
    assert_eq!(
        error(&mut s, "vrrp vrid 1 track bfd-session 10"),
        (WrongParameter, Some(30))
    );
    assert_eq!(s.candidate(), &before);
}

#[test]
fn ambiguous_and_too_many() {
    let mut s = system();
    // monitor-group, multicast.
    assert_eq!(error(&mut s, "m x"), (Ambiguous, Some(0)));
    // display, description.
    let mut s = in_interface();
    assert_eq!(error(&mut s, "d"), (Ambiguous, Some(0)));
    assert_eq!(error(&mut s, "pim sm now"), (TooManyParameters, Some(7)));
    assert_eq!(
        error(&mut s, "vrrp vrid 1 virtual-ip 10.0.0.6 10.0.0.7"),
        (TooManyParameters, Some(32))
    );
    assert_eq!(error(&mut s, "quit now"), (TooManyParameters, Some(5)));
}

/// The text as VRP prints it: the caret under the word, counting the prompt before the line.
#[test]
fn rendered_as_vrp_prints_them() {
    let mut s = in_interface();
    let prompt = s.prompt();
    // The new interface is an uncommitted change.
    assert_eq!(prompt, "[*ne-agent-a-ic]");
    let render = |o: Outcome| match o {
        Outcome::Error(e) => e.render(prompt.len()),
        o => panic!("{o:?}"),
    };
    assert_eq!(
        render(s.line("vrrp vrid 1 prority 3")),
        format!(
            "{}^\nError: Unrecognized command found at '^' position.\n",
            " ".repeat(16 + 12)
        )
    );
    assert_eq!(
        render(s.line("vrrp vrid 1")),
        format!(
            "{}^\nError: Incomplete command found at '^' position.\n",
            " ".repeat(16 + 12)
        )
    );
    assert_eq!(
        render(s.line("vrrp vrid 300 priority 1")),
        format!(
            "{}^\nError: Wrong parameter found at '^' position.\n",
            " ".repeat(16 + 10)
        )
    );
    assert_eq!(
        render(s.line("d")),
        format!(
            "{}^\nError: Ambiguous command found at '^' position.\n",
            " ".repeat(16)
        )
    );
    assert_eq!(
        render(s.line("pim sm x")),
        format!(
            "{}^\nError: Too many parameters found at '^' position.\n",
            " ".repeat(16 + 7)
        )
    );
}

#[test]
fn abbreviations() {
    let mut s = session();
    run(&mut s, "sys");
    assert_eq!(s.view(), &View::System);
    run(&mut s, "int a-ic");
    run(&mut s, "vr vr 1 vi 10.0.0.6");
    run(&mut s, "VRRP VRID 1 PRI 120");
    run(&mut s, "un vr vr 1 pri");
    run(&mut s, "vr vr 1 pre t d 5");
    run(&mut s, "dis th");
    run(&mut s, "q");
    assert_eq!(s.view(), &View::System);
    run(&mut s, "monitor-g m");
    assert_eq!(s.view(), &View::MonitorGroup("m".into()));
    run(&mut s, "ret");
    assert_eq!(s.view(), &View::User);
    // The candidate has both; display current-configuration would show the running one.
    run(&mut s, "sys");
    match s.line("dis configuration candidate merge") {
        Outcome::Output(text) => assert_eq!(
            text,
            "#
monitor-group m
#
interface a-ic
 vrrp vrid 1 virtual-ip 10.0.0.6
 vrrp vrid 1 preempt-mode timer delay 5
#
return
"
        ),
        o => panic!("{o:?}"),
    }
}

/// A command of the system view typed in a sub-view runs in the system view, as on VRP.
#[test]
fn system_commands_from_sub_views() {
    let mut s = in_interface();
    run(&mut s, "bfd to-b bind peer-ip 10.0.0.2");
    assert_eq!(s.view(), &View::BfdSession("to-b".into()));
    run(&mut s, "interface a-dn");
    assert_eq!(s.view(), &View::Interface("a-dn".into()));
    run(&mut s, "multicast routing-enable");
    assert_eq!(s.view(), &View::System);
    run(&mut s, "interface a-dn");
    // `pim` alone is the PIM view (the interface view has only `pim sm` and the like).
    run(&mut s, "pim");
    assert_eq!(s.view(), &View::Pim);
    // A command of the system view that fails leaves the session in its view.
    run(&mut s, "interface a-dn");
    assert_eq!(error(&mut s, "bfd nosuch"), (Incomplete, Some(11)));
    assert_eq!(s.view(), &View::Interface("a-dn".into()));
    run(&mut s, "pim");
    // Comments change nothing.
    run(&mut s, "# a comment");
    run(&mut s, "!another");
    assert_eq!(s.view(), &View::Pim);
}
