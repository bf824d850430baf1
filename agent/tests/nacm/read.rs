//! Read access (RFC 8341 §3.4.5): what a user may not read is silently left out of `<get>`,
//! `<get-config>`, their filters and ne-system:commit-diff.

use super::*;

/// One group `g` holding user `u`, with these rules (and these defaults before them).
fn only(d: &Device, defaults: &str, rules: &[String]) {
    d.nacm(&format!(
        "{defaults}{}{}",
        groups(&[group("g", &["u"])]),
        rule_list("l", &["g"], rules)
    ));
}

fn deny_read(name: &str, path: &str) -> String {
    rule(
        name,
        &format!(
            "<path>{path}</path><access-operations>read</access-operations><action>deny</action>"
        ),
    )
}

/// /nacm is marked default-deny-all: read-default permit does not show it; a rule does.
#[test]
fn nacm_is_hidden_unless_a_rule_shows_it() {
    let d = Device::new("r-nacm");
    only(&d, "", &[]);
    for body in [
        "<get/>",
        "<get-config><source><running/></source></get-config>",
    ] {
        let x = d.ok("u", body);
        assert!(!x.contains("<nacm") && x.contains("<bfd"), "{x}");
    }
    only(
        &d,
        "",
        &[rule(
            "show-nacm",
            "<path>/ietf-netconf-acm:nacm</path><access-operations>read</access-operations>\
             <action>permit</action>",
        )],
    );
    let x = d.ok("u", "<get/>");
    assert!(x.contains("<name>show-nacm</name>"), "{x}");
    assert!(
        x.contains("<denied-operations>"),
        "the counters are state of /nacm: {x}"
    );
}

/// A path with a list key hides one entry; the others stay, also through filters.
#[test]
fn a_path_with_a_key_hides_one_entry() {
    let d = Device::new("r-key");
    only(
        &d,
        "",
        &[deny_read(
            "hide-eth1",
            "/ne-interfaces:interfaces/interface[name='eth1']",
        )],
    );
    let x = d.get_config("u");
    assert!(
        x.contains("<name>eth0</name>") && x.contains("<name>dummy</name>"),
        "{x}"
    );
    assert!(!x.contains("eth1") && !x.contains("downlink"), "{x}");
    // A subtree filter selecting the hidden entry finds nothing; one selecting another does.
    let filter = |name: &str| {
        format!(
            "<get-config><source><running/></source><filter type=\"subtree\"><interfaces xmlns=\"{IF_NS}\"><interface><name>{name}</name></interface></interfaces></filter></get-config>"
        )
    };
    assert!(!d.ok("u", &filter("eth1")).contains("eth1"));
    assert!(d.ok("u", &filter("eth0")).contains("uplink"));
    // An XPath filter on the hidden entry's leaf, and a content match on it, find nothing.
    let x = d.ok(
        "u",
        "<get><filter type=\"xpath\" select=\"/interfaces/interface[name='eth1']/description\"/></get>",
    );
    assert!(!x.contains("downlink"), "{x}");
    let x = d.ok(
        "u",
        &format!("<get><filter type=\"subtree\"><interfaces xmlns=\"{IF_NS}\"><interface><description>downlink</description></interface></interfaces></filter></get>"),
    );
    assert!(!x.contains("eth1"), "{x}");
    // The recovery user still sees it.
    assert!(d.running().contains("downlink"));
}

/// A path to a leaf hides that leaf in every entry; the entries stay.
#[test]
fn a_path_to_a_leaf_hides_it_in_every_entry() {
    let d = Device::new("r-leaf");
    only(
        &d,
        "",
        &[deny_read(
            "hide-discriminators",
            "/ne-bfd:bfd/session/local-discriminator",
        )],
    );
    let x = d.get_config("u");
    assert!(
        x.contains("<name>a</name>") && x.contains("<name>b</name>"),
        "{x}"
    );
    assert!(x.contains("<peer-ip>10.0.0.2</peer-ip>"), "{x}");
    assert!(!x.contains("local-discriminator"), "{x}");
}

/// An entry whose key may not be read is left out whole (it could not be named otherwise).
#[test]
fn an_entry_with_an_unreadable_key_goes_whole() {
    let d = Device::new("r-keyleaf");
    only(
        &d,
        "",
        &[deny_read(
            "hide-names",
            "/ne-bfd:bfd/session[name='a']/name",
        )],
    );
    let x = d.get_config("u");
    assert!(!x.contains("10.0.0.1"), "{x}");
    assert!(x.contains("<name>b</name>"), "{x}");
}

