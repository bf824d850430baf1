//! `display vrrp brief`, `display vrrp [verbose]` and `display vrrp interface IF [vrid N]`:
//! the VRRP groups of running with the engines' state.

use yang::data::{DataNode, DataTree};
use yang::schema::Schema;

use super::super::commands::{IF, VRRP};
use super::super::nav::Nav;
use super::{interfaces, time, RULE};

/// A group's state in VRP's words (`Initialize` where the engines report none).
fn state(nav: &Nav<'_>, g: &DataNode) -> &'static str {
    match nav.value(g, VRRP, "state") {
        Some("master") => "Master",
        Some("backup") => "Backup",
        _ => "Initialize",
    }
}

fn virtual_ips<'t>(nav: &Nav<'_>, g: &'t DataNode) -> Vec<&'t str> {
    nav.entries(g, VRRP, "virtual-ip")
        .iter()
        .filter_map(|a| nav.value(a, VRRP, "address"))
        .collect()
}

/// Every VRRP group with its interface.
fn groups<'t>(nav: &Nav<'_>, tree: &'t DataTree) -> Vec<(&'t str, &'t DataNode)> {
    let mut out = Vec::new();
    for i in interfaces(nav, tree) {
        let name = nav.value(i, IF, "name").unwrap_or("");
        if let Some(v) = nav.child(i, VRRP, "vrrp") {
            out.extend(nav.entries(v, VRRP, "group").iter().map(|g| (name, &**g)));
        }
    }
    out
}

