//! The NETCONF server (RFC 6241) over SSH (RFC 6242).

pub mod errors;
pub mod filter;
pub mod framing;
pub mod notify;
pub mod rpc;
pub mod server;
pub mod session;
pub mod ssh;
pub mod state;

/// The NETCONF base namespace.
pub const BASE_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
pub const BASE_11: &str = "urn:ietf:params:netconf:base:1.1";

/// Capabilities announced in the server hello: only what is implemented.
pub fn capabilities() -> Vec<String> {
    [
        "urn:ietf:params:netconf:base:1.0",
        BASE_11,
        "urn:ietf:params:netconf:capability:writable-running:1.0",
        "urn:ietf:params:netconf:capability:candidate:1.0",
        "urn:ietf:params:netconf:capability:confirmed-commit:1.1",
        "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
        "urn:ietf:params:netconf:capability:validate:1.1",
        "urn:ietf:params:netconf:capability:startup:1.0",
        "urn:ietf:params:netconf:capability:xpath:1.0",
        "urn:ietf:params:netconf:capability:notification:1.0",
        "urn:ietf:params:netconf:capability:interleave:1.0",
        "urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit&amp;also-supported=report-all,report-all-tagged,trim",
        // netconf-state and get-schema (the module's state is built in code, RFC 6022).
        "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring?module=ietf-netconf-monitoring&amp;revision=2010-10-04",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
