//! What the IGMP and PIM cores of the multicast interfaces decide, turned into the table's
//! [`IfEvent`]s: messages become Ethernet frames (built with the interface's MAC and address),
//! membership, neighbor, DR, Assert and downstream changes become "compute the routes again",
//! a neighbor that came up is named so the upstream state joins toward it again.

use std::net::Ipv4Addr;

use tracing::{debug, info};

use super::interfaces::{IfEvent, Interfaces, IGMP_PROTO, PIM_PROTO};
use crate::engines::igmp::iface::Action as IgmpAction;
use crate::engines::pim::downstream::Action as DsAction;
use crate::engines::pim::iface::Action as PimAction;
use crate::engines::pim::packet::{Message as PimMessage, ALL_PIM_ROUTERS};

/// The Ethernet multicast address of an IPv4 group (RFC 1112 §6.4).
pub(super) fn group_mac(g: Ipv4Addr) -> [u8; 6] {
    let o = g.octets();
    [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
}

impl Interfaces {
    /// An IGMP/PIM message out of `name` (TTL 1; IGMP with the Router Alert option, RFC 2113),
    /// as an Ethernet frame; none while the interface is down or has no address.
    pub fn frame(&self, name: &str, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Option<Vec<u8>> {
        let e = self.get(name)?;
        if !e.up || e.local.is_unspecified() {
            return None;
        }
        let options: &[u8] = if proto == IGMP_PROTO {
            &[0x94, 0x04, 0x00, 0x00]
        } else {
            &[]
        };
        Some(dataplane::wire::ipv4_frame(
            e.mac,
            group_mac(dst),
            e.local,
            dst,
            1,
            proto,
            options,
            payload,
        ))
    }

    pub(super) fn send(&mut self, name: &str, dst: Ipv4Addr, proto: u8, payload: &[u8]) {
        if let Some(frame) = self.frame(name, dst, proto, payload) {
            self.push(IfEvent::Frame {
                interface: name.to_string(),
                frame,
            });
        }
    }

    pub(super) fn ds_actions(&mut self, name: &str, actions: Vec<DsAction>) {
        for a in actions {
            match a {
                DsAction::Changed {
                    source,
                    group,
                    joined,
                } => {
                    info!(interface = %name, source = ?source, group = %group, joined, "PIM downstream join state");
                    self.push(IfEvent::Changed);
                }
                DsAction::RptChanged {
                    source,
                    group,
                    pruned,
                } => {
                    info!(interface = %name, source = %source, group = %group, pruned, "PIM (S,G,rpt) prune state");
                    self.push(IfEvent::Changed);
                }
                DsAction::Send(jp) => self.send(
                    name,
                    ALL_PIM_ROUTERS,
                    PIM_PROTO,
                    &PimMessage::JoinPrune(jp).encode(),
                ),
            }
        }
    }

    pub(super) fn igmp_actions(&mut self, name: &str, actions: Vec<IgmpAction>) {
        let mut membership = false;
        for a in actions {
            match a {
                IgmpAction::Send { dst, msg } => self.send(name, dst, IGMP_PROTO, &msg.encode()),
                IgmpAction::Membership { group } => {
                    debug!(interface = %name, group = %group, "IGMP membership changed");
                    membership = true;
                }
                IgmpAction::QuerierChange {
                    querier,
                    is_querier,
                } => {
                    info!(interface = %name, querier = ?querier, is_querier, "IGMP querier");
                }
            }
        }
        if membership {
            self.push(IfEvent::Changed);
        }
    }

    pub(super) fn pim_actions(&mut self, name: &str, actions: Vec<PimAction>) {
        let mut changed = false;
        for a in actions {
            match a {
                PimAction::Send { dst, msg } => self.send(name, dst, PIM_PROTO, &msg.encode()),
                PimAction::NeighborUp(n) => {
                    info!(interface = %name, neighbor = %n, "PIM neighbor up");
                    self.push(IfEvent::NeighborUp(n));
                    self.push(IfEvent::NewNeighbor {
                        interface: name.to_string(),
                        neighbor: n,
                    });
                    changed = true;
                }
                PimAction::NeighborDown(n) => {
                    info!(interface = %name, neighbor = %n, "PIM neighbor down");
                    changed = true;
                }
                PimAction::DrChange { dr, is_dr } => {
                    info!(interface = %name, dr = %dr, is_dr, "PIM DR");
                    changed = true;
                }
                PimAction::AssertWon { source, group } => {
                    info!(interface = %name, source = ?source, group = %group, "PIM assert won");
                    changed = true;
                }
                PimAction::AssertLost {
                    source,
                    group,
                    winner,
                } => {
                    info!(interface = %name, source = ?source, group = %group, winner = %winner, "PIM assert lost");
                    changed = true;
                }
                PimAction::AssertCleared { source, group } => {
                    debug!(interface = %name, source = ?source, group = %group, "PIM assert cleared");
                    changed = true;
                }
            }
        }
        if changed {
            self.push(IfEvent::Changed);
        }
    }
}
