//! The kernel's network devices as rtnetlink reports them: links, IPv4 addresses and ARP
//! entries, read whole at start (and after lost events) and kept current from events. The
//! table says what an event batch changed; the protocol thread decides what follows.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use dataplane::netlink::{self, Addr, Event, Link, Neighbour, Resolution, Route};
use tracing::{debug, warn};

/// The links, addresses and neighbours.
#[derive(Default)]
pub struct Netdevs {
    pub links: BTreeMap<String, Link>,
    pub addrs: Vec<Addr>,
    /// IPv4 neighbour (ARP) entries: whether a single-hop BFD packet to a peer leaves at once
    /// or waits for resolution.
    pub neighbours: HashMap<(u32, Ipv4Addr), Resolution>,
}

/// What one batch of events changed.
#[derive(Default)]
pub struct Changes {
    /// Links that came into existence.
    pub appeared: Vec<String>,
    /// Links whose oper or admin state changed, or that went away.
    pub link_changed: bool,
    /// Links reported oper up (whether or not that is a change: a link the agent set up may
    /// have been up already when it looked).
    pub reported_up: Vec<String>,
    /// Links that went away.
    pub removed: Vec<String>,
    /// Addresses came or went, or nexthop objects changed: the kernel may drop routes without
    /// a notification for each.
    pub topology_changed: bool,
    /// Any link or address event, whether or not it changed anything.
    pub links_seen: bool,
    pub routes: Vec<(Route, bool, bool)>,
    pub neighbours: Vec<Neighbour>,
}

impl Netdevs {
    /// Read every link, address and neighbour again.
    pub fn resync(&mut self, h: &mut netlink::Handle) {
        match (h.links(), h.addrs()) {
            (Ok(links), Ok(addrs)) => {
                self.links = links.into_iter().map(|l| (l.name.clone(), l)).collect();
                self.addrs = addrs;
            }
            (Err(e), _) | (_, Err(e)) => warn!(error = %e, "cannot read interfaces"),
        }
        match h.neighbours() {
            Ok(ns) => {
                self.neighbours = ns
                    .into_iter()
                    .map(|n| ((n.index, n.ip), n.resolution))
                    .collect();
            }
            Err(e) => warn!(error = %e, "cannot read the ARP table"),
        }
    }

    /// Take a batch of events.
    pub fn apply(&mut self, events: Vec<Event>) -> Changes {
        let mut c = Changes::default();
        for ev in events {
            c.links_seen |= matches!(
                ev,
                Event::Link(_)
                    | Event::LinkRemoved { .. }
                    | Event::AddrAdded(_)
                    | Event::AddrRemoved(_)
            );
            match ev {
                Event::Link(l) => {
                    let name = l.name.clone();
                    let up = l.oper_up;
                    match self.links.insert(name.clone(), l) {
                        None => c.appeared.push(name.clone()),
                        Some(p) => {
                            let now = &self.links[&name];
                            if p.oper_up != now.oper_up || p.admin_up != now.admin_up {
                                debug!(interface = %name, up, "link state");
                                c.link_changed = true;
                            }
                        }
                    }
                    if up {
                        c.reported_up.push(name);
                    }
                }
                Event::LinkRemoved { name, .. } => {
                    self.links.remove(&name);
                    c.removed.push(name);
                    c.link_changed = true;
                }
                Event::AddrAdded(a) => {
                    if !self.addrs.contains(&a) {
                        self.addrs.push(a);
                        c.topology_changed = true;
                    }
                }
                Event::AddrRemoved(a) => {
                    c.topology_changed |= self.addrs.contains(&a);
                    self.addrs.retain(|x| *x != a);
                }
                Event::Route {
                    route,
                    removed,
                    replace,
                } => c.routes.push((route, removed, replace)),
                Event::NexthopChanged => c.topology_changed = true,
                Event::Neighbour(n) => {
                    if n.resolution == Resolution::Gone {
                        self.neighbours.remove(&(n.index, n.ip));
                    } else {
                        self.neighbours.insert((n.index, n.ip), n.resolution);
                    }
                    c.neighbours.push(n);
                }
            }
        }
        c
    }

    /// The name of the link with index `index`.
    pub fn name_of(&self, index: u32) -> Option<&str> {
        self.links
            .values()
            .find(|l| l.index == index)
            .map(|l| l.name.as_str())
    }

    /// Is the neighbour `peer` on link `ifname` resolved (its packets leave at once)?
    pub fn resolved(&self, ifname: &str, peer: Ipv4Addr) -> bool {
        self.links
            .get(ifname)
            .is_some_and(|l| self.neighbours.get(&(l.index, peer)) == Some(&Resolution::Resolved))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(name: &str, index: u32, up: bool) -> Link {
        Link {
            index,
            name: name.into(),
            admin_up: true,
            oper_up: up,
            mac: None,
            stats: Default::default(),
        }
    }

    #[test]
    fn a_batch_says_what_changed() {
        let mut t = Netdevs::default();
        let c = t.apply(vec![Event::Link(link("a-up", 2, true))]);
        assert_eq!(c.appeared, vec!["a-up"]);
        assert!(!c.link_changed);
        // The same state again: reported up, not a change.
        let c = t.apply(vec![Event::Link(link("a-up", 2, true))]);
        assert!(c.appeared.is_empty() && !c.link_changed);
        assert_eq!(c.reported_up, vec!["a-up"]);
        let c = t.apply(vec![Event::Link(link("a-up", 2, false))]);
        assert!(c.link_changed && c.reported_up.is_empty());
        let a = Addr {
            index: 2,
            ip: Ipv4Addr::new(10, 1, 0, 1),
            prefix_len: 24,
        };
        assert!(t.apply(vec![Event::AddrAdded(a)]).topology_changed);
        assert!(!t.apply(vec![Event::AddrAdded(a)]).topology_changed);
        assert!(t.apply(vec![Event::AddrRemoved(a)]).topology_changed);
        let c = t.apply(vec![Event::LinkRemoved {
            name: "a-up".into(),
            index: 2,
        }]);
        assert!(c.link_changed);
        assert_eq!(c.removed, vec!["a-up"]);
        assert!(t.links.is_empty());
    }

    #[test]
    fn neighbours_follow_resolution() {
        let mut t = Netdevs::default();
        t.apply(vec![Event::Link(link("a-ic", 3, true))]);
        let peer = Ipv4Addr::new(10, 0, 0, 2);
        let n = |resolution| Neighbour {
            index: 3,
            ip: peer,
            resolution,
        };
        t.apply(vec![Event::Neighbour(n(Resolution::Incomplete))]);
        assert!(!t.resolved("a-ic", peer));
        t.apply(vec![Event::Neighbour(n(Resolution::Resolved))]);
        assert!(t.resolved("a-ic", peer));
        t.apply(vec![Event::Neighbour(n(Resolution::Gone))]);
        assert!(!t.resolved("a-ic", peer));
        assert_eq!(t.name_of(3), Some("a-ic"));
    }
}
