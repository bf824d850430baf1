//! The multicast engine's state (`igmp`, `pim`, `track-admin-vrrp` inside an interface, the
//! route list and the forwarding plane's counters) as XML of ne-multicast.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::Instant;

use dataplane::mfib::Route;

use crate::clock::now_ms;
use crate::engines::mcast::Multicast;
use crate::engines::pim::downstream::DownstreamState as DsState;
use crate::engines::pim::iface::AssertState;

/// `igmp`, `pim` and `track-admin-vrrp` state inside `<interface>`.
pub fn interface(mc: &Multicast, name: &str, x: &mut String, now: Instant) {
    let Some(e) = mc.ifs.get(name) else { return };
    let ns = "urn:ne-agent:yang:ne-multicast";
    if let Some(i) = &e.igmp {
        let _ = write!(
            x,
            "<igmp xmlns=\"{ns}\"><is-querier>{}</is-querier>",
            i.is_querier()
        );
        if let Some(q) = i.querier() {
            let _ = write!(x, "<querier>{q}</querier>");
        }
        for g in i.groups() {
            let _ = write!(
                x,
                "<group><address>{}</address><last-reporter>{}</last-reporter><filter-mode>{}</filter-mode><expires>{}</expires>",
                g.group,
                g.last_reporter,
                g.mode.name(),
                g.expires.saturating_duration_since(now).as_secs()
            );
            for (s, exp) in &g.sources {
                let _ = write!(
                    x,
                    "<source><address>{s}</address><expires>{}</expires></source>",
                    exp.saturating_duration_since(now).as_secs()
                );
            }
            x.push_str("</group>");
        }
        let _ = write!(
            x,
            "<statistics><rx-malformed>{}</rx-malformed></statistics></igmp>",
            e.igmp_malformed
        );
    }
    if let Some(p) = &e.pim {
        let _ = write!(x, "<pim xmlns=\"{ns}\">");
        if let Some(dr) = p.dr_address() {
            let _ = write!(x, "<dr-address>{dr}</dr-address>");
        }
        let _ = write!(x, "<is-dr>{}</is-dr>", p.is_dr());
        for n in p.neighbors() {
            let _ = write!(x, "<neighbor><address>{}</address>", n.address);
            if let Some(d) = n.dr_priority {
                let _ = write!(x, "<dr-priority>{d}</dr-priority>");
            }
            if let Some(gid) = n.generation_id {
                let _ = write!(x, "<generation-id>{gid}</generation-id>");
            }
            if let Some(exp) = n.expires {
                let _ = write!(
                    x,
                    "<expires>{}</expires>",
                    exp.saturating_duration_since(now).as_secs()
                );
            }
            let _ = write!(
                x,
                "<uptime>{}</uptime></neighbor>",
                now.saturating_duration_since(n.since).as_secs()
            );
        }
        let any = Ipv4Addr::UNSPECIFIED;
        for j in e.ds.iter().flat_map(|d| d.entries()) {
            let st = match j.state() {
                DsState::PrunePending => "prune-pending",
                _ => "join",
            };
            let _ = write!(
                x,
                "<join><source>{}</source><group>{}</group><state>{st}</state>",
                j.source().unwrap_or(any),
                j.group()
            );
            if let Some(exp) = j.expires() {
                let _ = write!(
                    x,
                    "<expires>{}</expires>",
                    exp.saturating_duration_since(now).as_secs()
                );
            }
            x.push_str("</join>");
        }
        for (s, g, st) in p.asserts() {
            let (st, winner) = match st {
                AssertState::Winner => ("winner", e.local),
                AssertState::Loser { winner } => ("loser", winner),
                AssertState::NoInfo => continue,
            };
            let _ = write!(
                x,
                "<assert><source>{}</source><group>{g}</group><state>{st}</state><winner>{winner}</winner></assert>",
                s.unwrap_or(any)
            );
        }
        let _ = write!(
            x,
            "<statistics><rx-malformed>{}</rx-malformed></statistics></pim>",
            e.pim_malformed
        );
    }
    if let Some((gi, gv)) = &e.cfg.gate {
        let open = mc.gates.is_open(gi, *gv);
        let _ = write!(
            x,
            "<track-admin-vrrp xmlns=\"{ns}\"><forwarding>{open}</forwarding></track-admin-vrrp>"
        );
    }
}

