//! The agent's contact with the kernel's network stack: raw control sockets for the protocol
//! engines, rtnetlink link/address events and changes, `poll(2)`, network namespaces, the
//! AF_PACKET TPACKET_V3 receive and transmit rings, the multicast forwarding table and the
//! forwarding thread that reads one and the other, and the wire helpers (checksums, IPv4 framing)
//! every one of them uses. The only crate where `unsafe` is allowed:
//! each block carries a `// SAFETY:` note.

pub mod bpf;
pub mod fastpath;
pub mod forward;
pub mod ingress;
pub mod mfib;
pub mod netlink;
pub mod netns;
pub mod pacing;
pub mod poll;
pub mod register;
pub mod rib;
pub mod ring;
pub mod sock;
#[cfg(test)]
mod testns;
pub mod txring;
pub mod wire;
