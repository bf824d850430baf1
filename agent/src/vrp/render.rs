//! A data tree as VRP configuration text (`display current-configuration`), and the difference
//! of two trees as `+`/`-` lines (`display configuration candidate`).
//!
//! The text is made of blocks, one per view-level object (a monitoring group, a BFD session,
//! an interface, ...), each a head line and indented body lines, separated by `#` and closed by
//! `return`, as VRP prints it. Every line is a command of the command table that sets what it
//! shows, so the text typed into an empty device gives the same configuration back. Leaves are
//! shown when set (a default the server filled in is not shown), booleans when they differ from
//! their default, since only that is a command.

use std::collections::{HashMap, HashSet};

use yang::data::{DataNode, DataTree};
use yang::schema::Schema;

use super::commands::{Section, BFD, IF, MC, MG, SYS, VRRP};
use super::lex::quote;
use super::nav::Nav;
use super::params::mask_of;

/// One view-level object of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub section: Section,
    /// The object's name (interface, monitoring group, session), "" for the global ones.
    pub name: String,
    pub head: String,
    pub body: Vec<String>,
}

/// The blocks of a configuration, in display order.
pub fn blocks(schema: &Schema, tree: &DataTree) -> Vec<Block> {
    let nav = Nav::new(schema);
    let mut out = Vec::new();
    if let Some(host) = nav
        .top(tree, SYS, "system")
        .and_then(|s| nav.value(s, SYS, "hostname"))
    {
        out.push(block(
            Section::System,
            "",
            format!("sysname {}", quote(host)),
        ));
    }
    if let Some(groups) = nav.top(tree, MG, "monitor-groups") {
        for g in nav.entries(groups, MG, "monitor-group") {
            out.push(monitor_group(&nav, g));
        }
    }
    if let Some(bfd) = nav.top(tree, BFD, "bfd") {
        for s in nav.entries(bfd, BFD, "session") {
            out.push(bfd_session(&nav, s));
        }
    }
    let multicast = nav.top(tree, MC, "multicast");
    if multicast.and_then(|m| nav.value(m, MC, "routing-enable")) == Some("true") {
        out.push(block(
            Section::Multicast,
            "",
            "multicast routing-enable".into(),
        ));
    }
    if let Some(interfaces) = nav.top(tree, IF, "interfaces") {
        for i in nav.entries(interfaces, IF, "interface") {
            out.push(interface(&nav, i));
        }
    }
    if let Some(rp) = multicast.and_then(|m| nav.value(m, MC, "rp-address")) {
        let mut b = block(Section::Pim, "", "pim".into());
        b.body.push(format!("static-rp {rp}"));
        out.push(b);
    }
    out
}

fn block(section: Section, name: &str, head: String) -> Block {
    Block {
        section,
        name: name.to_string(),
        head,
        body: Vec::new(),
    }
}

fn monitor_group(nav: &Nav<'_>, g: &DataNode) -> Block {
    let name = nav.value(g, MG, "name").unwrap_or("");
    let mut b = block(
        Section::MonitorGroup,
        name,
        format!("monitor-group {}", quote(name)),
    );
    if nav.value(g, MG, "enabled") == Some("true") {
        b.body.push("monitor enable".into());
    }
    for binding in nav.entries(g, MG, "binding-interface") {
        let mut line = format!(
            "binding interface {}",
            quote(nav.value(binding, MG, "name").unwrap_or(""))
        );
        if let Some(w) = nav.explicit(binding, MG, "down-weight") {
            line.push_str(&format!(" down-weight {w}"));
        }
        b.body.push(line);
    }
    b
}

fn bfd_session(nav: &Nav<'_>, s: &DataNode) -> Block {
    let name = nav.value(s, BFD, "name").unwrap_or("");
    let mut head = format!("bfd {}", quote(name));
    if let Some(peer) = nav.value(s, BFD, "peer-ip") {
        head.push_str(&format!(" bind peer-ip {peer}"));
        if let Some(i) = nav.value(s, BFD, "interface") {
            head.push_str(&format!(" interface {}", quote(i)));
        }
        if let Some(src) = nav.value(s, BFD, "source-ip") {
            head.push_str(&format!(" source-ip {src}"));
        }
    }
    let mut b = block(Section::Bfd, name, head);
    for (leaf, command) in [
        ("local-discriminator", "discriminator local"),
        ("remote-discriminator", "discriminator remote"),
        ("min-tx-interval", "min-tx-interval"),
        ("min-rx-interval", "min-rx-interval"),
        ("detect-multiplier", "detect-multiplier"),
    ] {
        if let Some(v) = nav.explicit(s, BFD, leaf) {
            b.body.push(format!("{command} {v}"));
        }
    }
    if nav.value(s, BFD, "admin-down") == Some("true") {
        b.body.push("shutdown".into());
    }
    b
}

