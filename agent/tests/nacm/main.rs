//! Access control (RFC 8341) through the NETCONF server's rpc layer: every request is a real
//! `<rpc>` of a registered session of a given user, handled as a session would
//! ([`agent::netconf::rpc::handle`]); no SSH, so each case is deterministic. The recovery user
//! (`admin`) configures the rules and the data; the other users only ever go through NACM.
//!
//! The cases follow what netopeer2's `test_nacm.c` and sysrepo's NACM tests cover: permit and
//! deny by module, by path with list keys, by rpc name and by notification name; group
//! membership (configured and external); rule and rule-list order; the defaults and the
//! `default-deny-*` marks; the recovery user; and RFC 8341 Appendix A's example rule set.

mod appendix_a;
mod config;
mod exec;
mod notifications;
mod read;
mod write;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use agent::netconf::rpc::{self, Caller, Reply};
use agent::netconf::server::{Limits, Server, SessionGuard};

pub const BASE: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
pub const NACM_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";
pub const BFD_NS: &str = "urn:ne-agent:yang:ne-bfd";
pub const IF_NS: &str = "urn:ne-agent:yang:ne-interfaces";
pub const VRRP_NS: &str = "urn:ne-agent:yang:ne-vrrp";
pub const MG_NS: &str = "urn:ne-agent:yang:ne-monitor-group";
pub const SYS_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-system";
pub const NCM_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
pub const NE_SYS_NS: &str = "urn:ne-agent:yang:ne-system";

/// The recovery user.
pub const ADMIN: &str = "admin";

/// A server with its own datastore directory and one session per user.
pub struct Device {
    pub server: Arc<Server>,
    dir: std::path::PathBuf,
    sessions: Mutex<HashMap<String, Arc<SessionGuard>>>,
}

