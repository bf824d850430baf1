//! Internet Group Management Protocol, router side (IGMPv2 RFC 2236, IGMPv3
//! RFC 3376 §6 with the compatibility rules of §7), protocol core without
//! I/O.
//!
//! [`packet`] encodes and decodes IGMP messages (the payload after the IPv4
//! header); [`iface`] runs one router interface: querier election, queries,
//! and the per-group membership state that multicast routing reads through
//! [`iface::Interface::wants`]. Like the other engines it is driven by the
//! caller with explicit `now` instants and answers with [`iface::Action`]s.

pub mod iface;
pub mod packet;
