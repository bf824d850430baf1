//! `display interface brief`: every configured interface's link and protocol state with its
//! packet counters.

use yang::data::DataTree;
use yang::schema::Schema;

use super::super::commands::IF;
use super::super::nav::Nav;
use super::interfaces;

/// VRP's legend, then one row per interface: `PHY` the link (`*down` when shut down by
/// configuration, `absent` when no such network device exists), `Protocol` up when the link
/// is up and the interface has an IPv4 address, `-` for an interface not configured here.
pub fn interface_brief(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let mut out = String::from(
        "PHY: Physical\n*down: administratively down\nabsent: no such network device\n\
         Protocol -: not configured here (its addresses are not managed by this device)\n",
    );
    out.push_str(&format!(
        "{:<24}{:<8}{:<10}{:>12}{:>12}{:>12}\n",
        "Interface", "PHY", "Protocol", "InPackets", "OutPackets", "InDiscards"
    ));
    for i in interfaces(&nav, tree) {
        let oper = nav.value(i, IF, "oper-status");
        let phy = if nav.value(i, IF, "enabled") == Some("false") {
            "*down"
        } else {
            match oper {
                Some("up") => "up",
                Some("not-present") => "absent",
                _ => "down",
            }
        };
        let addressed = nav
            .child(i, IF, "ipv4")
            .is_some_and(|v4| !nav.entries(v4, IF, "address").is_empty());
        // An interface with no configuration of its own (only the kernel's state: eth0, lo)
        // has addresses this device neither manages nor reports: its protocol state is unknown
        // here, and "down" would mislead.
        let configured = i.children.iter().any(|c| {
            schema.node(c.schema).config && !schema.node(i.schema).keys.contains(&c.schema)
        });
        let protocol = if !configured {
            "-"
        } else if phy == "up" && addressed {
            "up"
        } else {
            "down"
        };
        let stats = nav.child(i, IF, "statistics");
        let c = |leaf| stats.and_then(|s| nav.value(s, IF, leaf)).unwrap_or("-");
        out.push_str(&format!(
            "{:<24}{:<8}{:<10}{:>12}{:>12}{:>12}\n",
            nav.value(i, IF, "name").unwrap_or(""),
            phy,
            protocol,
            c("in-packets"),
            c("out-packets"),
            c("in-discards"),
        ));
    }
    out
}
