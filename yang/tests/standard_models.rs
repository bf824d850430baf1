//! The standard models as the device compiles them: ietf-system with the features
//! `authentication` and `local-users` and ne-system-deviations applied, ietf-netconf-acm
//! complete, the NACM marks where RFC 7317 and RFC 8341 put them; and configurations of
//! users and NACM rules against them.

use yang::data::{self, DataTree, DecodeOptions, EncodeOptions, ErrorTag};
use yang::schema::DefaultDeny;
use yang::validate::{validate, ValidateOptions};
use yang::{NodeId, Schema, SchemaBuilder};

const SYS: &str = "urn:ietf:params:xml:ns:yang:ietf-system";
const NACM: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";
const NCM: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
const YL: &str = "urn:ietf:params:xml:ns:yang:ietf-yang-library";

fn schema() -> Schema {
    SchemaBuilder::new()
        .embedded()
        .build()
        .expect("embedded models compile")
}

/// A data node by its path of names, all in namespace `ns`.
fn find(s: &Schema, ns: &str, path: &str) -> Option<NodeId> {
    let mut cur = None;
    for name in path.trim_start_matches('/').split('/') {
        cur = Some(s.find_child(cur, ns, name)?);
    }
    cur
}

fn node(s: &Schema, ns: &str, path: &str) -> NodeId {
    find(s, ns, path).unwrap_or_else(|| panic!("no data node {path}"))
}

