//! Operational state for `<get>`: built on demand from the datastores (engines add theirs later).

use yang::data::{self, DataError, DataTree, DecodeOptions};
use yang::xml::escape_text;

use super::server::Server;
use crate::clock::rfc3339;

pub const SYSTEM_NS: &str = "urn:ne-agent:yang:ne-system";

/// The state tree: `ne-system:commit-history`.
pub fn tree(server: &Server) -> Result<DataTree, DataError> {
    let mut x = format!("<commit-history xmlns=\"{SYSTEM_NS}\">");
    for c in server.store.history() {
        x.push_str(&format!(
            "<commit><id>{}</id><time>{}</time><user>{}</user><session-id>{}</session-id>",
            c.id,
            rfc3339(c.time_ms),
            escape_text(&c.user),
            c.session
        ));
        if let Some(comment) = &c.comment {
            x.push_str(&format!("<comment>{}</comment>", escape_text(comment)));
        }
        x.push_str(&format!(
            "<change-count>{}</change-count></commit>",
            c.change_count
        ));
    }
    x.push_str("</commit-history>");
    data::decode(&server.schema, &x, DecodeOptions { config_only: false })
}

/// The ietf-netconf-monitoring namespace (RFC 6022).
pub const NCM_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";

/// `netconf-state` (RFC 6022 §2): capabilities, datastores with their locks, schemas, sessions
/// and statistics, built from the live server (the IETF module text is not shipped).
pub fn netconf_state_xml(server: &Server) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    use yang::xml::escape_text as esc;
    let mut x = format!("<netconf-state xmlns=\"{NCM_NS}\"><capabilities>");
    for c in super::capabilities(&server.schema) {
        x.push_str(&format!("<capability>{c}</capability>"));
    }
    x.push_str("</capabilities><datastores>");
    for t in [
        datastore::Target::Running,
        datastore::Target::Candidate,
        datastore::Target::Startup,
    ] {
        // Startup is listed whether or not a configuration is saved in it: :startup is
        // advertised, so the datastore exists (it can be locked, copied to, deleted).
        x.push_str(&format!("<datastore><name>{}</name>", t.name()));
        if let Some(holder) = server.store.lock_holder(t) {
            x.push_str(&format!(
                "<locks><global-lock><locked-by-session>{holder}</locked-by-session><locked-time>{}</locked-time></global-lock></locks>",
                rfc3339(server.store.lock_time_ms(t).unwrap_or(0))
            ));
        }
        x.push_str("</datastore>");
    }
    x.push_str("</datastores><schemas>");
    for src in &server.schema.sources {
        let ns = server
            .schema
            .module_by_name(&src.module)
            .map(|m| server.schema.module(m).namespace.clone())
            .unwrap_or_default();
        x.push_str(&format!(
            "<schema><identifier>{}</identifier><version>{}</version><format>yang</format><namespace>{}</namespace><location>NETCONF</location></schema>",
            esc(&src.name),
            esc(src.revision.as_deref().unwrap_or("")),
            esc(&ns)
        ));
    }
    x.push_str("</schemas><sessions>");
    for (id, s) in server.sessions() {
        x.push_str(&format!(
            "<session><session-id>{id}</session-id><transport>netconf-ssh</transport><username>{}</username>{}<login-time>{}</login-time><in-rpcs>{}</in-rpcs><in-bad-rpcs>{}</in-bad-rpcs><out-rpc-errors>{}</out-rpc-errors><out-notifications>0</out-notifications></session>",
            esc(&s.user),
            if s.source_host.is_empty() {
                String::new()
            } else {
                format!("<source-host>{}</source-host>", esc(&s.source_host))
            },
            rfc3339(s.login_ms),
            s.in_rpcs.load(Relaxed),
            s.in_bad_rpcs.load(Relaxed),
            s.out_rpc_errors.load(Relaxed)
        ));
    }
    let st = &server.stats;
    x.push_str(&format!(
        "</sessions><statistics><netconf-start-time>{}</netconf-start-time><in-bad-hellos>{}</in-bad-hellos><in-sessions>{}</in-sessions><dropped-sessions>{}</dropped-sessions><in-rpcs>{}</in-rpcs><in-bad-rpcs>{}</in-bad-rpcs><out-rpc-errors>{}</out-rpc-errors><out-notifications>0</out-notifications></statistics></netconf-state>",
        rfc3339(st.start_ms),
        st.in_bad_hellos.load(Relaxed),
        st.in_sessions.load(Relaxed),
        st.dropped_sessions.load(Relaxed),
        st.in_rpcs.load(Relaxed),
        st.in_bad_rpcs.load(Relaxed),
        st.out_rpc_errors.load(Relaxed)
    ));
    x
}

pub const YANG_LIBRARY_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-yang-library";

