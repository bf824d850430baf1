//! Displays of what a CLI session does not hold, rendered from the data trees `<get>` reads:
//! the commit history (`ne-system:commit-history`) and the configuration merged with the
//! engines' state. Columns follow VRP's displays where the data exists.

use yang::data::{DataNode, DataTree};
use yang::schema::Schema;

use super::commands::{MG, NSYS};
use super::nav::Nav;

mod bfd;
mod bsr;
mod interface;
mod multicast;
mod vrrp;

pub use bfd::{bfd_sessions, bfd_verbose};
pub use bsr::{bsr_info, rp_info};
pub use interface::interface_brief;
pub use multicast::{
    igmp_groups, igmp_interfaces, multicast_routes, pim_interfaces, pim_neighbors, pim_routes,
};
pub use vrrp::{vrrp_brief, vrrp_verbose};

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

/// A duration in seconds as VRP shows uptimes and expiry times: `00:02:04`, `3d05h` past a day.
fn duration(secs: Option<&str>) -> String {
    let Some(s) = secs.and_then(|s| s.parse::<u64>().ok()) else {
        return "-".into();
    };
    if s >= 86_400 {
        format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600)
    } else {
        format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
    }
}

/// The interfaces of the tree, in name order.
fn interfaces<'t>(nav: &Nav<'_>, tree: &'t DataTree) -> Vec<&'t DataNode> {
    use super::commands::IF;
    nav.top(tree, IF, "interfaces")
        .map(|i| {
            nav.entries(i, IF, "interface")
                .iter()
                .map(|e| &**e)
                .collect()
        })
        .unwrap_or_default()
}

/// RFC 3339 as VRP shows times: `2026-12-07 09:23:58` (UTC, whole seconds).
fn time(rfc3339: &str) -> String {
    let t = rfc3339.replacen('T', " ", 1);
    let t = t.split('.').next().unwrap_or(&t);
    t.trim_end_matches('Z').to_string()
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
