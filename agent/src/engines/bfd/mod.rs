//! Bidirectional Forwarding Detection (RFC 5880, single hop RFC 5881),
//! protocol core without I/O.
//!
//! [`packet`] encodes and decodes Control packets; [`session`] runs one
//! session's state machine, driven by the caller with explicit `now`
//! instants and answering with [`Action`]s.

pub mod io;
pub mod packet;
pub mod session;
pub mod sessions;