/// IETF modules the server implements in code (their texts are not shipped, so get-schema
/// does not serve them): name, revision, namespace.
const BUILT_IN: [(&str, &str, &str); 6] = [
    (
        "ietf-datastores",
        "2018-02-14",
        "urn:ietf:params:xml:ns:yang:ietf-datastores",
    ),
    (
        "ietf-netconf-monitoring",
        "2010-10-04",
        "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring",
    ),
    (
        "ietf-netconf-notifications",
        "2012-02-06",
        "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications",
    ),
    (
        "ietf-netconf-with-defaults",
        "2011-06-01",
        "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults",
    ),
    (
        "ietf-yang-library",
        "2019-01-04",
        "urn:ietf:params:xml:ns:yang:ietf-yang-library",
    ),
    (
        "notifications",
        "2008-07-14",
        "urn:ietf:params:xml:ns:netconf:notification:1.0",
    ),
];

/// An identifier of the module set: FNV-1a over every module's name, revision and features.
pub fn module_set_id(schema: &yang::Schema) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for m in &schema.modules {
        let text = format!(
            "{}@{}:{};",
            m.name,
            m.revision.as_deref().unwrap_or(""),
            m.enabled_features.join(",")
        );
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The YANG library (RFC 8525 `yang-library`, and RFC 7895 `modules-state`, which RFC 8525
/// keeps for clients that predate NMDA): every module the agent knows, implemented or only
/// imported, with its features and submodules. Built in code; the IETF module text is not
/// shipped.
pub fn yang_library_xml(server: &Server) -> Vec<String> {
    let schema = &server.schema;
    let id = module_set_id(schema);
    let mut lib = format!("<yang-library xmlns=\"{YANG_LIBRARY_NS}\"><module-set><name>all</name>");
    let mut legacy =
        format!("<modules-state xmlns=\"{YANG_LIBRARY_NS}\"><module-set-id>{id}</module-set-id>");
    let mut modules: Vec<&yang::schema::Module> = schema.modules.iter().collect();
    modules.sort_by(|a, b| a.name.cmp(&b.name));
    for (name, rev, ns) in BUILT_IN {
        lib.push_str(&format!(
            "<module><name>{name}</name><revision>{rev}</revision><namespace>{ns}</namespace></module>"
        ));
        legacy.push_str(&format!(
            "<module><name>{name}</name><revision>{rev}</revision><namespace>{ns}</namespace>\
             <conformance-type>implement</conformance-type></module>"
        ));
    }
    for m in &modules {
        let rev = m.revision.as_deref().unwrap_or("");
        let features: String = m
            .enabled_features
            .iter()
            .map(|f| format!("<feature>{}</feature>", escape_text(f)))
            .collect();
        let deviations = m.deviated_by.iter().map(|&d| schema.module(d));
        let (deviation_names, deviation_entries): (String, String) = deviations
            .map(|d| {
                let name = escape_text(&d.name);
                let rev = d.revision.as_deref().unwrap_or("");
                (
                    format!("<deviation>{name}</deviation>"),
                    format!("<deviation><name>{name}</name><revision>{rev}</revision></deviation>"),
                )
            })
            .unzip();
        let subs: String = m
            .submodules
            .iter()
            .map(|s| format!("<submodule><name>{}</name></submodule>", escape_text(s)))
            .collect();
        let tag = if m.implemented {
            "module"
        } else {
            "import-only-module"
        };
        lib.push_str(&format!("<{tag}><name>{}</name>", escape_text(&m.name)));
        if !rev.is_empty() || !m.implemented {
            lib.push_str(&format!("<revision>{rev}</revision>"));
        }
        lib.push_str(&format!(
            "<namespace>{}</namespace>{subs}",
            escape_text(&m.namespace)
        ));
        if m.implemented {
            lib.push_str(&features);
            lib.push_str(&deviation_names);
        }
        lib.push_str(&format!("</{tag}>"));
        legacy.push_str(&format!(
            "<module><name>{}</name><revision>{rev}</revision><namespace>{}</namespace>{features}\
             {deviation_entries}<conformance-type>{}</conformance-type>{subs}</module>",
            escape_text(&m.name),
            escape_text(&m.namespace),
            if m.implemented { "implement" } else { "import" }
        ));
    }
    lib.push_str("</module-set><schema><name>all</name><module-set>all</module-set></schema>");
    for ds in ["running", "candidate", "startup"] {
        lib.push_str(&format!(
            "<datastore><name xmlns:ds=\"urn:ietf:params:xml:ns:yang:ietf-datastores\">ds:{ds}</name><schema>all</schema></datastore>"
        ));
    }
    lib.push_str(&format!("<content-id>{id}</content-id></yang-library>"));
    legacy.push_str("</modules-state>");
    vec![lib, legacy]
}
