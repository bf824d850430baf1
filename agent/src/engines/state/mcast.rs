//! The multicast engine's state: `igmp`, `pim` and `track-admin-vrrp` inside an interface, the
//! route list and the forwarding plane's counters (ne-multicast).

use std::net::Ipv4Addr;
use std::time::Instant;

use dataplane::mfib::Route;

use super::build::Node;
use crate::clock::now_ms;
use crate::engines::mcast::forwarding::Forwarding;
use crate::engines::mcast::routes::ssm;
use crate::engines::mcast::Multicast;
use crate::engines::pim::downstream::DownstreamState as DsState;
use crate::engines::pim::iface::AssertState;

const NS: &str = "urn:ne-agent:yang:ne-multicast";

/// `igmp`, `pim` and `track-admin-vrrp` state inside the interface `i`.
pub fn interface(mc: &Multicast, name: &str, i: &mut Node, now: Instant) {
    let Some(e) = mc.ifs.get(name) else { return };
    let secs = |t: Instant| t.saturating_duration_since(now).as_secs();
    if let Some(m) = &e.igmp {
        let n = i.add_ns(NS, "igmp");
        n.leaf("is-querier", m.is_querier())
            .leaf_opt("querier", m.querier());
        for g in m.groups() {
            let gn = n.add("group");
            gn.leaf("address", g.group)
                .leaf("last-reporter", g.last_reporter)
                .leaf("filter-mode", g.mode.name())
                .leaf("expires", secs(g.expires));
            for (s, exp) in &g.sources {
                gn.add("source")
                    .leaf("address", s)
                    .leaf("expires", secs(*exp));
            }
        }
        n.add("statistics").leaf("rx-malformed", e.igmp_malformed);
    }
    if let Some(p) = &e.pim {
        let n = i.add_ns(NS, "pim");
        n.leaf_opt("dr-address", p.dr_address())
            .leaf("is-dr", p.is_dr());
        for nb in p.neighbors() {
            n.add("neighbor")
                .leaf("address", nb.address)
                .leaf_opt("dr-priority", nb.dr_priority)
                .leaf_opt("generation-id", nb.generation_id)
                .leaf_opt("expires", nb.expires.map(secs))
                .leaf("uptime", now.saturating_duration_since(nb.since).as_secs());
        }
        let any = Ipv4Addr::UNSPECIFIED;
        for j in e.ds.iter().flat_map(|d| d.entries()) {
            let st = match j.state() {
                DsState::PrunePending => "prune-pending",
                _ => "join",
            };
            n.add("join")
                .leaf("source", j.source().unwrap_or(any))
                .leaf("group", j.group())
                .leaf("state", st)
                .leaf_opt("expires", j.expires().map(secs));
        }
        for (s, g, st) in p.asserts() {
            let (st, winner) = match st {
                AssertState::Winner => ("winner", e.local),
                AssertState::Loser { winner } => ("loser", winner),
                AssertState::NoInfo => continue,
            };
            n.add("assert")
                .leaf("source", s.unwrap_or(any))
                .leaf("group", g)
                .leaf("state", st)
                .leaf("winner", winner);
        }
        let st = n.add("statistics");
        st.leaf("rx-malformed", e.pim_malformed);
        let c = e
            .index
            .and_then(|i| mc.reg.counters.get(&i))
            .copied()
            .unwrap_or_default();
        st.leaf("rx-register", c.rx_register)
            .leaf("rx-null-register", c.rx_null_register)
            .leaf("rx-register-stop", c.rx_register_stop)
            .leaf("tx-register-stop", c.tx_register_stop)
            .leaf("tx-null-register", c.tx_null_register);
    }
    if let Some((gi, gv)) = &e.cfg.gate {
        i.add_ns(NS, "track-admin-vrrp")
            .leaf("forwarding", mc.gates.is_open(gi, *gv));
    }
}

/// [`Multicast::name_of`], or `if<index>` for an interface that is not ours, for state.
fn display_name(mc: &Multicast, ifindex: u32) -> String {
    mc.name_of(ifindex)
        .unwrap_or_else(|| format!("if{ifindex}"))
}

