//! The NETCONF server (RFC 6241) over SSH (RFC 6242).

pub mod errors;
pub mod event_filter;
pub mod filter;
pub mod framing;
pub mod notify;
pub mod rpc;
pub mod server;
pub mod session;
pub mod ssh;
pub mod state;
pub mod tcp;

/// The NETCONF base namespace.
pub const BASE_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
pub const BASE_11: &str = "urn:ietf:params:netconf:base:1.1";

/// Capabilities announced in the server hello, as XML text: only what is implemented.
pub fn capabilities(schema: &yang::Schema) -> Vec<String> {
    capability_uris(schema)
        .iter()
        .map(|c| yang::xml::escape_text(c))
        .collect()
}

/// The capability URIs (RFC 6241 §8), also listed in netconf-state (RFC 6022).
pub fn capability_uris(schema: &yang::Schema) -> Vec<String> {
    let mut caps: Vec<String> = [
        "urn:ietf:params:netconf:base:1.0",
        BASE_11,
        "urn:ietf:params:netconf:capability:writable-running:1.0",
        "urn:ietf:params:netconf:capability:candidate:1.0",
        // 1.0 beside 1.1 (RFC 6241 §8.4.4 allows both): orchestrators such as Cisco NSO pick
        // their transaction mode from the 1.0 capability. 1.0's semantics are 1.1's without
        // persist; the server accepts both forms.
        "urn:ietf:params:netconf:capability:confirmed-commit:1.0",
        "urn:ietf:params:netconf:capability:confirmed-commit:1.1",
        "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
        "urn:ietf:params:netconf:capability:validate:1.1",
        "urn:ietf:params:netconf:capability:startup:1.0",
        "urn:ietf:params:netconf:capability:xpath:1.0",
        "urn:ietf:params:netconf:capability:notification:1.0",
        "urn:ietf:params:netconf:capability:interleave:1.0",
        "urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit&also-supported=report-all,report-all-tagged,trim",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // YANG 1.1 modules are announced through the YANG library (RFC 7950 §5.6.4); YANG 1.0
    // modules also as module capabilities (RFC 6020 §5.6.4), ietf-netconf-monitoring among
    // them (netconf-state and get-schema).
    caps.push(format!(
        "urn:ietf:params:netconf:capability:yang-library:1.0?revision=2016-06-21&module-set-id={}",
        state::module_set_id(schema)
    ));
    for m in schema.modules.iter().filter(|m| m.yang_version != "1.1") {
        let mut c = format!("{}?module={}", m.namespace, m.name);
        if let Some(r) = &m.revision {
            c.push_str(&format!("&revision={r}"));
        }
        if !m.enabled_features.is_empty() {
            c.push_str(&format!("&features={}", m.enabled_features.join(",")));
        }
        if !m.deviated_by.is_empty() {
            let names: Vec<&str> = m
                .deviated_by
                .iter()
                .map(|&d| schema.module(d).name.as_str())
                .collect();
            c.push_str(&format!("&deviations={}", names.join(",")));
        }
        caps.push(c);
    }
    caps
}

#[cfg(test)]
mod tests {
    /// YANG 1.0 modules are announced with their features and deviations (RFC 6020 §5.6.4).
    #[test]
    fn module_capabilities_carry_features_and_deviations() {
        let schema = yang::SchemaBuilder::new().embedded().build().unwrap();
        let caps = super::capabilities(&schema);
        for expected in [
            "urn:ietf:params:xml:ns:yang:ietf-system?module=ietf-system&amp;revision=2014-08-06&amp;features=authentication,local-users&amp;deviations=ne-system-deviations",
            "urn:ietf:params:xml:ns:yang:ietf-netconf-acm?module=ietf-netconf-acm&amp;revision=2018-02-14",
            "urn:ietf:params:xml:ns:yang:iana-crypt-hash?module=iana-crypt-hash&amp;revision=2014-08-06",
            "urn:ne-agent:yang:ne-system-deviations?module=ne-system-deviations&amp;revision=2026-12-07",
        ] {
            assert!(caps.iter().any(|c| c == expected), "{expected} not in {caps:#?}");
        }
    }
}
