//! AF_PACKET TPACKET_V3 rings, batched transmit, the multicast forwarding table and its
//! forwarding threads, raw control sockets and rtnetlink events. The only crate where `unsafe`
//! is allowed. Built by the multicast issue.