impl Drop for Device {
    fn drop(&mut self) {
        self.sessions.lock().unwrap().clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Device {
    /// A device with the base data ([`BASE_CONFIG`]) committed by the recovery user.
    pub fn new(tag: &str) -> Device {
        let dir = std::env::temp_dir().join(format!("ne-nacm-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let schema = Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap());
        let (store, _) = datastore::Datastore::open(&dir, Arc::clone(&schema)).unwrap();
        let d = Device {
            server: Server::new(schema, Arc::new(store), Limits::default()),
            dir,
            sessions: Mutex::new(HashMap::new()),
        };
        d.ok(ADMIN, &edit("running", BASE_CONFIG));
        d
    }

    /// The session of `user` (made on first use).
    pub fn session(&self, user: &str) -> Arc<SessionGuard> {
        let mut s = self.sessions.lock().unwrap();
        Arc::clone(
            s.entry(user.to_string())
                .or_insert_with(|| Arc::new(self.server.register(user, "192.0.2.9").unwrap())),
        )
    }

    /// One `<rpc>` of `user` with this body.
    pub fn call(&self, user: &str, body: &str) -> Reply {
        let session = self.session(user);
        let rpc = yang::xml::parse(&format!(
            "<rpc message-id=\"1\" xmlns=\"{BASE}\">{body}</rpc>"
        ))
        .unwrap();
        let caller = Caller {
            id: session.id,
            user,
            subscribed: false,
        };
        rpc::handle(&self.server, &caller, &rpc)
    }

    /// A call that must succeed; its reply.
    pub fn ok(&self, user: &str, body: &str) -> String {
        let r = self.call(user, body);
        assert!(!r.is_error, "{user}: {body}\n{}", r.xml);
        r.xml
    }

    /// A call that must be refused with access-denied; its reply.
    pub fn denied(&self, user: &str, body: &str) -> String {
        let r = self.call(user, body);
        assert!(
            r.is_error && r.xml.contains("<error-tag>access-denied</error-tag>"),
            "{user}: {body}\nexpected access-denied, got {}",
            r.xml
        );
        r.xml
    }

    /// Replace `/nacm` (as the recovery user).
    pub fn nacm(&self, content: &str) {
        self.ok(
            ADMIN,
            &edit(
                "running",
                &format!(
                    "<nacm xmlns=\"{NACM_NS}\" xmlns:nc=\"{BASE}\" nc:operation=\"replace\">{content}</nacm>"
                ),
            ),
        );
    }

    /// running as `user` may read it (`<get-config>`).
    pub fn get_config(&self, user: &str) -> String {
        self.ok(user, "<get-config><source><running/></source></get-config>")
    }

    /// running as the recovery user sees it.
    pub fn running(&self) -> String {
        self.get_config(ADMIN)
    }

    /// A counter of `/nacm` (state), as the recovery user reads it.
    pub fn counter(&self, name: &str) -> u64 {
        let x = self.ok(
            ADMIN,
            &format!("<get><filter type=\"subtree\"><nacm xmlns=\"{NACM_NS}\"><{name}/></nacm></filter></get>"),
        );
        let open = format!("<{name}>");
        let at = x.find(&open).unwrap_or_else(|| panic!("{name} in {x}")) + open.len();
        x[at..at + x[at..].find('<').unwrap()].parse().unwrap()
    }
}

/// An edit-config body.
pub fn edit(target: &str, config: &str) -> String {
    format!("<edit-config><target><{target}/></target><config>{config}</config></edit-config>")
}

/// A BFD session entry.
pub fn bfd_session(name: &str, disc: u32) -> String {
    format!(
        "<session><name>{name}</name><peer-ip>10.0.0.{disc}</peer-ip><local-discriminator>{disc}</local-discriminator></session>"
    )
}

/// `<bfd>` with these entries.
pub fn bfd(entries: &str) -> String {
    format!("<bfd xmlns=\"{BFD_NS}\">{entries}</bfd>")
}

/// What every device starts with: interfaces (one with a VRRP group), BFD sessions, a monitor
/// group and a local user.
pub const BASE_CONFIG: &str = r#"
<interfaces xmlns="urn:ne-agent:yang:ne-interfaces">
  <interface><name>eth0</name><description>uplink</description>
    <vrrp xmlns="urn:ne-agent:yang:ne-vrrp"><group><vrid>1</vrid>
      <virtual-ip><address>10.0.0.6</address></virtual-ip><priority>120</priority></group></vrrp>
  </interface>
  <interface><name>eth1</name><description>downlink</description></interface>
  <interface><name>dummy</name></interface>
</interfaces>
<bfd xmlns="urn:ne-agent:yang:ne-bfd">
  <session><name>a</name><peer-ip>10.0.0.1</peer-ip><local-discriminator>1</local-discriminator></session>
  <session><name>b</name><peer-ip>10.0.0.2</peer-ip><local-discriminator>2</local-discriminator></session>
</bfd>
<monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group">
  <monitor-group><name>uplinks</name><binding-interface><name>eth0</name></binding-interface></monitor-group>
</monitor-groups>
<system xmlns="urn:ietf:params:xml:ns:yang:ietf-system">
  <authentication><user><name>wilma</name>
    <password>$5$saltsalt$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ</password></user></authentication>
</system>
"#;

/// A rule (the elements inside `<rule>`).
pub fn rule(name: &str, body: &str) -> String {
    format!("<rule><name>{name}</name>{body}</rule>")
}

/// A rule-list for these groups with these rules.
pub fn rule_list(name: &str, groups: &[&str], rules: &[String]) -> String {
    let groups: String = groups
        .iter()
        .map(|g| format!("<group>{g}</group>"))
        .collect();
    format!(
        "<rule-list><name>{name}</name>{groups}{}</rule-list>",
        rules.concat()
    )
}

/// A group with these users.
pub fn group(name: &str, users: &[&str]) -> String {
    let users: String = users
        .iter()
        .map(|u| format!("<user-name>{u}</user-name>"))
        .collect();
    format!("<group><name>{name}</name>{users}</group>")
}

/// `<groups>` of these groups.
pub fn groups(list: &[String]) -> String {
    format!("<groups>{}</groups>", list.concat())
}