/// `display vrrp brief`: every VRRP group, its state and its virtual addresses.
pub fn vrrp_brief(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let mut rows = String::new();
    let (mut master, mut backup, mut inactive) = (0, 0, 0);
    for (name, g) in groups(&nav, tree) {
        let state = state(&nav, g);
        match state {
            "Master" => master += 1,
            "Backup" => backup += 1,
            _ => inactive += 1,
        }
        let kind = if nav.child(g, VRRP, "admin-vrrp").is_some() {
            "Admin"
        } else {
            "Normal"
        };
        let vips = virtual_ips(&nav, g);
        rows.push_str(&format!(
            "{:<6}{:<13}{:<25}{:<9}{}\n",
            nav.value(g, VRRP, "vrid").unwrap_or(""),
            state,
            name,
            kind,
            vips.first().copied().unwrap_or("-")
        ));
        for more in vips.iter().skip(1) {
            rows.push_str(&format!("{:53}{more}\n", ""));
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
    out.push_str(&rows);
    out
}

/// `display vrrp [verbose]`, `display vrrp interface IF [vrid N]`: each group (of `interface`,
/// with `vrid`, when given) in VRP's verbose layout.
pub fn vrrp_verbose(
    schema: &Schema,
    tree: &DataTree,
    interface: Option<&str>,
    vrid: Option<&str>,
) -> String {
    let nav = Nav::new(schema);
    let local_ips: std::collections::HashMap<&str, &str> = interfaces(&nav, tree)
        .into_iter()
        .filter_map(|i| {
            let name = nav.value(i, IF, "name")?;
            let ip = nav
                .child(i, IF, "ipv4")
                .and_then(|v4| nav.entries(v4, IF, "address").first())
                .and_then(|a| nav.value(a, IF, "ip"))?;
            Some((name, ip))
        })
        .collect();
    let mut out = String::new();
    for (name, g) in groups(&nav, tree) {
        let id = nav.value(g, VRRP, "vrid").unwrap_or("");
        if interface.is_some_and(|i| i != name) || vrid.is_some_and(|v| v != id) {
            continue;
        }
        let v = |leaf| nav.value(g, VRRP, leaf).unwrap_or("-");
        let row = |out: &mut String, label: &str, value: &str| {
            out.push_str(&format!("  {label:<18}: {value}\n"));
        };
        out.push_str(&format!("{name} | Virtual Router {id}\n"));
        row(&mut out, "State", state(&nav, g));
        let vips = virtual_ips(&nav, g);
        row(&mut out, "Virtual IP", vips.first().copied().unwrap_or("-"));
        for more in vips.iter().skip(1) {
            out.push_str(&format!("{:22}{more}\n", ""));
        }
        row(&mut out, "Master IP", v("master-ip"));
        row(
            &mut out,
            "Local IP",
            local_ips.get(name).copied().unwrap_or("-"),
        );
        row(&mut out, "PriorityRun", v("current-priority"));
        row(&mut out, "PriorityConfig", v("priority"));
        row(&mut out, "MasterPriority", v("master-priority"));
        let preempt = nav.child(g, VRRP, "preempt");
        let preempt_on = preempt.and_then(|p| nav.value(p, VRRP, "enabled")) != Some("false");
        let delay = preempt
            .and_then(|p| nav.value(p, VRRP, "delay"))
            .unwrap_or("0");
        row(
            &mut out,
            "Preempt",
            &if preempt_on {
                format!("YES   Delay Time : {delay} s")
            } else {
                "NO".into()
            },
        );
        row(&mut out, "TimerRun", &interval(v("advertise-interval")));
        row(&mut out, "TimerConfig", &interval(v("advertise-interval")));
        row(&mut out, "Virtual MAC", &mac(v("virtual-mac")));
        row(&mut out, "Version", v("version"));
        let admin = nav.child(g, VRRP, "admin-vrrp");
        row(
            &mut out,
            "Config Type",
            match admin.and_then(|a| nav.value(a, VRRP, "ignore-if-down")) {
                Some("true") => "admin-vrrp (ignore-if-down)",
                _ if admin.is_some() => "admin-vrrp",
                _ => "normal-vrrp",
            },
        );
        if let Some(track) = nav.child(g, VRRP, "track") {
            for b in nav.entries(track, VRRP, "bfd-session") {
                let t = |leaf| nav.value(b, VRRP, leaf).unwrap_or("-");
                let change = if t("mode") == "increase" {
                    "increased"
                } else {
                    "reduced"
                };
                row(
                    &mut out,
                    "Track BFD",
                    &format!(
                        "{:<16}Priority {change} : {}",
                        t("session"),
                        t("priority-change")
                    ),
                );
                row(
                    &mut out,
                    "BFD-session State",
                    &t("session-state").to_uppercase(),
                );
            }
            for m in nav.entries(track, VRRP, "monitor-group") {
                let t = |leaf| nav.value(m, VRRP, leaf).unwrap_or("-");
                let effect = if t("mode") == "link" {
                    "link".to_string()
                } else {
                    format!("Priority reduced : {}", t("priority-change"))
                };
                row(
                    &mut out,
                    "Track MonitorGroup",
                    &format!(
                        "{:<16}Failure ratio : {} %   {effect}",
                        t("name"),
                        t("failure-ratio")
                    ),
                );
                row(&mut out, "MonitorGroup State", t("group-state"));
            }
        }
        let changed = nav.value(g, VRRP, "last-change").map(time);
        row(
            &mut out,
            "Last Change Time",
            changed.as_deref().unwrap_or("-"),
        );
        row(&mut out, "Master Reason", v("new-master-reason"));
        out.push('\n');
    }
    if out.is_empty() {
        return "Info: The VRRP group does not exist.\n".into();
    }
    out
}

/// An advertisement interval in milliseconds as VRP shows it: `1 s`, `100 ms`.
fn interval(ms: &str) -> String {
    match ms.parse::<u64>() {
        Ok(n) if n % 1000 == 0 => format!("{} s", n / 1000),
        Ok(n) => format!("{n} ms"),
        Err(_) => ms.to_string(),
    }
}

/// `00:00:5e:00:01:01` as VRP writes MAC addresses: `0000-5e00-0101`.
pub fn mac(colons: &str) -> String {
    let hex: String = colons.chars().filter(|c| *c != ':').collect();
    if hex.len() != 12 {
        return colons.to_string();
    }
    format!("{}-{}-{}", &hex[0..4], &hex[4..8], &hex[8..12])
}
