//! The multicast displays: `display igmp group [verbose]`, `display igmp interface [IF]`,
//! `display pim neighbor`, `display pim interface`, `display pim routing-table` and `display
//! multicast routing-table`, from running with the multicast engine's state (ne-multicast).
//! The agent has one routing instance, VRP's public network.

use std::collections::BTreeMap;

use yang::data::{DataNode, DataTree};
use yang::schema::Schema;

use super::super::commands::{IF, MC};
use super::super::nav::Nav;
use super::{duration, interfaces};

const PUBLIC: &str = "VPN-Instance: public net";
const ANY: &str = "0.0.0.0";

/// An interface with its first IPv4 address, as VRP heads an interface's block: `a-dn(192.168.1.1)`.
fn headed(nav: &Nav<'_>, i: &DataNode) -> String {
    let name = nav.value(i, IF, "name").unwrap_or("");
    let ip = nav
        .child(i, IF, "ipv4")
        .and_then(|v4| nav.entries(v4, IF, "address").first())
        .and_then(|a| nav.value(a, IF, "ip"))
        .unwrap_or("0.0.0.0");
    format!("{name}({ip})")
}

/// The interfaces with IGMP enabled, each with its `igmp` container.
fn igmp_interfaces_of<'t>(nav: &Nav<'_>, tree: &'t DataTree) -> Vec<(&'t DataNode, &'t DataNode)> {
    interfaces(nav, tree)
        .into_iter()
        .filter_map(|i| {
            let igmp = nav.child(i, MC, "igmp")?;
            (nav.value(igmp, MC, "enabled") == Some("true")).then_some((i, igmp))
        })
        .collect()
}

/// The interfaces with PIM-SM enabled, each with its `pim` container.
fn pim_interfaces_of<'t>(nav: &Nav<'_>, tree: &'t DataTree) -> Vec<(&'t DataNode, &'t DataNode)> {
    interfaces(nav, tree)
        .into_iter()
        .filter_map(|i| {
            let pim = nav.child(i, MC, "pim")?;
            (nav.value(pim, MC, "sm") == Some("true")).then_some((i, pim))
        })
        .collect()
}

/// `display igmp group [verbose]`: the groups each IGMP interface learned from reports.
pub fn igmp_groups(schema: &Schema, tree: &DataTree, verbose: bool) -> String {
    let nav = Nav::new(schema);
    let mut out = format!("Interface group report information of {PUBLIC}\n");
    for (i, igmp) in igmp_interfaces_of(&nav, tree) {
        let groups = nav.entries(igmp, MC, "group");
        if groups.is_empty() {
            continue;
        }
        out.push_str(&format!(" {}:\n", headed(&nav, i)));
        out.push_str(&format!("  Total {} IGMP Group reported\n", groups.len()));
        if !verbose {
            out.push_str(&format!(
                "   {:<16}{:<16}{}\n",
                "Group Address", "Last Reporter", "Expires"
            ));
        }
        for g in groups {
            let v = |leaf| nav.value(g, MC, leaf).unwrap_or("-");
            if !verbose {
                out.push_str(&format!(
                    "   {:<16}{:<16}{}\n",
                    v("address"),
                    v("last-reporter"),
                    duration(nav.value(g, MC, "expires"))
                ));
                continue;
            }
            out.push_str(&format!("   Group: {}\n", v("address")));
            out.push_str(&format!(
                "     Expires: {}\n",
                duration(nav.value(g, MC, "expires"))
            ));
            out.push_str(&format!("     Last reporter: {}\n", v("last-reporter")));
            out.push_str(&format!("     Group mode: {}\n", v("filter-mode")));
            let sources = nav.entries(g, MC, "source");
            if !sources.is_empty() {
                out.push_str("     Source list:\n");
            }
            for s in sources {
                out.push_str(&format!(
                    "       Source: {:<16}Expires: {}\n",
                    nav.value(s, MC, "address").unwrap_or("-"),
                    duration(nav.value(s, MC, "expires"))
                ));
            }
        }
    }
    out
}