/// [`Multicast::name_of`], or `if<index>` for an interface that is not ours, for state.
fn display_name(mc: &Multicast, ifindex: u32) -> String {
    mc.name_of(ifindex)
        .unwrap_or_else(|| format!("if{ifindex}"))
}

/// The `multicast/route` list.
pub fn routes(mc: &Multicast, x: &mut String) {
    let table = mc.fwd.snapshot();
    let name_of = |idx: u32| display_name(mc, idx);
    let mut routes: Vec<&Route> = table.routes().collect();
    routes.sort_by_key(|r| (u32::from(r.source), u32::from(r.group)));
    let now = now_ms();
    for r in routes {
        let (p, o) = r.counters.get();
        let since = mc
            .route_since
            .get(&(r.source, r.group))
            .copied()
            .unwrap_or(now);
        let _ = write!(
            x,
            "<route><source>{}</source><group>{}</group><incoming-interface>{}</incoming-interface>",
            r.source,
            r.group,
            name_of(r.iif)
        );
        let upstream = [Some(r.source), None].into_iter().find_map(|s| {
            mc.tib
                .entry(s, r.group)
                .filter(|e| e.upstream_if() == r.iif)
                .and_then(|e| e.upstream_neighbor())
        });
        if let Some(n) = upstream {
            let _ = write!(x, "<upstream-neighbor>{n}</upstream-neighbor>");
        }
        // Every IGMP interface that is not in the route is listed as pruned.
        let mut names: Vec<(String, &str)> = r
            .oifs
            .iter()
            .map(|o| {
                (
                    name_of(o.ifindex),
                    if o.forwarding {
                        "forwarding"
                    } else {
                        "blocked-by-vrrp"
                    },
                )
            })
            .collect();
        // Every IGMP interface, and every PIM interface with downstream state for the group,
        // that is not in the route is listed as pruned.
        for (n, e) in &mc.ifs {
            let downstream = e.ds.as_ref().is_some_and(|d| {
                d.entries().any(|j| j.group() == r.group)
                    || d.rpt_prunes().any(|(_, g)| g == r.group)
            });
            if (e.igmp.is_some() || downstream)
                && e.index != Some(r.iif)
                && !names.iter().any(|(m, _)| m == n)
            {
                names.push((n.clone(), "pruned"));
            }
        }
        names.sort();
        for (n, st) in names {
            let _ = write!(
                x,
                "<outgoing-interface><name>{n}</name><state>{st}</state></outgoing-interface>"
            );
        }
        let _ = write!(
            x,
            "<packets>{p}</packets><octets>{o}</octets><uptime>{}</uptime></route>",
            now.saturating_sub(since) / 1000
        );
    }
}

/// Is there multicast state to report (a forwarder or routes)?
pub fn any(mc: &Multicast) -> bool {
    mc.fwd.running() || !mc.fwd.snapshot().is_empty()
}

/// The `multicast/forwarding-plane` counters.
pub fn forwarding_plane(mc: &Multicast, x: &mut String) {
    let Some(c) = mc.fwd.counters() else { return };
    let _ = write!(
        x,
        "<forwarding-plane><received>{}</received><forwarded>{}</forwarded><rpf-failures>{}</rpf-failures><no-route>{}</no-route><ttl-expired>{}</ttl-expired><malformed>{}</malformed><tx-errors>{}</tx-errors><sources-dropped>{}</sources-dropped>",
        c.received,
        c.forwarded,
        c.rpf_fail,
        c.no_route,
        c.ttl_expired,
        c.malformed,
        c.tx_errors,
        mc.sources.dropped
    );
    let mut ports: Vec<(String, dataplane::ring::RingStats)> = mc
        .fwd
        .ring_stats()
        .into_iter()
        .map(|(idx, st)| (display_name(mc, idx), st))
        .collect();
    ports.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, st) in ports {
        let _ = write!(
            x,
            "<port><name>{name}</name><packets>{}</packets><ring-drops>{}</ring-drops><ring-freezes>{}</ring-freezes></port>",
            st.packets, st.drops, st.freeze_q_cnt
        );
    }
    x.push_str("</forwarding-plane>");
}
