//! The BSR displays (RFC 5059): `display pim bsr-info` (the elected BSR and, when this router
//! is a candidate, its own candidacy) and `display pim rp-info` (the RP set learned through
//! the BSR and the static RP), from running with the multicast engine's `bsr` state.

use yang::data::{DataNode, DataTree};
use yang::schema::Schema;

use super::super::commands::MC;
use super::super::nav::Nav;
use super::duration;

const PUBLIC: &str = "VPN-Instance: public net";

/// How VRP names the BSR states.
fn state_name(state: &str) -> &str {
    match state {
        "no-info" => "No Info",
        "accept-any" => "Accept Any",
        "accept-preferred" => "Accept Preferred",
        "candidate" => "Candidate",
        "pending" => "Pending",
        "elected" => "Elected",
        other => other,
    }
}

/// `display pim bsr-info`.
pub fn bsr_info(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let mc = nav.top(tree, MC, "multicast");
    let bsr = mc.and_then(|m| nav.child(m, MC, "bsr"));
    fn v<'t>(nav: &Nav<'_>, n: Option<&'t DataNode>, leaf: &str) -> Option<&'t str> {
        n.and_then(|n| nav.value(n, MC, leaf))
    }
    let mut out = format!(" {PUBLIC}\n");
    let state = v(&nav, bsr, "state").unwrap_or("no-info");
    match v(&nav, bsr, "elected-address") {
        Some(addr) => {
            out.push_str(&format!(" Elected BSR Address: {addr}\n"));
            out.push_str(&format!(
                "     Priority: {}\n",
                v(&nav, bsr, "elected-priority").unwrap_or("-")
            ));
            out.push_str(&format!(
                "     Hash mask length: {}\n",
                v(&nav, bsr, "hash-mask-length").unwrap_or("-")
            ));
            out.push_str(&format!("     State: {}\n", state_name(state)));
            let crps = bsr.map_or(0, |b| nav.entries(b, MC, "rp").len());
            out.push_str(&format!("     C-RP Count: {crps}\n"));
        }
        None => out.push_str(" Elected BSR Address: -\n"),
    }
    let candidate = mc.and_then(|m| nav.child(m, MC, "c-bsr"));
    if let Some(c) = candidate {
        out.push_str(&format!(
            "\n Candidate BSR Address: {}\n",
            v(&nav, Some(c), "address").unwrap_or("-")
        ));
        out.push_str(&format!(
            "     Priority: {}\n",
            v(&nav, Some(c), "priority").unwrap_or("0")
        ));
        out.push_str(&format!(
            "     Hash mask length: {}\n",
            v(&nav, Some(c), "hash-length").unwrap_or("30")
        ));
        out.push_str(&format!("     State: {}\n", state_name(state)));
    }
    out
}

/// `display pim rp-info`.
pub fn rp_info(schema: &Schema, tree: &DataTree) -> String {
    let nav = Nav::new(schema);
    let mc = nav.top(tree, MC, "multicast");
    let rps: &[std::sync::Arc<DataNode>] = mc
        .and_then(|m| nav.child(m, MC, "bsr"))
        .map_or(&[], |b| nav.entries(b, MC, "rp"));
    let mut out = format!(" {PUBLIC}\n PIM-SM BSR RP Number:{}\n", rps.len());
    let mut last_range = "";
    for rp in rps {
        let v = |leaf| nav.value(rp, MC, leaf).unwrap_or("-");
        let range = v("group-range");
        if range != last_range {
            out.push_str(&format!(" Group/MaskLen: {range}\n"));
            last_range = range;
        }
        out.push_str(&format!("     RP: {}\n", v("address")));
        out.push_str(&format!("     Priority: {}\n", v("priority")));
        out.push_str(&format!("     Holdtime: {}\n", v("holdtime")));
        out.push_str(&format!(
            "     Expires: {}\n",
            duration(nav.value(rp, MC, "expires"))
        ));
    }
    match mc.and_then(|m| nav.value(m, MC, "rp-address")) {
        Some(rp) => out.push_str(&format!(
            " PIM SM static RP Number:1\n     Static RP: {rp}\n"
        )),
        None => out.push_str(" PIM SM static RP Number:0\n"),
    }
    out
}
