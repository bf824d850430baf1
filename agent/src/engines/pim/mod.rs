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
//!   Hello, Join/Prune and Assert. Register and the other types are rejected
//!   as unsupported.
//! * [`iface`] runs one PIM interface: periodic and triggered Hellos,
//!   the neighbor table, DR election (§4.3) and a per-route Assert state
//!   machine (§4.6, simplified; see there), with the two vendor knobs.
//! * [`tib`] holds the upstream join state (§4.5.5, §4.5.6, simplified):
//!   per (*,G) toward the static RP and per (S,G) toward the source, whether
//!   it is joined and toward which RPF neighbor, with periodic Joins,
//!   triggered Joins and Prunes, prune override and reaction to an upstream
//!   neighbor's restart.
//! * [`downstream`] holds the downstream join state of one interface
//!   (§4.5.1, §4.5.2): Joins and Prunes other routers send us, with expiry,
//!   Prune-Pending on LANs and PruneEcho.
//!
//! The multicast engine (`engines/mcast.rs`) combines them: outgoing
//! interfaces from IGMP and downstream joins less assert losers, (S,G) Joins
//! toward sources (SPT switchover at the first packet), Asserts triggered by
//! data arriving on an outgoing interface.
//!
//! Not implemented (the caller must not rely on it):
//! * Join suppression (we always send our periodic Joins, which is allowed);
//! * Register / Register-Stop (first-hop DR encapsulation toward the RP),
//!   so sources must sit behind a PIM router that registers them, be on a
//!   connected subnet, or be reached by (S,G) Join;
//! * (S,G,rpt) state and RPT prunes after the SPT switchover (the RP tree
//!   keeps delivering; the copies it brings fail the RPF check and are
//!   dropped when the two trees arrive on different interfaces);
//! * BSR, candidate-RP, RP hashing: one static RP for all groups;
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
