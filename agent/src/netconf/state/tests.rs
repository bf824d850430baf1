//! netconf-state and the YANG library through `<get>`: subtree and XPath filters select inside
//! them exactly as inside any other data.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::{module_set_id, NCM_NS, YANG_LIBRARY_NS};
use crate::clock::rfc3339;
use crate::netconf::rpc::{self, After, Caller, Reply};
use crate::netconf::server::{Limits, Server, SessionGuard};
use crate::netconf::BASE_NS;

struct Fixture {
    server: Arc<Server>,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture(tag: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!("ne-state-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let schema = Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap());
    let (store, _) = datastore::Datastore::open(&dir, Arc::clone(&schema)).unwrap();
    Fixture {
        server: Server::new(schema, Arc::new(store), Limits::default()),
        dir,
    }
}

fn call(server: &Server, session: &SessionGuard, body: &str) -> Reply {
    let rpc = yang::xml::parse(&format!(
        "<rpc message-id=\"1\" xmlns=\"{BASE_NS}\">{body}</rpc>"
    ))
    .unwrap();
    let caller = Caller {
        id: session.id,
        user: &session.info.user,
        subscribed: false,
    };
    rpc::handle(server, &caller, &rpc)
}

/// The `<data>` element of a successful reply.
fn data(reply: &Reply) -> &str {
    assert!(!reply.is_error, "{}", reply.xml);
    let at = reply.xml.find("<data").expect("data");
    reply.xml[at..].trim_end_matches("</rpc-reply>")
}

fn subtree(filter: &str) -> String {
    format!("<get><filter type=\"subtree\">{filter}</filter></get>")
}

fn xpath(select: &str) -> String {
    format!(
        "<get><filter type=\"xpath\" xmlns:ncm=\"{NCM_NS}\" xmlns:yl=\"{YANG_LIBRARY_NS}\" select=\"{select}\"/></get>"
    )
}

/// Two sessions, the second locking candidate.
fn two_sessions(f: &Fixture) -> (SessionGuard, SessionGuard) {
    let a = f.server.register("alice", "192.0.2.1").unwrap();
    let b = f.server.register("bob", "2001:db8::7").unwrap();
    let locked = call(&f.server, &b, "<lock><target><candidate/></target></lock>");
    assert!(!locked.is_error, "{}", locked.xml);
    (a, b)
}

#[test]
fn subtree_filter_selects_one_session() {
    let f = fixture("session");
    let (a, b) = two_sessions(&f);
    b.info.in_rpcs.store(5, Relaxed);
    b.info.out_rpc_errors.store(2, Relaxed);
    let reply = call(
        &f.server,
        &a,
        &subtree(&format!(
            "<netconf-state xmlns=\"{NCM_NS}\"><sessions><session><session-id>{}</session-id></session></sessions></netconf-state>",
            b.id
        )),
    );
    assert_eq!(
        data(&reply),
        format!(
            "<data><netconf-state xmlns=\"{NCM_NS}\"><sessions><session><session-id>{}</session-id>\
             <transport xmlns:ncm=\"{NCM_NS}\">ncm:netconf-ssh</transport><username>bob</username>\
             <source-host>2001:db8::7</source-host><login-time>{}</login-time><in-rpcs>5</in-rpcs>\
             <in-bad-rpcs>0</in-bad-rpcs><out-rpc-errors>2</out-rpc-errors>\
             <out-notifications>0</out-notifications></session></sessions></netconf-state></data>",
            b.id,
            rfc3339(b.info.login_ms)
        )
    );
}

#[test]
fn subtree_filter_selects_a_datastore_lock() {
    let f = fixture("lock");
    let (a, b) = two_sessions(&f);
    let reply = call(
        &f.server,
        &a,
        &subtree(&format!(
            "<netconf-state xmlns=\"{NCM_NS}\"><datastores><datastore><name>candidate</name><locks/></datastore></datastores></netconf-state>"
        )),
    );
    let time = rfc3339(
        f.server
            .store
            .lock_time_ms(datastore::Target::Candidate)
            .unwrap(),
    );
    assert_eq!(
        data(&reply),
        format!(
            "<data><netconf-state xmlns=\"{NCM_NS}\"><datastores><datastore><name>candidate</name>\
             <locks><global-lock><locked-by-session>{}</locked-by-session><locked-time>{time}</locked-time>\
             </global-lock></locks></datastore></datastores></netconf-state></data>",
            b.id
        )
    );
}

#[test]
fn xpath_filter_selects_the_statistics() {
    let f = fixture("stats");
    let (a, _b) = two_sessions(&f);
    let st = &f.server.stats;
    st.in_rpcs.store(7, Relaxed);
    st.in_bad_rpcs.store(1, Relaxed);
    st.out_rpc_errors.store(3, Relaxed);
    // A counter32 wraps (RFC 6991 zero-based-counter32).
    st.in_bad_hellos.store((1 << 32) + 4, Relaxed);
    let reply = call(&f.server, &a, &xpath("/ncm:netconf-state/ncm:statistics"));
    assert_eq!(
        data(&reply),
        format!(
            "<data><netconf-state xmlns=\"{NCM_NS}\"><statistics><netconf-start-time>{}</netconf-start-time>\
             <in-bad-hellos>4</in-bad-hellos><in-sessions>2</in-sessions><dropped-sessions>0</dropped-sessions>\
             <in-rpcs>7</in-rpcs><in-bad-rpcs>1</in-bad-rpcs><out-rpc-errors>3</out-rpc-errors>\
             <out-notifications>0</out-notifications></statistics></netconf-state></data>",
            rfc3339(st.start_ms)
        )
    );
}

#[test]
fn xpath_filter_selects_inside_a_session_and_a_schema_with_their_keys() {
    let f = fixture("xpath");
    let (a, b) = two_sessions(&f);
    let reply = call(
        &f.server,
        &a,
        &xpath(&format!(
            "/ncm:netconf-state/ncm:sessions/ncm:session[ncm:session-id={}]/ncm:username",
            b.id
        )),
    );
    assert_eq!(
        data(&reply),
        format!(
            "<data><netconf-state xmlns=\"{NCM_NS}\"><sessions><session><session-id>{}</session-id>\
             <username>bob</username></session></sessions></netconf-state></data>",
            b.id
        )
    );
    // Unprefixed names match in any namespace; the schema list keeps its three keys.
    let reply = call(
        &f.server,
        &a,
        &xpath("/netconf-state/schemas/schema[identifier='ietf-datastores']/location"),
    );
    assert_eq!(
        data(&reply),
        format!(
            "<data><netconf-state xmlns=\"{NCM_NS}\"><schemas><schema><identifier>ietf-datastores</identifier>\
             <version>2018-02-14</version><format xmlns:ncm=\"{NCM_NS}\">ncm:yang</format>\
             <location>NETCONF</location></schema></schemas></netconf-state></data>"
        )
    );
    // Nothing selected: no netconf-state at all.
    let reply = call(&f.server, &a, &xpath("/ncm:netconf-state/ncm:bogus"));
    assert_eq!(data(&reply), "<data></data>");
}

#[test]
fn filters_select_inside_the_yang_library() {
    let f = fixture("yanglib");
    let (a, _b) = two_sessions(&f);
    let reply = call(
        &f.server,
        &a,
        &subtree(&format!(
            "<yang-library xmlns=\"{YANG_LIBRARY_NS}\"><module-set><module><name>ietf-system</name></module></module-set></yang-library>"
        )),
    );
    assert_eq!(
        data(&reply),
        format!(
            "<data><yang-library xmlns=\"{YANG_LIBRARY_NS}\"><module-set><name>all</name><module>\
             <name>ietf-system</name><revision>2014-08-06</revision>\
             <namespace>urn:ietf:params:xml:ns:yang:ietf-system</namespace>\
             <feature>authentication</feature><feature>local-users</feature>\
             <deviation>ne-system-deviations</deviation></module></module-set></yang-library></data>"
        )
    );
    let ds = "urn:ietf:params:xml:ns:yang:ietf-datastores";
    let reply = call(&f.server, &a, &xpath("/yl:yang-library/yl:datastore"));
    let entry = |name: &str| {
        format!(
            "<datastore><name xmlns:ds=\"{ds}\">ds:{name}</name><schema>all</schema></datastore>"
        )
    };
    assert_eq!(
        data(&reply),
        format!(
            "<data><yang-library xmlns=\"{YANG_LIBRARY_NS}\">{}{}{}</yang-library></data>",
            entry("candidate"),
            entry("running"),
            entry("startup")
        )
    );
    let reply = call(&f.server, &a, &xpath("/yl:yang-library/yl:content-id"));
    assert_eq!(
        data(&reply),
        format!(
            "<data><yang-library xmlns=\"{YANG_LIBRARY_NS}\"><content-id>{}</content-id></yang-library></data>",
            module_set_id(&f.server.schema)
        )
    );
    let reply = call(
        &f.server,
        &a,
        &xpath("/yl:modules-state/yl:module[yl:name='ietf-inet-types']/yl:conformance-type"),
    );
    assert_eq!(
        data(&reply),
        format!(
            "<data><modules-state xmlns=\"{YANG_LIBRARY_NS}\"><module><name>ietf-inet-types</name>\
             <revision>2013-07-15</revision><conformance-type>import</conformance-type></module>\
             </modules-state></data>"
        )
    );
}

/// Every module the server has a text of is in both libraries and in netconf-state's schemas,
/// and the three it implements in code are listed as implemented without a schema entry.
#[test]
fn every_module_is_listed() {
    let f = fixture("all");
    let (a, _b) = two_sessions(&f);
    let reply = call(&f.server, &a, "<get/>");
    let all = data(&reply);
    for m in &f.server.schema.modules {
        let name = format!("<name>{}</name>", m.name);
        assert!(
            all.matches(&name).count() >= 2,
            "{} in both libraries",
            m.name
        );
        let schema = format!("<identifier>{}</identifier>", m.name);
        assert!(all.contains(&schema), "{} in schemas", m.name);
    }
    for built_in in ["ietf-netconf-notifications", "ietf-netconf-with-defaults"] {
        assert_eq!(all.matches(&format!("<name>{built_in}</name>")).count(), 2);
        assert!(!all.contains(&format!("<identifier>{built_in}</identifier>")));
    }
    // The hello's capabilities, as netconf-state lists them.
    for c in crate::netconf::capabilities(&f.server.schema) {
        assert!(
            all.contains(&format!("<capability>{c}</capability>")),
            "{c}"
        );
    }
}

#[test]
fn reply_says_whether_it_is_an_error() {
    let f = fixture("reply");
    let (a, _b) = two_sessions(&f);
    let ok = call(&f.server, &a, "<lock><target><running/></target></lock>");
    assert!(!ok.is_error && ok.xml.contains("<ok/>"), "{}", ok.xml);
    assert_eq!(ok.after, After::Continue);
    // Candidate is locked by the other session.
    let denied = call(&f.server, &a, "<lock><target><candidate/></target></lock>");
    assert!(denied.is_error, "{}", denied.xml);
    assert!(denied.xml.contains("<error-tag>lock-denied</error-tag>"));
    let close = call(&f.server, &a, "<close-session/>");
    assert!(!close.is_error);
    assert_eq!(close.after, After::Close);
}

/// get-schema serves the texts of the modules the server reports itself with.
#[test]
fn get_schema_serves_the_monitoring_and_library_modules() {
    let f = fixture("get-schema");
    let (a, _b) = two_sessions(&f);
    for (name, version) in [
        ("ietf-netconf-monitoring", "2010-10-04"),
        ("ietf-yang-library", "2019-01-04"),
        ("ietf-datastores", "2018-02-14"),
    ] {
        let reply = call(
            &f.server,
            &a,
            &format!(
                "<get-schema xmlns=\"{NCM_NS}\"><identifier>{name}</identifier><version>{version}</version><format>yang</format></get-schema>"
            ),
        );
        assert!(
            data(&reply).contains(&format!("module {name} {{")),
            "{}",
            reply.xml
        );
    }
}

#[test]
fn a_scoped_state_holds_only_the_trees_of_its_module() {
    let f = fixture("scope");
    let schema = &f.server.schema;
    let namespaces = |t: &yang::data::DataTree| -> Vec<String> {
        t.roots
            .iter()
            .map(|r| schema.namespace_of(r.schema).to_string())
            .collect()
    };
    let all = super::tree(&f.server).unwrap();
    assert_eq!(all.roots.len(), 5, "{:?}", namespaces(&all));
    let library = super::tree_of(&f.server, Some(YANG_LIBRARY_NS)).unwrap();
    assert_eq!(namespaces(&library), [YANG_LIBRARY_NS, YANG_LIBRARY_NS]);
    let ncm = super::tree_of(&f.server, Some(NCM_NS)).unwrap();
    assert_eq!(namespaces(&ncm), [NCM_NS]);
    // Each scoped tree is the part of the whole one with its namespace.
    for (ns, part) in [(YANG_LIBRARY_NS, &library), (NCM_NS, &ncm)] {
        let whole: Vec<_> = all
            .roots
            .iter()
            .filter(|r| schema.namespace_of(r.schema) == ns)
            .collect();
        assert_eq!(whole.len(), part.roots.len());
    }
    // The engines' modules hold none of the management plane's state.
    let other = super::tree_of(&f.server, Some("urn:ne-agent:yang:ne-monitor-group")).unwrap();
    assert!(other.is_empty());
}