/// `display igmp interface [IF]`: each IGMP interface's version, timers, querier and groups.
pub fn igmp_interfaces(schema: &Schema, tree: &DataTree, only: Option<&str>) -> String {
    let nav = Nav::new(schema);
    let mut out = format!("Interface information of {PUBLIC}\n");
    let mut shown = 0;
    for (i, igmp) in igmp_interfaces_of(&nav, tree) {
        if only.is_some_and(|o| nav.value(i, IF, "name") != Some(o)) {
            continue;
        }
        shown += 1;
        let v = |leaf| nav.value(igmp, MC, leaf).unwrap_or("-");
        let up = nav.value(i, IF, "oper-status") == Some("up");
        out.push_str(&format!(" {}:\n", headed(&nav, i)));
        out.push_str("   IGMP is enabled\n");
        out.push_str(&format!("   Current IGMP version is {}\n", v("version")));
        out.push_str(&format!(
            "   IGMP state: {}\n",
            if up { "up" } else { "down" }
        ));
        out.push_str(&format!(
            "   Value of query interval for IGMP(in seconds): {} s\n",
            v("query-interval")
        ));
        out.push_str(&format!(
            "   Value of maximum query response time for IGMP(in seconds): {} s\n",
            v("max-response-time")
        ));
        out.push_str(&format!(
            "   Value of robust count for IGMP: {}\n",
            v("robustness")
        ));
        out.push_str(&format!(
            "   Value of last member query interval(in seconds): {} s\n",
            v("last-member-query-interval")
        ));
        let querier = match (
            nav.value(igmp, MC, "querier"),
            nav.value(igmp, MC, "is-querier"),
        ) {
            (Some(q), Some("true")) => format!("{q} (this router)"),
            (Some(q), _) => q.to_string(),
            (None, Some("true")) => "this router".into(),
            (None, _) => "-".into(),
        };
        out.push_str(&format!("   Querier for IGMP: {querier}\n"));
        out.push_str(&format!(
            "   Total {} IGMP Group reported\n",
            nav.entries(igmp, MC, "group").len()
        ));
    }
    if let (Some(name), 0) = (only, shown) {
        return format!("Info: IGMP is not enabled on interface {name}.\n");
    }
    out
}

/// `display pim neighbor`: the PIM neighbors heard on each PIM interface.
pub fn pim_neighbors(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let mut rows = String::new();
    let mut total = 0;
    for (i, pim) in pim_interfaces_of(&nav, tree) {
        let name = nav.value(i, IF, "name").unwrap_or("");
        for n in nav.entries(pim, MC, "neighbor") {
            total += 1;
            rows.push_str(&format!(
                " {:<16}{:<20}{:<9}{:<9}{}\n",
                nav.value(n, MC, "address").unwrap_or("-"),
                name,
                duration(nav.value(n, MC, "uptime")),
                duration(nav.value(n, MC, "expires")),
                nav.value(n, MC, "dr-priority").unwrap_or("-"),
            ));
        }
    }
    let mut out = format!(" {PUBLIC}\n Total Number of Neighbors = {total}\n\n");
    out.push_str(&format!(
        " {:<16}{:<20}{:<9}{:<9}{}\n",
        "Neighbor", "Interface", "Uptime", "Expires", "Dr-Priority"
    ));
    out.push_str(&rows);
    out
}

/// `display pim interface`: each PIM interface's state, neighbor count, hello interval, DR
/// priority and the DR elected (`(local)` when it is this router).
pub fn pim_interfaces(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let mut out = format!(" {PUBLIC}\n");
    out.push_str(&format!(
        " {:<20}{:<6}{:<7}{:<11}{:<11}{}\n",
        "Interface", "State", "NbrCnt", "HelloInt", "DR-Pri", "DR-Address"
    ));
    for (i, pim) in pim_interfaces_of(&nav, tree) {
        let v = |leaf| nav.value(pim, MC, leaf).unwrap_or("-");
        let up = nav.value(i, IF, "oper-status") == Some("up");
        let dr = match (nav.value(pim, MC, "dr-address"), v("is-dr")) {
            (Some(a), "true") => format!("{a} (local)"),
            (Some(a), _) => a.to_string(),
            (None, _) => "-".into(),
        };
        out.push_str(&format!(
            " {:<20}{:<6}{:<7}{:<11}{:<11}{}\n",
            nav.value(i, IF, "name").unwrap_or(""),
            if up { "up" } else { "down" },
            nav.entries(pim, MC, "neighbor").len(),
            v("hello-interval"),
            v("dr-priority"),
            dr,
        ));
    }
    out
}

/// A (source, group) entry: `(*, G)` for the any-source.
fn entry_name(source: &str, group: &str) -> String {
    let source = if source == ANY { "*" } else { source };
    format!("({source}, {group})")
}

/// One route of `multicast/route`.
struct Route<'t> {
    node: &'t DataNode,
}

