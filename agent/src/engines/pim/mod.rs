//! PIM-SM (Protocol Independent Multicast - Sparse Mode, RFC 7761) for IPv4,
//! reduced to what a first-hop/last-hop router pair needs in the "IGMP
//! dual-device hot backup" scenario: both routers learn receivers through
//! IGMP and pull the traffic from an upstream PIM router by Join, the VRRP
//! backup too (`pim ignore dr-state`), with Asserts switched off on the
//! downstream interface (`pim ignore assert-state`).
//!
//! This is the sans-I/O core, in the style of the BFD and VRRP engines: no
//! socket, no clock. Every entry point takes `now` and returns actions for
//! the caller to carry out; the caller calls `on_timer` at `next_deadline`.
//!
//! * [`packet`] encodes and decodes PIM version 2 messages (RFC 7761 §4.9):
//!   Hello, Join/Prune and Assert as [`packet::Message`]; Register,
//!   Register-Stop, Bootstrap and Candidate-RP-Advertisement too through
//!   [`packet::Pdu`] ([`packet::Message::decode`] still refuses them).
//! * [`iface`] runs one PIM interface: periodic and triggered Hellos,
//!   the neighbor table, DR election (§4.3) and a per-route Assert state
//!   machine (§4.6, simplified; see there), with the two vendor knobs.
//! * [`tib`] holds the upstream join state (§4.5.5, §4.5.6, simplified):
//!   per (*,G) toward RP(G) (the static RP, or one per group from the BSR)
//!   and per (S,G) toward the source, whether it is joined and toward which
//!   RPF neighbor, with periodic Joins, Join suppression, triggered Joins and
//!   Prunes, prune override and reaction to an upstream neighbor's restart.
//! * [`downstream`] holds the downstream join state of one interface
//!   (§4.5.1, §4.5.2): Joins and Prunes other routers send us, with expiry,
//!   Prune-Pending on LANs and PruneEcho, and (S,G,rpt) prunes.
//! * [`register`] is Register/Register-Stop (§4.4): the designated router's
//!   per-(S,G) Register state machine with the Register-Stop Timer and
//!   Null-Register probes, and the RP's decisions on a Register (forward down
//!   the shared tree, Keepalive, join toward the source, Register-Stop).
//! * [`bsr`] is the bootstrap router mechanism (RFC 5059): candidate-BSR
//!   election, the non-candidate side, the RP set assembled from
//!   Candidate-RP-Advertisements and spread in (fragmented) Bootstrap
//!   messages, candidate-RP advertising.
//! * [`rp_set`] is the group-to-RP mapping (§4.7.1) with the §4.7.2 hash.
//!
//! The multicast engine (`engines/mcast/`) combines them: outgoing
//! interfaces from IGMP and downstream joins less assert losers, (S,G) Joins
//! toward sources (SPT switchover at the first packet), Asserts triggered by
//! data arriving on an outgoing interface, RPF' toward an assert winner.
//!
//! Not wired into the engine yet (pure cores with unit tests only; the
//! engine decodes with [`packet::Message`] and so still counts Register,
//! Register-Stop, Bootstrap and C-RP-Adv as unsupported): [`register`],
//! [`bsr`], [`rp_set`] and [`tib::Tib::set_group_rp`]. Until then one
//! static RP serves all groups and sources must be reached by (S,G) Join
//! or sit behind a router that registers them.
//!
//! Not implemented (the caller must not rely on it):
//! * (S,G,rpt) Prunes sent upstream after the SPT switchover (received ones
//!   are honoured by [`downstream`]): the RP tree keeps delivering, and its
//!   copies fail the RPF check where the two trees arrive on different
//!   interfaces;
//! * admin-scoped BSR zones (Z-bit ranges are handled as global ones);
//! * IPv6, PIM-DM, PIM-SSM specifics, BFD for PIM, Hello authentication.
//!
//! Constants are the RFC 7761 §4.11 defaults, which are also the Huawei
//! defaults (hello 30 s, holdtime 105 s, J/P 60 s / 210 s, assert 180 s).

pub mod bsr;
pub mod downstream;
pub mod iface;
pub mod packet;
pub mod register;
pub mod rp_set;
pub mod tib;