/// The `multicast/route` list.
pub fn routes(mc: &Multicast, m: &mut Node) {
    let table = mc.table();
    let name_of = |idx: u32| display_name(mc, idx);
    let routes: Vec<&Route> = table.routes().collect();
    let now = now_ms();
    for r in routes {
        let (p, o) = r.counters.get();
        let since = mc
            .route_since
            .get(&(r.source, r.group))
            .copied()
            .unwrap_or(now);
        let upstream = [Some(r.source), None].into_iter().find_map(|s| {
            mc.tib
                .entry(s, r.group)
                .filter(|e| e.upstream_if() == r.iif)
                .and_then(|e| e.upstream_neighbor())
        });
        let n = m.add("route");
        n.leaf("source", r.source)
            .leaf("group", r.group)
            .leaf("incoming-interface", name_of(r.iif))
            .leaf("register-state", register_state(mc, r.source, r.group))
            .leaf_opt("upstream-neighbor", upstream)
            .leaf_opt("rp-address", mc.rp_of(r.group).filter(|_| !ssm(r.group)))
            .leaf("packets", p)
            .leaf("octets", o)
            .leaf("uptime", now.saturating_sub(since) / 1000);
        let mut names: Vec<(String, &str)> = r
            .oifs
            .iter()
            .map(|o| {
                let st = if o.forwarding {
                    "forwarding"
                } else {
                    "blocked-by-vrrp"
                };
                (name_of(o.ifindex), st)
            })
            .collect();
        // Every IGMP interface, and every PIM interface with downstream state for the group,
        // that is not in the route is listed as pruned.
        for (name, e) in mc.ifs.iter() {
            let downstream = e.ds.as_ref().is_some_and(|d| {
                d.entries().any(|j| j.group() == r.group)
                    || d.rpt_prunes().any(|(_, g)| g == r.group)
            });
            if (e.igmp.is_some() || downstream)
                && e.index != Some(r.iif)
                && !names.iter().any(|(x, _)| x == name)
            {
                names.push((name.clone(), "pruned"));
            }
        }
        for (name, st) in names {
            n.add("outgoing-interface")
                .leaf("name", name)
                .leaf("state", st);
        }
    }
}

/// The `register-state` of a route (RFC 7761 §4.4.1).
fn register_state(mc: &Multicast, s: std::net::Ipv4Addr, g: std::net::Ipv4Addr) -> &'static str {
    use crate::engines::pim::register::RegisterState;
    match mc.register_state(s, g) {
        RegisterState::NoInfo => "no-info",
        RegisterState::Join => "join",
        RegisterState::JoinPending => "join-pending",
        RegisterState::Prune => "prune",
    }
}

/// Is there multicast state to report (a forwarder or routes)?
pub fn any(mc: &Multicast, fwd: &Forwarding) -> bool {
    fwd.running() || !mc.table().is_empty()
}

/// The `multicast/forwarding-plane` counters.
pub fn forwarding_plane(mc: &Multicast, fwd: &Forwarding, m: &mut Node) {
    let Some(c) = fwd.counters() else { return };
    let f = m.add("forwarding-plane");
    f.leaf("received", c.received)
        .leaf("forwarded", c.forwarded)
        .leaf("rpf-failures", c.rpf_fail)
        .leaf("no-route", c.no_route)
        .leaf("ttl-expired", c.ttl_expired)
        .leaf("malformed", c.malformed)
        .leaf("tx-errors", c.tx_errors)
        .leaf("registers-sent", c.registers_sent)
        .leaf("register-errors", c.register_errors)
        .leaf("sources-dropped", mc.sources.dropped);
    for (idx, st) in fwd.ring_stats() {
        f.add("port")
            .leaf("name", display_name(mc, idx))
            .leaf("packets", st.packets)
            .leaf("ring-drops", st.drops)
            .leaf("ring-freezes", st.freeze_q_cnt);
    }
}

/// Is there BSR state to report: multicast routing on, or a candidate configured?
pub fn bsr_shown(mc: &Multicast) -> bool {
    let c = &mc.cfg;
    mc.bsr().is_some()
        && (c.routing_enable || c.bsr.candidate_bsr.is_some() || c.bsr.candidate_rp.is_some())
}

/// The `multicast/bsr` state: the election and the RP set in use (RFC 5059); nothing before
/// the first configuration.
pub fn bsr(mc: &Multicast, m: &mut Node, now: Instant) {
    use crate::engines::pim::bsr::BsrState;
    let Some(b) = mc.bsr().filter(|_| bsr_shown(mc)) else {
        return;
    };
    let state = match b.state() {
        BsrState::NoInfo => "no-info",
        BsrState::AcceptAny => "accept-any",
        BsrState::AcceptPreferred => "accept-preferred",
        BsrState::CandidateBsr => "candidate",
        BsrState::PendingBsr => "pending",
        BsrState::ElectedBsr => "elected",
    };
    let elected = b.elected_bsr();
    let n = m.add("bsr");
    n.leaf("state", state)
        .leaf_opt("elected-address", elected.map(|e| e.0))
        .leaf_opt("elected-priority", elected.map(|e| e.1))
        .leaf("hash-mask-length", b.rp_set().hash_mask_len());
    for (range, rps) in b.rp_set().ranges() {
        for e in rps {
            n.add("rp")
                .leaf(
                    "group-range",
                    format!("{}/{}", range.prefix(), range.mask_len()),
                )
                .leaf("address", e.rp)
                .leaf("priority", e.priority)
                .leaf("holdtime", e.holdtime)
                .leaf_opt(
                    "expires",
                    e.expires
                        .map(|t| t.saturating_duration_since(now).as_secs()),
                );
        }
    }
}