impl<'t> Route<'t> {
    fn value(&self, nav: &Nav<'_>, leaf: &str) -> Option<&'t str> {
        nav.value(self.node, MC, leaf)
    }

    /// Its outgoing interfaces with their states.
    fn outgoing(&self, nav: &Nav<'_>) -> Vec<(&'t str, &'t str)> {
        nav.entries(self.node, MC, "outgoing-interface")
            .iter()
            .map(|o| {
                (
                    nav.value(o, MC, "name").unwrap_or("-"),
                    nav.value(o, MC, "state").unwrap_or("-"),
                )
            })
            .collect()
    }
}

fn routes<'t>(nav: &Nav<'_>, tree: &'t DataTree) -> Vec<Route<'t>> {
    nav.top(tree, MC, "multicast")
        .map(|m| {
            nav.entries(m, MC, "route")
                .iter()
                .map(|r| Route { node: r })
                .collect()
        })
        .unwrap_or_default()
}

/// `display multicast routing-table`: the forwarding entries, each with its upstream
/// interface and its downstream interfaces with their states (`blocked-by-vrrp` on the
/// mVRRP backup: hot standby) and what it forwarded.
pub fn multicast_routes(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let routes = routes(&nav, tree);
    let mut out = format!(
        "Multicast routing table of {PUBLIC}\n Total {} {}\n",
        routes.len(),
        if routes.len() == 1 {
            "entry"
        } else {
            "entries"
        }
    );
    for (n, r) in routes.iter().enumerate() {
        let v = |leaf| r.value(&nav, leaf).unwrap_or("-");
        out.push_str(&format!(
            "\n {:05}. {}\n",
            n + 1,
            entry_name(v("source"), v("group"))
        ));
        out.push_str(&format!(
            "       Uptime: {}\n",
            duration(r.value(&nav, "uptime"))
        ));
        out.push_str(&format!(
            "       Upstream Interface: {}\n",
            v("incoming-interface")
        ));
        let oifs = r.outgoing(&nav);
        out.push_str(&format!(
            "       List of {} downstream interface{}\n",
            oifs.len(),
            if oifs.len() == 1 { "" } else { "s" }
        ));
        for (k, (name, state)) in oifs.iter().enumerate() {
            out.push_str(&format!("           {}:  {name} ({state})\n", k + 1));
        }
        out.push_str(&format!(
            "       Matched {} packets ({} bytes)\n",
            r.value(&nav, "packets").unwrap_or("0"),
            r.value(&nav, "octets").unwrap_or("0")
        ));
    }
    out
}

/// `display pim routing-table`: the PIM entries, (S, G) and (*, G): the forwarding
/// entries with their upstream (interface and neighbor) and the downstream interfaces that
/// joined them (by IGMP or by a PIM join, with its state and expiry).
pub fn pim_routes(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let rp = nav
        .top(tree, MC, "multicast")
        .and_then(|m| nav.value(m, MC, "rp-address"))
        .unwrap_or("NULL");
    // (source, group) -> the route, and the PIM joins received for it by interface.
    #[derive(Default)]
    struct Entry<'t> {
        route: Option<Route<'t>>,
        joins: Vec<(&'t str, &'t DataNode)>,
    }
    let mut entries: BTreeMap<(&str, &str), Entry> = BTreeMap::new();
    for r in routes(&nav, tree) {
        let key = (
            r.value(&nav, "source").unwrap_or(ANY),
            r.value(&nav, "group").unwrap_or(ANY),
        );
        entries.entry(key).or_default().route = Some(r);
    }
    for (i, pim) in pim_interfaces_of(&nav, tree) {
        let name = nav.value(i, IF, "name").unwrap_or("");
        for j in nav.entries(pim, MC, "join") {
            let key = (
                nav.value(j, MC, "source").unwrap_or(ANY),
                nav.value(j, MC, "group").unwrap_or(ANY),
            );
            entries.entry(key).or_default().joins.push((name, &**j));
        }
    }
    let star = entries.keys().filter(|(s, _)| *s == ANY).count();
    let mut out = format!(
        " {PUBLIC}\n Total {star} (*, G) entry; {} (S, G) entry\n",
        entries.len() - star
    );
    for ((source, group), e) in &entries {
        out.push_str(&format!("\n {}\n", entry_name(source, group)));
        out.push_str(&format!("     RP: {rp}\n"));
        out.push_str("     Protocol: pim-sm\n");
        if let Some(r) = &e.route {
            out.push_str(&format!(
                "     UpTime: {}\n",
                duration(r.value(&nav, "uptime"))
            ));
            out.push_str(&format!(
                "     Upstream interface: {}\n",
                r.value(&nav, "incoming-interface").unwrap_or("NULL")
            ));
            out.push_str(&format!(
                "         Upstream neighbor: {}\n",
                r.value(&nav, "upstream-neighbor").unwrap_or("NULL")
            ));
        } else {
            out.push_str("     Upstream interface: NULL\n");
        }
        let mut downstream: Vec<String> = Vec::new();
        if let Some(r) = &e.route {
            for (name, state) in r.outgoing(&nav) {
                downstream.push(format!("{name}\n             State: {state}"));
            }
        }
        for (name, j) in &e.joins {
            let state = nav.value(j, MC, "state").unwrap_or("join");
            let expires = duration(nav.value(j, MC, "expires"));
            downstream.push(format!(
                "{name}\n             Protocol: pim-sm, {state}, Expires: {expires}"
            ));
        }
        out.push_str("     Downstream interface(s) information:\n");
        out.push_str(&format!(
            "     Total number of downstreams: {}\n",
            downstream.len()
        ));
        for (k, d) in downstream.iter().enumerate() {
            out.push_str(&format!("         {}: {d}\n", k + 1));
        }
    }
    out
}
