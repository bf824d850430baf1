//! VRRP (Virtual Router Redundancy Protocol) for IPv4: version 3 (RFC 9568)
//! and version 2 (RFC 3768).
//!
//! This is the sans-I/O core: [`packet`] encodes and decodes advertisements
//! and the ARP/Ethernet frames sent for the virtual MAC, and [`group`] runs
//! the per-virtual-router state machine (RFC 9568 §6.4). Neither touches a
//! socket or a clock: callers pass `now` and carry out the returned
//! [`Action`]s.

pub mod group;
pub mod groups;
pub mod io;
pub mod packet;