fn interface(nav: &Nav<'_>, i: &DataNode) -> Block {
    let name = nav.value(i, IF, "name").unwrap_or("");
    let mut b = block(
        Section::Interface,
        name,
        format!("interface {}", quote(name)),
    );
    let body = &mut b.body;
    if let Some(d) = nav.value(i, IF, "description") {
        body.push(format!("description {d}"));
    }
    if nav.value(i, IF, "enabled") == Some("false") {
        body.push("shutdown".into());
    }
    if let Some(ipv4) = nav.child(i, IF, "ipv4") {
        for (n, a) in nav.entries(ipv4, IF, "address").iter().enumerate() {
            let ip = nav.value(a, IF, "ip").unwrap_or("");
            let mut line = match nav.value(a, IF, "prefix-length").map(str::parse::<u32>) {
                Some(Ok(len)) => format!("ip address {ip} {}", mask_of(len)),
                _ => format!("ip address {ip}"),
            };
            if n > 0 {
                line.push_str(" sub");
            }
            body.push(line);
        }
    }
    if let Some(vrrp) = nav.child(i, VRRP, "vrrp") {
        for g in nav.entries(vrrp, VRRP, "group") {
            vrrp_group(nav, g, body);
        }
    }
    if let Some(pim) = nav.child(i, MC, "pim") {
        if nav.value(pim, MC, "sm") == Some("true") {
            body.push("pim sm".into());
        }
        if let Some(v) = nav.explicit(pim, MC, "dr-priority") {
            body.push(format!("pim hello-option dr-priority {v}"));
        }
        if let Some(v) = nav.explicit(pim, MC, "hello-interval") {
            body.push(format!("pim timer hello {v}"));
        }
        if nav.value(pim, MC, "ignore-dr-state") == Some("true") {
            body.push("pim ignore dr-state".into());
        }
        if nav.value(pim, MC, "ignore-assert-state") == Some("true") {
            body.push("pim ignore assert-state".into());
        }
    }
    if let Some(igmp) = nav.child(i, MC, "igmp") {
        if nav.value(igmp, MC, "enabled") == Some("true") {
            body.push("igmp enable".into());
        }
        for (leaf, command) in [
            ("version", "igmp version"),
            ("query-interval", "igmp timer query"),
            ("max-response-time", "igmp max-response-time"),
            ("robustness", "igmp robust-count"),
            (
                "last-member-query-interval",
                "igmp lastmember-queryinterval",
            ),
        ] {
            if let Some(v) = nav.explicit(igmp, MC, leaf) {
                body.push(format!("{command} {v}"));
            }
        }
    }
    if let Some(t) = nav.child(i, MC, "track-admin-vrrp") {
        if let (Some(ifname), Some(vrid)) =
            (nav.value(t, MC, "interface"), nav.value(t, MC, "vrid"))
        {
            body.push(format!(
                "multicast track admin-vrrp interface {} vrid {vrid}",
                quote(ifname)
            ));
        }
    }
    b
}

