//! Reverse paths for the multicast engine (RFC 7761 §4.1.6): a connected subnet of one of our
//! multicast interfaces, else the kernel's unicast route, looked up in the engine's copy of
//! the main table ([`RibCopy`](crate::engines::rib_copy::RibCopy)). The copy is read off the
//! protocol thread ([`Effect::ReadRib`], answered through [`Multicast::rib_loaded`]) and kept
//! current from route notifications.

use std::io;
use std::net::Ipv4Addr;
use std::time::Instant;

use dataplane::netlink::{self, Rib};
use tracing::{debug, warn};

use super::routes::{self, Rpf};
use super::{Effect, Multicast};
use crate::engines::rib_copy::Update;

impl Multicast {
    /// Addresses, links or nexthop objects changed, or route notifications were lost: the
    /// routing table is read again when next needed.
    pub fn routes_changed(&mut self) {
        if self.rib.in_use() {
            self.load_rib();
        }
    }

    /// A route notification: the copy of the table takes the change (or, if it cannot, is read
    /// again) and the routes are recomputed with it.
    pub fn route_event(&mut self, route: netlink::Route, removed: bool, replace: bool) {
        match self.rib.route_event(route, removed, replace) {
            Update::None => {}
            Update::Applied => self.dirty = true,
            Update::Reread => {
                self.load_rib();
                self.dirty = true;
            }
        }
    }

    /// Ask for a fresh copy of the routing table.
    fn load_rib(&mut self) {
        if self.rib.want_read() {
            self.effects.push(Effect::ReadRib);
        }
    }

    /// The routing table cannot be read (no reader could be started): connected sources only,
    /// and no retry (and error) per lookup, until the next routing event asks again.
    pub fn rib_unavailable(&mut self) {
        self.rib.no_reader();
    }

    /// A copy of the routing table is in (at `now`): RPF is computed again with it.
    pub fn rib_loaded(&mut self, r: io::Result<Rib>, now: Instant) {
        let routes = r.as_ref().map_or(0, Rib::len);
        debug!(routes, "routing table read");
        match self.rib.loaded(r) {
            Ok(Some(l)) => self.rib_replaced(l),
            // Brought up to date a chunk at a time ([`Multicast::rib_replay`]), due from now.
            Ok(None) => self.replay_due = Some(now),
            Err((e, again)) => {
                warn!(error = %e, "cannot read the routing table");
                if again {
                    self.load_rib();
                }
                self.dirty = true;
            }
        }
    }

    /// The next chunk of notifications replayed onto a fresh copy of the routing table, if
    /// one is being brought up to date.
    pub(super) fn rib_replay(&mut self) {
        if let Some(l) = self.rib.replay() {
            self.rib_replaced(l);
        }
    }

    /// A fresh copy is in use: RPF is computed again with it.
    fn rib_replaced(&mut self, l: crate::engines::rib_copy::Loaded) {
        debug!(replayed = l.replayed, "routing table copy in use");
        self.replay_due = None;
        if let Some(old) = l.free {
            self.effects.push(Effect::FreeRib(old));
        }
        if l.again {
            self.load_rib();
        }
        self.dirty = true;
    }

    /// A fresh copy is being brought up to date: [`Multicast::on_timer`] is due at once.
    pub(super) fn rib_replaying(&self) -> bool {
        self.rib.is_replaying()
    }

    /// Reverse path toward `addr`: a connected subnet of one of our multicast interfaces, else
    /// the kernel's unicast route if it leaves through one of them.
    pub(super) fn rpf(&mut self, addr: Ipv4Addr) -> Option<Rpf> {
        if let Some(r) = routes::connected_rpf(addr, self.ifs.connected()) {
            return Some(r);
        }
        if !self.rib.has_table() {
            // Read in the background; until it is in, only connected sources have a path.
            if !self.rib.is_reading() {
                self.load_rib();
            }
            return None;
        }
        let route = self.rib.lookup(addr)?;
        let mut r = routes::routed_rpf(route, |i| self.ifs.by_index(i).is_some())?;
        if r.neighbor.is_none() {
            // A route without a gateway toward an address on none of our subnets: the link is
            // point-to-point or unnumbered (`dev tun0`), and the router at its other end is
            // the next hop, so Joins go to that link's only PIM neighbor.
            r.neighbor = self.ifs.pim_at(r.ifindex).and_then(|p| {
                let mut n = p.neighbors();
                match (n.next(), n.next()) {
                    (Some(only), None) => Some(only.address),
                    _ => None,
                }
            });
        }
        Some(r)
    }

    /// The reverse path toward the RP for (*,G) joins: a PIM interface and neighbor (the RP
    /// itself when it is on a connected subnet). `None` when we are the RP or it is not
    /// reached through PIM.
    pub(super) fn rp_path(&mut self, rp: Ipv4Addr) -> Option<Rpf> {
        if self.ifs.is_local(rp) {
            return None;
        }
        let r = self.rpf(rp)?;
        Some(Rpf {
            neighbor: Some(r.neighbor.unwrap_or(rp)),
            ..r
        })
    }
}
