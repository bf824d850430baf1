//! Rule paths: parsing, errors, and where a walk may stop checking.

use super::*;

#[test]
fn paths_accept_module_names_and_prefixes() {
    let p = NodePath::parse(
        "/if:interfaces/interface[ if:name = 'eth0' ]/if:mtu",
        &resolve,
    )
    .expect("parses");
    assert_eq!(
        p.to_string(),
        "/ietf-interfaces:interfaces/interface[name='eth0']/mtu"
    );
    assert_eq!(
        p.as_str(),
        "/if:interfaces/interface[ if:name = 'eth0' ]/if:mtu"
    );
    let q = NodePath::parse(
        "/ietf-interfaces:interfaces/interface[name='eth0']/mtu",
        &resolve,
    )
    .expect("parses");
    assert_eq!(q.to_string(), p.to_string());
    // A step in another module names it; unprefixed steps inherit the one before.
    let r =
        NodePath::parse("/if:interfaces/vrrp:vrrp/group[vrid=\"1\"]", &resolve).expect("parses");
    assert_eq!(
        r.to_string(),
        "/ietf-interfaces:interfaces/ne-vrrp:vrrp/group[vrid='1']"
    );
    let quote = NodePath::parse("/ne-x:a/b[k=\"it's\"]", &resolve).expect("parses");
    assert_eq!(quote.to_string(), "/ne-x:a/b[k=\"it's\"]");
}

#[test]
fn bad_path_syntax_is_a_typed_error() {
    let cases = [
        ("", "expected '/' at offset 0"),
        ("interfaces", "expected '/' at offset 0"),
        ("/if:interfaces/", "expected a node name at offset 15"),
        ("//if:interfaces", "expected a node name at offset 1"),
        ("/if:", "expected a name after ':' at offset 4"),
        (
            "/if:interfaces/interface[name]",
            "expected '=' at offset 29",
        ),
        (
            "/if:interfaces/interface[name=eth0]",
            "expected a quoted value at offset 30",
        ),
        (
            "/if:interfaces/interface[name='eth0'",
            "expected ']' at offset 36",
        ),
        (
            "/if:interfaces/interface[name='eth0]",
            "expected a closing quote at offset 36",
        ),
        (
            "/if:interfaces/interface[1]",
            "position predicates are not supported (offset 25); name the entry by its keys",
        ),
        (
            "/interfaces",
            "the first node 'interfaces' needs a module name or prefix",
        ),
        ("/if:interfaces junk", "expected '/' at offset 15"),
    ];
    for (text, message) in cases {
        let err = NodePath::parse(text, &resolve).expect_err(text);
        assert_eq!(err.to_string(), message, "{text:?}");
    }
}

#[test]
fn an_unknown_prefix_names_the_rule_and_the_path() {
    let err =
        Nacm::compile_path("noc-rules", "deny-vrrp", "/nope:vrrp", &resolve).expect_err("unknown");
    assert_eq!(
        err,
        NacmError::InvalidPath {
            rule_list: "noc-rules".into(),
            rule: "deny-vrrp".into(),
            path: "/nope:vrrp".into(),
            reason: PathError::UnknownPrefix("nope".into()),
        }
    );
    assert_eq!(
        err.to_string(),
        "rule 'deny-vrrp' of rule-list 'noc-rules': invalid path '/nope:vrrp': unknown module or prefix 'nope'"
    );
    let key =
        NodePath::parse("/if:interfaces/interface[zz:name='x']", &resolve).expect_err("key prefix");
    assert_eq!(key, PathError::UnknownPrefix("zz".into()));
}

#[test]
fn uniform_below_tells_where_a_walk_can_stop_checking() {
    let nacm = rules(vec![
        rule(
            "deny-eth0-mtu",
            "*",
            path("/if:interfaces/interface[name='eth0']/mtu"),
            "read",
            Deny,
        ),
        rule(
            "deny-vrrp-write",
            "*",
            path("/ne-vrrp:vrrp/group"),
            "update",
            Deny,
        ),
    ]);
    let a = nacm.for_user("u", &[], false);
    let m = "ietf-interfaces";
    let interfaces = [seg(m, "interfaces")];
    let eth0 = [seg(m, "interfaces"), entry(m, "interface", ETH0)];
    let eth1 = [
        seg(m, "interfaces"),
        entry(m, "interface", &[("name", "eth1")]),
    ];
    let mtu = [
        seg(m, "interfaces"),
        entry(m, "interface", ETH0),
        seg(m, "mtu"),
    ];
    let root: [Segment; 0] = [];
    assert!(!a.uniform_below(Read, &root[..]));
    assert!(!a.uniform_below(Read, &interfaces[..]));
    assert!(!a.uniform_below(Read, &eth0[..]));
    assert!(a.uniform_below(Read, &eth1[..]), "the key rules eth1 out");
    assert!(a.uniform_below(Read, &mtu[..]), "the rule names mtu itself");
    assert!(
        a.uniform_below(Read, &[seg("ne-vrrp", "vrrp")][..]),
        "that rule is not about read"
    );
    assert!(!a.uniform_below(Update, &[seg("ne-vrrp", "vrrp")][..]));
    assert!(a.uniform_below(Update, &interfaces[..]));
}