fn fixture(name: &str) -> String {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn load(s: &Schema, xml: &str) -> Result<DataTree, data::DataError> {
    let root = yang::xml::parse(xml).expect("well-formed XML");
    let mut tree = data::decode_elements(s, &root.children, DecodeOptions { config_only: true })?;
    data::add_defaults(s, &mut tree);
    Ok(tree)
}

/// Load and validate; the first error either way.
fn check(s: &Schema, xml: &str) -> Result<DataTree, data::DataError> {
    let tree = load(s, xml)?;
    match validate(s, &tree, ValidateOptions::default()) {
        Ok(()) => Ok(tree),
        Err(mut errors) => Err(errors.remove(0)),
    }
}

fn user_with_password(password: &str) -> String {
    format!(
        r#"<config><system xmlns="{SYS}"><authentication><user><name>u</name><password>{password}</password></user></authentication></system></config>"#
    )
}

#[test]
fn ietf_system_has_what_the_device_implements() {
    let s = schema();
    for path in [
        "/system/contact",
        "/system/hostname",
        "/system/location",
        "/system/authentication/user/name",
        "/system/authentication/user/password",
        "/system/authentication/user/authorized-key/name",
        "/system/authentication/user/authorized-key/algorithm",
        "/system/authentication/user/authorized-key/key-data",
        "/system-state/platform/os-name",
        "/system-state/platform/os-release",
        "/system-state/platform/os-version",
        "/system-state/platform/machine",
    ] {
        assert!(find(&s, SYS, path).is_some(), "{path} is missing");
    }
    for path in [
        "/system/ntp",
        "/system/dns-resolver",
        "/system/radius",
        "/system/clock",
        "/system/authentication/user-authentication-order",
        "/system-state/clock",
    ] {
        assert!(find(&s, SYS, path).is_none(), "{path} is not deviated");
    }
    for rpc in ["set-current-datetime", "system-restart", "system-shutdown"] {
        assert!(s.find_rpc(SYS, rpc).is_none(), "{rpc} is not deviated");
    }
    let key = s.node(node(&s, SYS, "/system/authentication/user/authorized-key"));
    assert_eq!(key.keys.len(), 1);
    let system = s.module(s.module_by_name("ietf-system").unwrap());
    assert!(system.implemented);
    assert_eq!(
        system.enabled_features,
        vec!["authentication", "local-users"]
    );
    assert_eq!(
        system.deviated_by,
        vec![s.module_by_name("ne-system-deviations").unwrap()]
    );
    // Type libraries are only imported.
    for name in ["ietf-yang-types", "ietf-inet-types", "iana-crypt-hash"] {
        let m = s.module(s.module_by_name(name).unwrap());
        assert!(!m.implemented, "{name}");
        assert!(m.enabled_features.is_empty(), "{name}");
    }
    assert!(
        s.module(s.module_by_name("ietf-netconf-acm").unwrap())
            .implemented
    );
    // Both ne-system and ietf-system declare the prefix `sys`; written paths keep them apart.
    let ne = s.module(s.module_by_name("ne-system").unwrap());
    assert_eq!(
        (ne.prefix.as_str(), ne.declared_prefix.as_str()),
        ("sys", "sys")
    );
    assert_eq!(
        (system.prefix.as_str(), system.declared_prefix.as_str()),
        ("ietf-system", "sys")
    );
    assert_eq!(
        s.path(node(&s, SYS, "/system/hostname")),
        "/ietf-system:system/ietf-system:hostname"
    );
}

/// RFC 6022 and RFC 8525 (with RFC 7895's modules-state): implemented, state only, with the
/// nodes the server reports itself in.
#[test]
fn monitoring_and_the_yang_library_are_implemented() {
    let s = schema();
    for name in [
        "ietf-netconf-monitoring",
        "ietf-yang-library",
        "ietf-datastores",
    ] {
        let m = s.module(s.module_by_name(name).unwrap());
        assert!(m.implemented, "{name}");
        assert!(
            m.enabled_features.is_empty() && m.deviated_by.is_empty(),
            "{name}"
        );
    }
    for path in [
        "/netconf-state/capabilities/capability",
        "/netconf-state/datastores/datastore/locks/global-lock/locked-by-session",
        "/netconf-state/datastores/datastore/locks/partial-lock/locked-node",
        "/netconf-state/schemas/schema/location",
        "/netconf-state/sessions/session/source-host",
        "/netconf-state/sessions/session/out-notifications",
        "/netconf-state/statistics/in-bad-hellos",
        "/netconf-state/statistics/out-rpc-errors",
    ] {
        assert!(!s.node(node(&s, NCM, path)).config, "{path}");
    }
    let schema_list = s.node(node(&s, NCM, "/netconf-state/schemas/schema"));
    let keys: Vec<&str> = schema_list
        .keys
        .iter()
        .map(|&k| s.node(k).name.as_str())
        .collect();
    assert_eq!(keys, ["identifier", "version", "format"]);
    assert!(s.find_rpc(NCM, "get-schema").is_some());
    for path in [
        "/yang-library/module-set/module/feature",
        "/yang-library/module-set/module/deviation",
        "/yang-library/module-set/module/submodule/revision",
        "/yang-library/module-set/import-only-module/revision",
        "/yang-library/schema/module-set",
        "/yang-library/datastore/schema",
        "/yang-library/content-id",
        "/modules-state/module-set-id",
        "/modules-state/module/deviation/revision",
        "/modules-state/module/conformance-type",
    ] {
        assert!(!s.node(node(&s, YL, path)).config, "{path}");
    }
    let legacy = s.node(node(&s, YL, "/modules-state"));
    assert_eq!(legacy.status, yang::schema::Status::Deprecated);
}

#[test]
fn nacm_is_complete() {
    let s = schema();
    for (path, config) in [
        ("/nacm/enable-nacm", true),
        ("/nacm/read-default", true),
        ("/nacm/write-default", true),
        ("/nacm/exec-default", true),
        ("/nacm/enable-external-groups", true),
        ("/nacm/denied-operations", false),
        ("/nacm/denied-data-writes", false),
        ("/nacm/denied-notifications", false),
        ("/nacm/groups/group/name", true),
        ("/nacm/groups/group/user-name", true),
        ("/nacm/rule-list/name", true),
        ("/nacm/rule-list/group", true),
        ("/nacm/rule-list/rule/module-name", true),
        ("/nacm/rule-list/rule/rpc-name", true),
        ("/nacm/rule-list/rule/notification-name", true),
        ("/nacm/rule-list/rule/path", true),
        ("/nacm/rule-list/rule/access-operations", true),
        ("/nacm/rule-list/rule/action", true),
        ("/nacm/rule-list/rule/comment", true),
    ] {
        assert_eq!(s.node(node(&s, NACM, path)).config, config, "{path}");
    }
    for (path, default) in [
        ("/nacm/enable-nacm", "true"),
        ("/nacm/read-default", "permit"),
        ("/nacm/write-default", "deny"),
        ("/nacm/exec-default", "permit"),
        ("/nacm/enable-external-groups", "true"),
        ("/nacm/rule-list/rule/module-name", "*"),
        ("/nacm/rule-list/rule/access-operations", "*"),
    ] {
        assert_eq!(s.default_of(node(&s, NACM, path)), Some(default), "{path}");
    }
    assert!(s.node(node(&s, NACM, "/nacm/rule-list")).ordered_by_user);
    assert!(
        s.node(node(&s, NACM, "/nacm/rule-list/rule"))
            .ordered_by_user
    );
    assert!(!s.node(node(&s, NACM, "/nacm/groups/group")).ordered_by_user);
}

#[test]
fn nacm_marks_follow_the_rfcs() {
    let s = schema();
    let own = |ns: &str, p: &str| s.node(node(&s, ns, p)).nacm_default_deny();
    let effective = |ns: &str, p: &str| s.effective_default_deny(node(&s, ns, p));
    // RFC 8341: the nacm container is default-deny-all.
    assert_eq!(own(NACM, "/nacm"), Some(DefaultDeny::All));
    assert_eq!(
        effective(NACM, "/nacm/rule-list/rule/action"),
        Some(DefaultDeny::All)
    );
    // RFC 7317: the authentication container is default-deny-write, which covers the user
    // list and the password below it; neither carries a mark of its own.
    assert_eq!(own(SYS, "/system/authentication"), Some(DefaultDeny::Write));
    assert_eq!(own(SYS, "/system/authentication/user"), None);
    assert_eq!(own(SYS, "/system/authentication/user/password"), None);
    for p in [
        "/system/authentication/user",
        "/system/authentication/user/password",
        "/system/authentication/user/authorized-key/key-data",
    ] {
        assert_eq!(effective(SYS, p), Some(DefaultDeny::Write), "{p}");
    }
    assert_eq!(effective(SYS, "/system/hostname"), None);
    assert_eq!(effective(SYS, "/system"), None);
}

#[test]
fn users_and_nacm_rules_validate() {
    let s = schema();
    let tree = check(&s, &fixture("pos-system-nacm.xml")).unwrap_or_else(|e| panic!("{e}"));
    let xml = data::encode(&s, &tree, EncodeOptions::default());
    // Rule lists and rules keep the order they were given in (ordered-by user).
    let order = |names: &[&str]| {
        let at: Vec<usize> = names
            .iter()
            .map(|n| xml.find(&format!("<name>{n}</name>")).unwrap())
            .collect();
        at.windows(2).all(|w| w[0] < w[1])
    };
    assert!(order(&[
        "admin-rules",
        "operator-rules",
        "guest-rules",
        "everyone"
    ]));
    assert!(order(&["allow-commit", "edit-bfd", "no-restart"]));
    // The union of "*" and the bits type takes either.
    assert!(xml.contains("<access-operations>create update delete</access-operations>"));
    assert!(xml.contains("<access-operations>*</access-operations>"));
    assert!(xml.contains("<password>$0$guest password, hashed by the server</password>"));
}

#[test]
fn crypt_hash_forms() {
    let s = schema();
    let good = [
        "$0$clear text",
        "$1$abcdefgh$znAnv9M.XU2pRYfmSs46h/",
        "$5$rounds=10000$somesalt$vDmJpdaJl7wEqDVkJmiJAm2UTnPrADEGQ7C09m4hQHA",
        "$5$somesalt$vDmJpdaJl7wEqDVkJmiJAm2UTnPrADEGQ7C09m4hQHA",
        "$6$saltsalt$gpdtfqaHEX81wlC08F3bQxII8robl5Liudf4I7rA.EgBuxWeNbsTUVeMPczmMEUMtfoEJJru1B09MkkH30wHs1",
    ];
    for p in good {
        check(&s, &user_with_password(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    }
    let e = check(&s, &user_with_password("$2$abc")).unwrap_err();
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e}");
    // ne-system, loaded first, has the prefix `sys` too: paths name ietf-system by its name.
    assert_eq!(
        e.path.as_deref(),
        Some("/ietf-system:system/ietf-system:authentication/ietf-system:user[ietf-system:name='u']/ietf-system:password"),
        "{e}"
    );
    assert!(e.message.contains("'$2$abc'"), "{e}");
    assert!(e.message.contains("pattern"), "{e}");
    for p in [
        "plain",
        "$6$saltsalt$tooShort",
        "$1$toolongsalt$znAnv9M.XU2pRYfmSs46h/",
        "$5$rounds=x$somesalt$vDmJpdaJl7wEqDVkJmiJAm2UTnPrADEGQ7C09m4hQHA",
    ] {
        let e = check(&s, &user_with_password(p)).unwrap_err();
        assert_eq!(e.tag, ErrorTag::InvalidValue, "{p}: {e}");
    }
}

#[test]
fn what_is_not_implemented_is_refused() {
    let s = schema();
    for body in [
        "<ntp><enabled>true</enabled></ntp>",
        "<dns-resolver><search>example.net</search></dns-resolver>",
        "<clock><timezone-utc-offset>60</timezone-utc-offset></clock>",
        "<authentication><user-authentication-order>local-users</user-authentication-order></authentication>",
    ] {
        let xml = format!(r#"<config><system xmlns="{SYS}">{body}</system></config>"#);
        let e = check(&s, &xml).unwrap_err();
        assert_eq!(e.tag, ErrorTag::UnknownElement, "{body}: {e}");
    }
}

#[test]
fn nacm_values_are_checked() {
    let s = schema();
    let rule = |r: &str| {
        format!(
            r#"<config><nacm xmlns="{NACM}"><rule-list><name>l</name><rule><name>r</name>{r}</rule></rule-list></nacm></config>"#
        )
    };
    // action is mandatory.
    let e = check(&s, &rule("")).unwrap_err();
    assert_eq!(e.tag, ErrorTag::DataMissing, "{e}");
    check(&s, &rule("<action>permit</action>")).unwrap();
    let e = check(&s, &rule("<action>allow</action>")).unwrap_err();
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e}");
    let e = check(
        &s,
        &rule("<access-operations>read bogus</access-operations><action>deny</action>"),
    )
    .unwrap_err();
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e}");
    // Two cases of the rule-type choice at once.
    let e = check(
        &s,
        &rule("<rpc-name>commit</rpc-name><notification-name>x</notification-name><action>deny</action>"),
    )
    .unwrap_err();
    assert!(
        matches!(e.tag, ErrorTag::BadElement | ErrorTag::InvalidValue),
        "{e}"
    );
    // A group name cannot begin with '*'; a rule list may name '*' (every group).
    let group = |g: &str| {
        format!(
            r#"<config><nacm xmlns="{NACM}"><groups><group><name>{g}</name></group></groups></nacm></config>"#
        )
    };
    check(&s, &group("ops")).unwrap();
    let e = check(&s, &group("*ops")).unwrap_err();
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e}");
    check(
        &s,
        &format!(r#"<config><nacm xmlns="{NACM}"><rule-list><name>l</name><group>*</group></rule-list></nacm></config>"#),
    )
    .unwrap();
}