fn vrrp_group(nav: &Nav<'_>, g: &DataNode, body: &mut Vec<String>) {
    let vrid = nav.value(g, VRRP, "vrid").unwrap_or("");
    let prefix = format!("vrrp vrid {vrid}");
    for vip in nav.entries(g, VRRP, "virtual-ip") {
        if let Some(a) = nav.value(vip, VRRP, "address") {
            body.push(format!("{prefix} virtual-ip {a}"));
        }
    }
    if let Some(admin) = nav.child(g, VRRP, "admin-vrrp") {
        let mut line = format!("admin-vrrp vrid {vrid}");
        if nav.value(admin, VRRP, "ignore-if-down") == Some("true") {
            line.push_str(" ignore-if-down");
        }
        body.push(line);
    }
    if let Some(p) = nav.explicit(g, VRRP, "priority") {
        body.push(format!("{prefix} priority {p}"));
    }
    if let Some(preempt) = nav.child(g, VRRP, "preempt") {
        if nav.value(preempt, VRRP, "enabled") == Some("false") {
            body.push(format!("{prefix} preempt-mode disable"));
        }
        if let Some(d) = nav.explicit(preempt, VRRP, "delay") {
            body.push(format!("{prefix} preempt-mode timer delay {d}"));
        }
    }
    if let Some(ms) = nav.explicit(g, VRRP, "advertise-interval") {
        match ms.parse::<u64>() {
            Ok(ms) if ms % 1000 == 0 => {
                body.push(format!("{prefix} timer advertise {}", ms / 1000))
            }
            _ => body.push(format!("{prefix} timer advertise millisecond {ms}")),
        }
    }
    if let Some(v) = nav.explicit(g, VRRP, "version") {
        body.push(format!("{prefix} version {v}"));
    }
    if let Some(v) = nav.explicit(g, VRRP, "checksum-mode") {
        body.push(format!("{prefix} checksum-mode {v}"));
    }
    if let Some(track) = nav.child(g, VRRP, "track") {
        for t in nav.entries(track, VRRP, "bfd-session") {
            let session = nav.value(t, VRRP, "session").unwrap_or("");
            let mut line = format!("{prefix} track bfd-session session-name {}", quote(session));
            let mode = nav.explicit(t, VRRP, "mode");
            let change = nav.explicit(t, VRRP, "priority-change");
            if mode.is_some() || change.is_some() {
                let keyword = if nav.value(t, VRRP, "mode") == Some("increase") {
                    "increased"
                } else {
                    "reduced"
                };
                let change = nav.value(t, VRRP, "priority-change").unwrap_or("10");
                line.push_str(&format!(" {keyword} {change}"));
            }
            body.push(line);
        }
        for t in nav.entries(track, VRRP, "monitor-group") {
            let name = nav.value(t, VRRP, "name").unwrap_or("");
            let mut line = format!("{prefix} track monitor-group {}", quote(name));
            if let Some(r) = nav.value(t, VRRP, "failure-ratio") {
                line.push_str(&format!(" failure-ratio {r}"));
            }
            if nav.value(t, VRRP, "mode") == Some("link") {
                line.push_str(" link");
            } else if nav.explicit(t, VRRP, "mode").is_some()
                || nav.explicit(t, VRRP, "priority-change").is_some()
            {
                let change = nav.value(t, VRRP, "priority-change").unwrap_or("10");
                line.push_str(&format!(" reduced {change}"));
            }
            body.push(line);
        }
    }
}

/// Blocks as VRP prints them.
pub fn text(blocks: &[Block]) -> String {
    let mut out = String::from("#\n");
    for b in blocks {
        out.push_str(&b.head);
        out.push('\n');
        for line in &b.body {
            out.push(' ');
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("#\n");
    }
    out.push_str("return\n");
    out
}

/// The changes from `old` to `new` as VRP's `display configuration candidate changes` shows
/// them: added lines with `+`, removed ones with `-`, under the head of the view they are in.
/// Empty when nothing changed.
pub fn changes(old: &[Block], new: &[Block]) -> String {
    let key = |b: &Block| (b.section, b.name.clone());
    let old_index: HashMap<_, usize> = old.iter().enumerate().map(|(i, b)| (key(b), i)).collect();
    let new_keys: HashSet<_> = new.iter().map(key).collect();
    let mut out = String::new();
    let mut push_block = |lines: Vec<String>| {
        if !lines.is_empty() {
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
            out.push_str("#\n");
        }
    };
    for section in [
        Section::System,
        Section::MonitorGroup,
        Section::Bfd,
        Section::Multicast,
        Section::Interface,
        Section::Pim,
    ] {
        for b in new.iter().filter(|b| b.section == section) {
            match old_index.get(&key(b)).map(|&i| &old[i]) {
                None => push_block(signed('+', b)),
                Some(o) if o == b => {}
                Some(o) => {
                    let mut lines = Vec::new();
                    if o.head == b.head {
                        lines.push(b.head.clone());
                    } else {
                        lines.push(format!("-{}", o.head));
                        lines.push(format!("+{}", b.head));
                    }
                    let old_lines: HashSet<&str> = o.body.iter().map(String::as_str).collect();
                    let new_lines: HashSet<&str> = b.body.iter().map(String::as_str).collect();
                    for l in o.body.iter().filter(|l| !new_lines.contains(l.as_str())) {
                        lines.push(format!("- {l}"));
                    }
                    for l in b.body.iter().filter(|l| !old_lines.contains(l.as_str())) {
                        lines.push(format!("+ {l}"));
                    }
                    push_block(lines);
                }
            }
        }
        for o in old
            .iter()
            .filter(|o| o.section == section && !new_keys.contains(&key(o)))
        {
            push_block(signed('-', o));
        }
    }
    if out.is_empty() {
        return out;
    }
    format!("#\n{out}return\n")
}

fn signed(sign: char, b: &Block) -> Vec<String> {
    let mut lines = vec![format!("{sign}{}", b.head)];
    lines.extend(b.body.iter().map(|l| format!("{sign} {l}")));
    lines
}
