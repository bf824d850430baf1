//! The agent's contact with the kernel's network stack: raw control sockets for the protocol
//! engines, rtnetlink link/address events and changes, `poll(2)`, network namespaces; later the
//! AF_PACKET TPACKET_V3 rings, batched transmit, the multicast forwarding table and its
//! forwarding threads. The only crate where `unsafe` is allowed: each block carries a
//! `// SAFETY:` note.

pub mod netlink;
pub mod netns;
pub mod poll;
pub mod sock;