/// read-default deny and a module rule: only that module's data is shown. A node of another
/// module augmenting it (VRRP in an interface) goes with its parent.
#[test]
fn read_default_deny_with_a_module_rule() {
    let d = Device::new("r-module");
    only(
        &d,
        "<read-default>deny</read-default>",
        &[rule(
            "bfd-only",
            "<module-name>ne-bfd</module-name><access-operations>read</access-operations>\
             <action>permit</action>",
        )],
    );
    let x = d.get_config("u");
    assert!(x.contains("<bfd"), "{x}");
    assert!(
        !x.contains("<interfaces") && !x.contains("<monitor-groups"),
        "{x}"
    );
    // The other way round: interfaces readable, the VRRP module not: the augment is cut out.
    only(
        &d,
        "",
        &[rule(
            "no-vrrp",
            "<module-name>ne-vrrp</module-name><access-operations>read</access-operations>\
             <action>deny</action>",
        )],
    );
    let x = d.get_config("u");
    assert!(
        x.contains("<name>eth0</name>") && !x.contains("<vrrp"),
        "{x}"
    );
}

/// default-deny-write (ietf-system's authentication) restricts writes only: the users are
/// read as any other data.
#[test]
fn a_default_deny_write_node_is_read_as_usual() {
    let d = Device::new("r-deny-write");
    only(&d, "", &[]);
    let x = d.get_config("u");
    assert!(
        x.contains("<name>wilma</name>") && x.contains("<password>"),
        "{x}"
    );
}

/// Rule order: the first rule that matches decides, rule-lists in order, then rules in order.
#[test]
fn the_first_matching_rule_decides() {
    let d = Device::new("r-order");
    let permit = rule(
        "permit-bfd",
        "<path>/ne-bfd:bfd</path><access-operations>read</access-operations><action>permit</action>",
    );
    let deny = deny_read("deny-a", "/ne-bfd:bfd/session[name='a']");
    only(&d, "", &[permit.clone(), deny.clone()]);
    assert!(d.get_config("u").contains("10.0.0.1"), "permit-bfd first");
    only(&d, "", &[deny, permit]);
    assert!(!d.get_config("u").contains("10.0.0.1"), "deny-a first");
}

/// Reads of the state: the monitoring data of another module hidden by a module rule; the
/// management plane's own state trees go through the same pruning.
#[test]
fn state_data_is_pruned_like_configuration() {
    let d = Device::new("r-state");
    only(
        &d,
        "",
        &[
            rule(
                "no-ncm",
                "<module-name>ietf-netconf-monitoring</module-name>\
                 <access-operations>read</access-operations><action>deny</action>",
            ),
            deny_read("no-history", "/ne-system:commit-history"),
        ],
    );
    let x = d.ok("u", "<get/>");
    assert!(
        !x.contains("<netconf-state") && !x.contains("<commit-history"),
        "{x}"
    );
    assert!(x.contains("<yang-library"), "{x}");
}

/// commit-diff shows only what the user may read.
#[test]
fn commit_diff_shows_what_may_be_read() {
    let d = Device::new("r-diff");
    only(
        &d,
        "",
        &[deny_read("hide-c", "/ne-bfd:bfd/session[name='c']")],
    );
    let from = d.server.store.generation();
    d.ok(
        ADMIN,
        &edit(
            "running",
            &bfd(&format!("{}{}", bfd_session("c", 3), bfd_session("d", 4))),
        ),
    );
    let body =
        format!("<commit-diff xmlns=\"{NE_SYS_NS}\"><from-id>{from}</from-id></commit-diff>");
    let x = d.ok("u", &body);
    assert!(x.contains("'d'") && !x.contains("'c'"), "{x}");
    assert!(d.ok(ADMIN, &body).contains("'c'"));
}

/// get-schema: a module whose data the user may read none of is answered as unknown; others,
/// and modules without top-level data, are served.
#[test]
fn get_schema_hides_modules_whose_data_is_hidden() {
    let d = Device::new("r-schema");
    only(
        &d,
        "",
        &[rule(
            "no-bfd",
            "<module-name>ne-bfd</module-name><access-operations>read</access-operations>\
             <action>deny</action>",
        )],
    );
    let schema = |m: &str| {
        format!("<get-schema xmlns=\"{NCM_NS}\"><identifier>{m}</identifier></get-schema>")
    };
    let r = d.call("u", &schema("ne-bfd"));
    assert!(
        r.is_error && r.xml.contains("no schema 'ne-bfd'"),
        "{}",
        r.xml
    );
    assert!(d
        .ok("u", &schema("ne-monitor-group"))
        .contains("module ne-monitor-group"));
    assert!(
        d.ok("u", &schema("ne-vrrp")).contains("module ne-vrrp"),
        "augments only"
    );
    assert!(d.ok("u", &schema("ne-types")).contains("module ne-types"));
    assert!(d.ok(ADMIN, &schema("ne-bfd")).contains("module ne-bfd"));
    // /nacm is default-deny-all: its module is not served to a user without a rule either.
    assert!(d.call("u", &schema("ietf-netconf-acm")).is_error);
}
