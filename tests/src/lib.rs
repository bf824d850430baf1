//! ne-lab: end-to-end tests that drive the real `ne-agent` binary and real tools (pyang today;
//! the namespace lab, NETCONF clients and protocol peers as they arrive).

pub mod lab;
pub mod lineup;
pub mod netconf;
pub mod peers;
pub mod vm;
