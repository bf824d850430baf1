//! The shipped examples (`examples/seed/device-{a,b}.xml`, README "Configure the seed scenario")
//! stay valid: each decodes against the device's embedded models and validates as a complete
//! running configuration, with the values the scenario depends on.

use yang::data::{self, DataTree};
use yang::validate::{validate, ValidateOptions};
use yang::{Schema, SchemaBuilder};

fn schema() -> Schema {
    SchemaBuilder::new()
        .embedded()
        .build()
        .expect("embedded models compile")
}

/// Decode an example's `<config>` document as a running configuration (defaults added) and
/// validate it whole.
fn load(schema: &Schema, device: char) -> DataTree {
    let p = format!(
        "{}/../examples/seed/device-{device}.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let root = yang::xml::parse(&text).unwrap_or_else(|e| panic!("{p}: not well-formed: {e}"));
    assert_eq!(root.name, "config", "{p}: the document element");
    assert_eq!(
        root.ns, "urn:ietf:params:xml:ns:netconf:base:1.0",
        "{p}: the <config> namespace"
    );
    let mut tree = data::decode_elements(
        schema,
        &root.children,
        data::DecodeOptions { config_only: true },
    )
    .unwrap_or_else(|e| panic!("{p}: {e}"));
    data::add_defaults(schema, &mut tree);
    if let Err(errs) = validate(schema, &tree, ValidateOptions::default()) {
        panic!("{p}: {errs:#?}");
    }
    tree
}

fn value<'a>(schema: &Schema, tree: &'a DataTree, path: &str) -> Option<&'a str> {
    tree.find(schema, path).and_then(|n| n.value.as_deref())
}

const GROUP: &str = "/if:interfaces/if:interface[if:name='IC']/vrrp:vrrp/vrrp:group[vrrp:vrid='1']";

#[test]
fn seed_examples_are_valid_running_configurations() {
    let s = schema();
    for dev in ['a', 'b'] {
        let tree = load(&s, dev);
        let group = GROUP.replace("IC", &format!("{dev}-ic"));
        let v = |path: &str| value(&s, &tree, path).map(str::to_string);
        let (prio, ic_ip, peer) = if dev == 'a' {
            ("120", "10.0.0.1", "b")
        } else {
            ("100", "10.0.0.2", "a")
        };
        assert_eq!(v(&format!("{group}/vrrp:priority")).as_deref(), Some(prio));
        assert_eq!(
            v(&format!(
                "{group}/vrrp:virtual-ip[vrrp:address='10.0.0.6']/vrrp:address"
            ))
            .as_deref(),
            Some("10.0.0.6"),
            "device {dev}: virtual IP"
        );
        assert!(
            tree.find(&s, &format!("{group}/vrrp:admin-vrrp")).is_some(),
            "device {dev}: vrid 1 is the mVRRP group"
        );
        // The chain to a node: its ancestors, then the node find gives.
        let chain = tree
            .find_chain(&s, &format!("{group}/vrrp:priority"))
            .expect("chain");
        let names: Vec<&str> = chain
            .iter()
            .map(|n| s.node(n.schema).name.as_str())
            .collect();
        assert_eq!(
            names,
            ["interfaces", "interface", "vrrp", "group", "priority"]
        );
        assert!(std::ptr::eq(
            *chain.last().unwrap(),
            tree.find(&s, &format!("{group}/vrrp:priority")).unwrap()
        ));
        assert!(tree
            .find_chain(&s, "/if:interfaces/if:interface[if:name='none']")
            .is_none());
        assert_eq!(
            v(&format!(
                "/if:interfaces/if:interface[if:name='{dev}-ic']/if:ipv4/if:address[if:ip='{ic_ip}']/if:prefix-length"
            ))
            .as_deref(),
            Some("29")
        );
        assert_eq!(
            v(&format!(
                "/bfd:bfd/bfd:session[bfd:name='to-{peer}']/bfd:interface"
            ))
            .as_deref(),
            Some(format!("{dev}-ic").as_str())
        );
        assert_eq!(
            v(&format!(
                "/if:interfaces/if:interface[if:name='{dev}-dn']/mc:track-admin-vrrp/mc:interface"
            ))
            .as_deref(),
            Some(format!("{dev}-ic").as_str()),
            "device {dev}: the downstream forwarding follows the mVRRP group"
        );
        assert_eq!(
            v("/mc:multicast/mc:routing-enable").as_deref(),
            Some("true")
        );
        let mg_track = format!("{group}/vrrp:track/vrrp:monitor-group[vrrp:name='uplinks']");
        let bfd_track = format!("{group}/vrrp:track/vrrp:bfd-session[vrrp:session='to-a']");
        if dev == 'a' {
            assert_eq!(v(&format!("{mg_track}/vrrp:mode")).as_deref(), Some("link"));
            assert_eq!(
                v(&format!("{mg_track}/vrrp:failure-ratio")).as_deref(),
                Some("100")
            );
            assert_eq!(
                v("/mg:monitor-groups/mg:monitor-group[mg:name='uplinks']/mg:binding-interface[mg:name='a-up']/mg:name")
                    .as_deref(),
                Some("a-up")
            );
        } else {
            assert_eq!(
                v(&format!("{bfd_track}/vrrp:mode")).as_deref(),
                Some("increase")
            );
            assert_eq!(
                v(&format!("{bfd_track}/vrrp:priority-change")).as_deref(),
                Some("40")
            );
            assert!(
                tree.find(&s, &mg_track).is_none(),
                "B tracks no monitor group"
            );
        }
    }
}
