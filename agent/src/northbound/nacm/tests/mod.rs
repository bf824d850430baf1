//! The evaluator against RFC 8341's rules, with the Appendix A example as the main fixture.

use super::*;

const NACM: &str = "ietf-netconf-acm";
const NC: &str = "ietf-netconf";
const NCM: &str = "ietf-netconf-monitoring";
const ACME_IF: &str = "acme-interfaces";
const ACME_NC: &str = "acme-netconf";
const ACME_SYS: &str = "acme-system";

/// Module names resolve to themselves; a few prefixes to their modules.
fn resolve(p: &str) -> Option<String> {
    let module = match p {
        "nacm" | "n" => NACM,
        "if" => "ietf-interfaces",
        "acme" => ACME_IF,
        "vrrp" => "ne-vrrp",
        m if m.contains('-') => m,
        _ => return None,
    };
    Some(module.to_string())
}

fn path(text: &str) -> Target {
    Target::Path(NodePath::parse(text, &resolve).expect("fixture path compiles"))
}

fn rule(name: &str, module: &str, target: Target, access: &str, action: Action) -> Rule {
    Rule {
        name: name.into(),
        module_name: module.into(),
        target,
        access: AccessSet::parse(access).expect("fixture access"),
        action,
        comment: None,
    }
}

fn rule_list(name: &str, groups: &[&str], rules: Vec<Rule>) -> RuleList {
    RuleList {
        name: name.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        rules,
    }
}

fn group(name: &str, users: &[&str]) -> Group {
    Group {
        name: name.into(),
        users: users.iter().map(|u| u.to_string()).collect(),
    }
}

fn seg<'a>(module: &'a str, name: &'a str) -> Segment<'a> {
    Segment {
        module,
        name,
        keys: &[],
    }
}

fn entry<'a>(module: &'a str, name: &'a str, keys: &'a [(&'a str, &'a str)]) -> Segment<'a> {
    Segment { module, name, keys }
}

use Action::{Deny, Permit};
use Operation::{Create, Delete, Exec, Read, Update};

/// A configuration with one group `g` holding user `u` and these rules.
fn rules(list: Vec<Rule>) -> Nacm {
    Nacm {
        groups: vec![group("g", &["u"])],
        rule_lists: vec![rule_list("l", &["g"], list)],
        ..Nacm::default()
    }
}

/// The noc user of the examples in the messages.
fn noc() -> Nacm {
    Nacm {
        groups: vec![group("noc", &["noc"])],
        rule_lists: vec![rule_list(
            "noc-rules",
            &["noc"],
            vec![rule(
                "deny-vrrp",
                "*",
                path("/ne-vrrp:vrrp"),
                "update delete",
                Deny,
            )],
        )],
        exec_default: Deny,
        read_default: Deny,
        ..Nacm::default()
    }
}

/// RFC 8341 Appendix A: the groups of A.1 and the rules of A.2 (module), A.3 (protocol
/// operation), A.4 (data node) and A.5 (notification) in one configuration. The protocol
/// operation rule-list of the limited and guest groups comes first so that its denials are
/// reached before the limited group's `permit-exec`.
fn appendix_a() -> Nacm {
    Nacm {
        groups: vec![
            group("admin", &["admin", "andy"]),
            group("limited", &["wilma", "bam-bam"]),
            group("guest", &["guest", "guest@example.com"]),
        ],
        rule_lists: vec![
            rule_list(
                "guest-limited-acl",
                &["limited", "guest"],
                vec![
                    rule(
                        "deny-kill-session",
                        NC,
                        Target::Rpc("kill-session".into()),
                        "exec",
                        Deny,
                    ),
                    rule(
                        "deny-delete-config",
                        NC,
                        Target::Rpc("delete-config".into()),
                        "exec",
                        Deny,
                    ),
                    rule(
                        "permit-dummy-interface",
                        "*",
                        path("/acme:interfaces/acme:interface[acme:name='dummy']"),
                        "read update",
                        Permit,
                    ),
                ],
            ),
            rule_list(
                "guest-acl",
                &["guest"],
                vec![
                    rule("deny-ncm", NCM, Target::Any, "*", Deny),
                    rule("deny-nacm", "*", path("/n:nacm"), "*", Deny),
                ],
            ),
            rule_list(
                "limited-acl",
                &["limited"],
                vec![
                    rule("permit-ncm", NCM, Target::Any, "read", Permit),
                    rule("permit-exec", "*", Target::Any, "exec", Permit),
                    rule(
                        "permit-edit-config",
                        NC,
                        Target::Rpc("edit-config".into()),
                        "exec",
                        Permit,
                    ),
                    rule(
                        "permit-acme-config",
                        "*",
                        path("/acme-netconf:acme-netconf/config-parameters"),
                        "read create update delete",
                        Permit,
                    ),
                ],
            ),
            rule_list(
                "admin-acl",
                &["admin"],
                vec![
                    rule("permit-all", "*", Target::Any, "*", Permit),
                    rule(
                        "permit-interface",
                        "*",
                        path("/acme:interfaces/acme:interface"),
                        "*",
                        Permit,
                    ),
                ],
            ),
            rule_list(
                "sys-acl",
                &["limited", "guest"],
                vec![rule(
                    "deny-config-change",
                    ACME_SYS,
                    Target::Notification("sys-config-change".into()),
                    "read",
                    Deny,
                )],
            ),
        ],
        ..Nacm::default()
    }
}

fn by_rule<'a>(rule_list: &'a str, rule: &'a str) -> By<'a> {
    By::Rule { rule_list, rule }
}

// Data paths of the fixture.
const DUMMY: &[(&str, &str)] = &[("name", "dummy")];
const ETH0: &[(&str, &str)] = &[("name", "eth0")];

fn interface(keys: &'static [(&'static str, &'static str)]) -> [Segment<'static>; 2] {
    [
        seg(ACME_IF, "interfaces"),
        entry(ACME_IF, "interface", keys),
    ]
}

fn nacm_node() -> [Segment<'static>; 1] {
    [seg(NACM, "nacm")]
}

fn acme_config() -> [Segment<'static>; 3] {
    [
        seg(ACME_NC, "acme-netconf"),
        seg(ACME_NC, "config-parameters"),
        seg(ACME_NC, "max-sessions"),
    ]
}

fn ncm_sessions() -> [Segment<'static>; 2] {
    [seg(NCM, "netconf-state"), seg(NCM, "sessions")]
}

mod appendix_a;
mod defaults;
mod matching;
mod messages;
mod paths;
mod tree;
