//! Displays of what a CLI session does not hold, rendered from the data trees `<get>` reads:
//! the commit history (`ne-system:commit-history`) and the configuration merged with the
//! engines' state. Columns follow VRP's displays where the data exists.

use yang::data::{DataNode, DataTree};
use yang::schema::Schema;

use super::commands::{BFD, IF, MG, NSYS, VRRP};
use super::nav::Nav;

const RULE: &str =
    "--------------------------------------------------------------------------------\n";

/// `display configuration commit list`: newest first.
pub fn commit_list(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let commits: Vec<&DataNode> = nav
        .top(tree, NSYS, "commit-history")
        .map(|h| {
            nav.entries(h, NSYS, "commit")
                .iter()
                .map(|c| &**c)
                .collect()
        })
        .unwrap_or_default();
    let mut out = format!("Total commit records: {}\n{RULE}", commits.len());
    out.push_str(&format!(
        "{:<6}{:<10}{:<16}{:<22}{}\n{RULE}",
        "No.", "CommitId", "User", "Time", "Comment"
    ));
    for (n, c) in commits.iter().rev().enumerate() {
        let v = |name| nav.value(c, NSYS, name).unwrap_or("-");
        out.push_str(&format!(
            "{:<6}{:<10}{:<16}{:<22}{}\n",
            n + 1,
            v("id"),
            v("user"),
            time(v("time")),
            v("comment"),
        ));
    }
    if !commits.is_empty() {
        out.push_str(RULE);
    }
    out
}

/// RFC 3339 as VRP shows times: `2026-12-07 09:23:58` (UTC, whole seconds).
fn time(rfc3339: &str) -> String {
    let t = rfc3339.replacen('T', " ", 1);
    let t = t.split('.').next().unwrap_or(&t);
    t.trim_end_matches('Z').to_string()
}

/// `display vrrp brief`: every VRRP group, its state (`Initialize` where the engines report
/// none) and its virtual addresses.
pub fn vrrp_brief(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let mut rows = Vec::new();
    let (mut master, mut backup, mut inactive) = (0, 0, 0);
    let interfaces = nav.top(tree, IF, "interfaces");
    for i in interfaces
        .map(|i| nav.entries(i, IF, "interface"))
        .unwrap_or_default()
    {
        let name = nav.value(i, IF, "name").unwrap_or("");
        let Some(v) = nav.child(i, VRRP, "vrrp") else {
            continue;
        };
        for g in nav.entries(v, VRRP, "group") {
            let state = match nav.value(g, VRRP, "state") {
                Some("master") => {
                    master += 1;
                    "Master"
                }
                Some("backup") => {
                    backup += 1;
                    "Backup"
                }
                _ => {
                    inactive += 1;
                    "Initialize"
                }
            };
            let kind = if nav.child(g, VRRP, "admin-vrrp").is_some() {
                "Admin"
            } else {
                "Normal"
            };
            let vips: Vec<&str> = nav
                .entries(g, VRRP, "virtual-ip")
                .iter()
                .filter_map(|a| nav.value(a, VRRP, "address"))
                .collect();
            rows.push(format!(
                "{:<6}{:<13}{:<25}{:<9}{}\n",
                nav.value(g, VRRP, "vrid").unwrap_or(""),
                state,
                name,
                kind,
                vips.first().copied().unwrap_or("-")
            ));
            for more in vips.iter().skip(1) {
                rows.push(format!("{:53}{more}\n", ""));
            }
        }
    }
    let mut out = format!(
        "Total:{:<6}Master:{:<6}Backup:{:<6}Non-active:{}\n",
        master + backup + inactive,
        master,
        backup,
        inactive
    );
    out.push_str(&format!(
        "{:<6}{:<13}{:<25}{:<9}{}\n{RULE}",
        "VRID", "State", "Interface", "Type", "Virtual IP"
    ));
    out.extend(rows);
    out
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
    let sessions = nav
        .top(tree, BFD, "bfd")
        .map(|b| nav.entries(b, BFD, "session"))
        .unwrap_or_default();
    for s in sessions {
        let state = match nav.value(s, BFD, "state") {
            Some("up") => "Up",
            Some("init") => "Init",
            Some("admin-down") => "AdminDown",
            _ => "Down",
        };
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
    out.push_str(&format!(
        "     Total UP/DOWN Session Number : {up}/{down}\n"
    ));
    out
}

/// `display monitor-group [NAME]`: each interface monitor group (or the one named) with its
/// state, failure ratio, the interfaces down, and its bindings with their down-weights.
pub fn monitor_groups(schema: &Schema, tree: &DataTree, only: Option<&str>) -> String {
    let nav = Nav::new(schema);
    let groups: Vec<&DataNode> = nav
        .top(tree, MG, "monitor-groups")
        .map(|m| {
            nav.entries(m, MG, "monitor-group")
                .iter()
                .map(|g| &**g)
                .collect()
        })
        .unwrap_or_default();
    let mut out = String::new();
    let mut shown = 0;
    for g in groups {
        let name = nav.value(g, MG, "name").unwrap_or("");
        if only.is_some_and(|o| o != name) {
            continue;
        }
        shown += 1;
        let enabled = nav.value(g, MG, "enabled") == Some("true");
        out.push_str(&format!("Monitor group : {name}\n"));
        out.push_str(&format!(
            "  State            : {}\n",
            if enabled { "enabled" } else { "disabled" }
        ));
        out.push_str(&format!(
            "  Failure ratio    : {}%\n",
            nav.value(g, MG, "failure-ratio").unwrap_or("0")
        ));
        out.push_str(&format!(
            "  Down interfaces  : {}\n",
            nav.value(g, MG, "down-interfaces").unwrap_or("0")
        ));
        let bindings = nav.entries(g, MG, "binding-interface");
        out.push_str(&format!("  Bindings         : {}\n", bindings.len()));
        for b in bindings {
            out.push_str(&format!(
                "    {:<24}down-weight {}\n",
                nav.value(b, MG, "name").unwrap_or(""),
                nav.value(b, MG, "down-weight").unwrap_or("-")
            ));
        }
    }
    if let (Some(name), 0) = (only, shown) {
        return format!("Info: The monitor group {name} does not exist.\n");
    }
    if shown == 0 {
        out.push_str("Info: No monitor group is configured.\n");
    }
    out
}
