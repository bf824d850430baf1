//! `netconf-state` (RFC 6022 §2): capabilities, datastores with their locks, the schemas
//! get-schema serves, sessions and statistics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use datastore::Target;
use tracing::debug;
use yang::data::{DataError, DataNode, NodeBuilder};

use super::NCM_NS;
use crate::clock::rfc3339;
use crate::netconf::server::{Server, Transport};

pub fn netconf_state(server: &Server) -> Result<DataNode, DataError> {
    let schema = &server.schema;
    let mut state = NodeBuilder::top(schema, NCM_NS, "netconf-state")?;

    let mut caps = state.inner("capabilities")?;
    for c in crate::netconf::capability_uris(schema) {
        caps.leaf("capability", c)?;
    }
    state.push(caps)?;

    let mut datastores = state.inner("datastores")?;
    // Startup is listed whether or not a configuration is saved in it: :startup is advertised,
    // so the datastore exists (it can be locked, copied to, deleted).
    for t in [Target::Running, Target::Candidate, Target::Startup] {
        let mut ds = datastores.inner("datastore")?;
        ds.leaf("name", t.name())?;
        if let Some(holder) = server.store.lock_holder(t) {
            let mut locks = ds.inner("locks")?;
            let mut lock = locks.inner("global-lock")?;
            lock.leaf("locked-by-session", holder)?.leaf(
                "locked-time",
                rfc3339(server.store.lock_time_ms(t).unwrap_or(0)),
            )?;
            locks.push(lock)?;
            ds.push(locks)?;
        }
        datastores.push(ds)?;
    }
    state.push(datastores)?;

    // Every module and submodule text the server has, which get-schema returns.
    let mut schemas = state.inner("schemas")?;
    for src in &schema.sources {
        let ns = schema
            .module_by_name(&src.module)
            .map(|m| schema.module(m).namespace.as_str())
            .unwrap_or_default();
        let mut entry = schemas.inner("schema")?;
        entry
            .leaf("identifier", &src.name)?
            .leaf("version", src.revision.as_deref().unwrap_or(""))?
            .leaf("format", "yang")?
            .leaf("namespace", ns)?
            .leaf("location", "NETCONF")?;
        schemas.push(entry)?;
    }
    state.push(schemas)?;

    let mut sessions = state.inner("sessions")?;
    let netconf = server
        .sessions()
        .into_iter()
        .filter(|(_, s)| s.transport == Transport::NetconfSsh);
    for (id, s) in netconf {
        let mut session = sessions.inner("session")?;
        session
            .leaf("session-id", id)?
            .leaf("transport", "netconf-ssh")?
            .leaf("username", &s.user)?;
        // The peer's address, as the SSH server saw it; a host the type refuses is left out.
        if !s.source_host.is_empty() {
            if let Err(e) = session.leaf("source-host", &s.source_host) {
                debug!(session = id, error = %e, "source-host left out of netconf-state");
            }
        }
        session.leaf("login-time", rfc3339(s.login_ms))?;
        counters(
            &mut session,
            [
                &s.in_rpcs,
                &s.in_bad_rpcs,
                &s.out_rpc_errors,
                &s.out_notifications,
            ],
        )?;
        sessions.push(session)?;
    }
    state.push(sessions)?;

    let st = &server.stats;
    let mut statistics = state.inner("statistics")?;
    statistics
        .leaf("netconf-start-time", rfc3339(st.start_ms))?
        .leaf("in-bad-hellos", counter32(&st.in_bad_hellos))?
        .leaf("in-sessions", counter32(&st.in_sessions))?
        .leaf("dropped-sessions", counter32(&st.dropped_sessions))?;
    counters(
        &mut statistics,
        [
            &st.in_rpcs,
            &st.in_bad_rpcs,
            &st.out_rpc_errors,
            &st.out_notifications,
        ],
    )?;
    state.push(statistics)?;
    Ok(state.finish())
}

/// The `common-counters` grouping: in-rpcs, in-bad-rpcs, out-rpc-errors, out-notifications.
fn counters(node: &mut NodeBuilder<'_>, values: [&AtomicU64; 4]) -> Result<(), DataError> {
    let names = [
        "in-rpcs",
        "in-bad-rpcs",
        "out-rpc-errors",
        "out-notifications",
    ];
    for (name, value) in names.into_iter().zip(values) {
        node.leaf(name, counter32(value))?;
    }
    Ok(())
}

/// A zero-based-counter32 wraps at 2^32 (RFC 6991 §3); the server counts in 64 bits.
fn counter32(a: &AtomicU64) -> u32 {
    a.load(Relaxed) as u32
}
