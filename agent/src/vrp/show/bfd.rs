//! `display bfd session all [verbose]`: the BFD sessions of running with the engines' state.

use yang::data::{DataNode, DataTree};
use yang::schema::Schema;

use super::super::commands::BFD;
use super::super::nav::Nav;
use super::{time, RULE};

fn sessions<'t>(nav: &Nav<'_>, tree: &'t DataTree) -> Vec<&'t DataNode> {
    nav.top(tree, BFD, "bfd")
        .map(|b| {
            nav.entries(b, BFD, "session")
                .iter()
                .map(|s| &**s)
                .collect()
        })
        .unwrap_or_default()
}

/// A session state in VRP's words (`Down` where the engines report none).
fn state(value: Option<&str>) -> &'static str {
    match value {
        Some("up") => "Up",
        Some("init") => "Init",
        Some("admin-down") => "AdminDown",
        _ => "Down",
    }
}

fn totals(up: usize, down: usize) -> String {
    format!("     Total UP/DOWN Session Number : {up}/{down}\n")
}

/// `display bfd session all`: every BFD session with its discriminators, peer, state and
/// type (`S_IP_IF` single-hop on an interface, `S_IP_PEER` multi-hop).
pub fn bfd_sessions(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let mut out = format!(
        "{RULE}{:<6}{:<11}{:<16}{:<10}{:<12}{}\n{RULE}",
        "Local", "Remote", "PeerIpAddr", "State", "Type", "InterfaceName"
    );
    let (mut up, mut down) = (0, 0);
    for s in sessions(&nav, tree) {
        let state = state(nav.value(s, BFD, "state"));
        if state == "Up" {
            up += 1;
        } else {
            down += 1;
        }
        let interface = nav.value(s, BFD, "interface");
        out.push_str(&format!(
            "{:<6}{:<11}{:<16}{:<10}{:<12}{}\n",
            nav.value(s, BFD, "local-discriminator").unwrap_or("-"),
            nav.value(s, BFD, "remote-discriminator").unwrap_or("-"),
            nav.value(s, BFD, "peer-ip").unwrap_or("-"),
            state,
            if interface.is_some() {
                "S_IP_IF"
            } else {
                "S_IP_PEER"
            },
            interface.unwrap_or("-"),
        ));
    }
    out.push_str(RULE);
    out.push_str(&totals(up, down));
    out
}

/// `display bfd session all verbose`: each session's binding, timers as configured and as
/// negotiated, detection time, diagnostic and counters, in VRP's two-column layout.
pub fn bfd_verbose(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let mut out = String::new();
    let (mut up, mut down) = (0, 0);
    for s in sessions(&nav, tree) {
        let v = |leaf| nav.value(s, BFD, leaf).unwrap_or("-");
        let st = state(nav.value(s, BFD, "state"));
        if st == "Up" {
            up += 1;
        } else {
            down += 1;
        }
        let interface = nav.value(s, BFD, "interface");
        let hop = if interface.is_some() {
            "(One Hop)"
        } else {
            "(Multi Hop)"
        };
        let pair = |out: &mut String, l: &str, lv: &str, r: &str, rv: &str| {
            out.push_str(&format!("  {l:<23}: {lv:<15}{r:<23}: {rv}\n"));
        };
        let one = |out: &mut String, l: &str, value: &str| {
            out.push_str(&format!("  {l:<23}: {value}\n"));
        };
        out.push_str(RULE);
        out.push_str(&format!(
            "  Session Name : {:<22}{hop} State : {st}\n",
            v("name")
        ));
        out.push_str(RULE);
        pair(
            &mut out,
            "Local Discriminator",
            v("local-discriminator"),
            "Remote Discriminator",
            v("remote-discriminator"),
        );
        one(
            &mut out,
            "BFD Bind Type",
            &match interface {
                Some(i) => format!("Interface({i})"),
                None => "Peer IP Address".into(),
            },
        );
        one(&mut out, "Bind Session Type", "Static");
        one(&mut out, "Bind Peer IP Address", v("peer-ip"));
        one(&mut out, "Bind Interface", interface.unwrap_or("-"));
        one(&mut out, "Bind Source IP Address", v("source-ip"));
        pair(
            &mut out,
            "Min Tx Interval (ms)",
            v("min-tx-interval"),
            "Min Rx Interval (ms)",
            v("min-rx-interval"),
        );
        pair(
            &mut out,
            "Actual Tx Interval (ms)",
            v("actual-tx-interval-ms"),
            "Detect Interval (ms)",
            v("detection-time-ms"),
        );
        pair(
            &mut out,
            "Local Detect Multi",
            v("detect-multiplier"),
            "Remote State",
            state(nav.value(s, BFD, "remote-state")),
        );
        pair(
            &mut out,
            "Admin Down",
            if v("admin-down") == "true" {
                "Yes"
            } else {
                "No"
            },
            "Up Transitions",
            v("up-transitions"),
        );
        one(
            &mut out,
            "Last Local Diagnostic",
            &diagnostic(v("local-diagnostic")),
        );
        let changed = nav.value(s, BFD, "last-state-change").map(time);
        one(
            &mut out,
            "Last State Change",
            changed.as_deref().unwrap_or("-"),
        );
        if let Some(st) = nav.child(s, BFD, "statistics") {
            let c = |leaf| nav.value(st, BFD, leaf).unwrap_or("0");
            pair(
                &mut out,
                "Packets Sent",
                c("tx-packets"),
                "Packets Received",
                c("rx-packets"),
            );
            pair(
                &mut out,
                "Send Errors",
                c("tx-errors"),
                "Received Discarded",
                c("rx-discarded"),
            );
        }
        if let Some(e) = nav.value(s, BFD, "last-tx-error") {
            one(&mut out, "Last Send Error", e);
        }
    }
    out.push_str(RULE);
    out.push_str(&totals(up, down));
    out
}

/// RFC 5880's diagnostic codes in VRP's words.
fn diagnostic(d: &str) -> String {
    match d {
        "none" | "-" => "No Diagnostic".into(),
        "control-expiry" => "Control Detection Time Expired".into(),
        "echo-failed" => "Echo Function Failed".into(),
        "neighbor-down" => "Neighbor Signaled Session Down".into(),
        "forwarding-reset" => "Forwarding Plane Reset".into(),
        "path-down" => "Path Down".into(),
        "concatenated-path-down" => "Concatenated Path Down".into(),
        "admin-down" => "Administratively Down".into(),
        "reverse-concatenated-path-down" => "Reverse Concatenated Path Down".into(),
        other => other.to_string(),
    }
}
