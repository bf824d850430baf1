//! The project's models against instance data: the seed configurations validate, and each
//! broken variant is refused with the error the model promises.

use yang::data::{self, DataTree, DecodeOptions, EncodeOptions, ErrorTag, WithDefaults};
use yang::validate::{validate, ValidateOptions};
use yang::{Schema, SchemaBuilder};

fn schema() -> Schema {
    SchemaBuilder::new()
        .embedded()
        .build()
        .expect("embedded models compile")
}

fn fixture(name: &str) -> String {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Decode the children of a `<config>` document, with defaults added.
fn load(schema: &Schema, xml: &str) -> Result<DataTree, data::DataError> {
    let root = yang::xml::parse(xml).expect("well-formed fixture");
    let mut tree =
        data::decode_elements(schema, &root.children, DecodeOptions { config_only: true })?;
    data::add_defaults(schema, &mut tree);
    Ok(tree)
}

#[test]
fn seed_configurations_validate() {
    let s = schema();
    for f in [
        "seed-a.xml",
        "seed-b.xml",
        "pos-multicast-off.xml",
        "pos-misc.xml",
    ] {
        let tree = load(&s, &fixture(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        if let Err(errs) = validate(&s, &tree, ValidateOptions::default()) {
            panic!("{f}: {errs:?}");
        }
    }
}

#[test]
fn seed_a_defaults_are_filled_in() {
    let s = schema();
    let tree = load(&s, &fixture("seed-a.xml")).unwrap();
    let all = data::encode(
        &s,
        &tree,
        EncodeOptions {
            with_defaults: WithDefaults::ReportAll,
            config_only: false,
        },
    );
    // MODELS.md defaults: BFD 10 ms x 3, VRRP v3 preempt on, IGMP v2 query 60 s.
    for needle in [
        "<min-tx-interval>10</min-tx-interval>",
        "<detect-multiplier>3</detect-multiplier>",
        "<version>3</version>",
        "<checksum-mode>include-pseudo-header</checksum-mode>",
        "<query-interval>60</query-interval>",
        "<enabled>true</enabled>",
    ] {
        assert!(all.contains(needle), "report-all lacks {needle}:\n{all}");
    }
    let explicit = data::encode(&s, &tree, EncodeOptions::default());
    assert!(!explicit.contains("<detect-multiplier>"), "{explicit}");
    let tagged = data::encode(
        &s,
        &tree,
        EncodeOptions {
            with_defaults: WithDefaults::ReportAllTagged,
            config_only: false,
        },
    );
    assert!(tagged.contains(r#"<detect-multiplier xmlns:wd="urn:ietf:params:xml:ns:netconf:default:1.0" wd:default="true">3</detect-multiplier>"#), "{tagged}");
    // trim drops values equal to their default even when set explicitly (priority 100 on B).
    let b = load(&s, &fixture("seed-b.xml")).unwrap();
    let trimmed = data::encode(
        &s,
        &b,
        EncodeOptions {
            with_defaults: WithDefaults::Trim,
            config_only: false,
        },
    );
    assert!(!trimmed.contains("<priority>100</priority>"), "{trimmed}");
    assert!(data::encode(&s, &b, EncodeOptions::default()).contains("<priority>100</priority>"));
}

#[test]
fn encode_decode_round_trip() {
    let s = schema();
    for f in ["seed-a.xml", "seed-b.xml", "pos-misc.xml"] {
        let tree = load(&s, &fixture(f)).unwrap();
        let xml = data::encode(
            &s,
            &tree,
            EncodeOptions {
                with_defaults: WithDefaults::ReportAll,
                config_only: false,
            },
        );
        let mut again = data::decode(&s, &xml, DecodeOptions::default()).unwrap();
        data::add_defaults(&s, &mut again);
        assert_eq!(
            data::encode(
                &s,
                &again,
                EncodeOptions {
                    with_defaults: WithDefaults::ReportAll,
                    config_only: false
                }
            ),
            xml,
            "{f}"
        );
    }
}

/// (fixture, error-tag, app-tag or "" for none, text the message must contain)
const NEGATIVE: &[(&str, ErrorTag, &str, &str)] = &[
    (
        "neg-track-without-admin-vrrp.xml",
        ErrorTag::OperationFailed,
        "track-requires-admin-vrrp",
        "",
    ),
    (
        "neg-track-mg-without-admin-vrrp.xml",
        ErrorTag::OperationFailed,
        "track-requires-admin-vrrp",
        "",
    ),
    (
        "neg-two-link-monitor-groups.xml",
        ErrorTag::OperationFailed,
        "multiple-link-mode-tracks",
        "",
    ),
    (
        "neg-igmp-without-routing-enable.xml",
        ErrorTag::OperationFailed,
        "multicast-routing-disabled",
        "igmp",
    ),
    (
        "neg-pim-sm-without-routing-enable.xml",
        ErrorTag::OperationFailed,
        "multicast-routing-disabled",
        "pim",
    ),
    (
        "neg-seed-a-without-routing-enable.xml",
        ErrorTag::OperationFailed,
        "multicast-routing-disabled",
        "",
    ),
    (
        "neg-track-admin-vrrp-not-admin.xml",
        ErrorTag::OperationFailed,
        "vrid-not-admin-vrrp",
        "",
    ),
    (
        "neg-track-admin-vrrp-unknown-vrid.xml",
        ErrorTag::OperationFailed,
        "vrid-not-admin-vrrp",
        "",
    ),
    (
        "neg-advertise-interval-105.xml",
        ErrorTag::OperationFailed,
        "invalid-advertise-interval",
        "",
    ),
    (
        "neg-duplicate-local-discriminator.xml",
        ErrorTag::OperationFailed,
        "data-not-unique",
        "local-discriminator",
    ),
    (
        "neg-track-unknown-bfd-session.xml",
        ErrorTag::DataMissing,
        "instance-required",
        "nope",
    ),
    (
        "neg-four-monitor-group-tracks.xml",
        ErrorTag::OperationFailed,
        "too-many-elements",
        "max-elements 3",
    ),
    (
        "neg-ipv4-octet-256.xml",
        ErrorTag::InvalidValue,
        "",
        "Not an IPv4 address in dotted-quad form",
    ),
    (
        "neg-interface-name-slash.xml",
        ErrorTag::InvalidValue,
        "invalid-interface-name",
        "",
    ),
    (
        "neg-interface-name-too-long.xml",
        ErrorTag::InvalidValue,
        "",
        "length",
    ),
    (
        "neg-vrrp-version-4.xml",
        ErrorTag::InvalidValue,
        "",
        "range",
    ),
];

#[test]
fn broken_configurations_are_refused_for_the_right_reason() {
    let s = schema();
    for &(f, tag, app_tag, text) in NEGATIVE {
        let errors = match load(&s, &fixture(f)) {
            Err(e) => vec![e],
            Ok(tree) => validate(&s, &tree, ValidateOptions::default())
                .err()
                .unwrap_or_else(|| panic!("{f}: accepted")),
        };
        let hit = errors.iter().any(|e| {
            e.tag == tag
                && (app_tag.is_empty() || e.app_tag.as_deref() == Some(app_tag))
                && e.message.contains(text)
                && e.path.is_some()
        });
        assert!(
            hit,
            "{f}: expected {tag} {app_tag} '{text}', got {errors:#?}"
        );
    }
}

/// Incremental validation after a change finds what whole-tree validation finds: each broken
/// variant, reached from the valid seed by a diff, is refused for the same reason.
#[test]
fn incremental_validation_agrees_with_whole_tree_validation() {
    use yang::validate::validate_changes;
    let s = schema();
    let seed = load(&s, &fixture("seed-a.xml")).unwrap();
    let mut checked = 0;
    for &(f, _, _, _) in NEGATIVE {
        let Ok(broken) = load(&s, &fixture(f)) else {
            continue; // refused while decoding: no tree to validate
        };
        let full = validate(&s, &broken, ValidateOptions::default()).unwrap_err();
        let changes = yang::diff::diff(&s, &seed, &broken);
        assert!(!changes.is_empty(), "{f}");
        let incremental = validate_changes(&s, &broken, &changes, ValidateOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{f}: incremental validation accepted it"));
        let key = |e: &yang::data::DataError| (e.tag, e.app_tag.clone());
        assert!(
            full.iter()
                .any(|a| incremental.iter().any(|b| key(a) == key(b))),
            "{f}: full {full:#?} incremental {incremental:#?}"
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} fixtures reached validation");
    // And a valid change validates incrementally.
    let b = load(&s, &fixture("seed-b.xml")).unwrap();
    let changes = yang::diff::diff(&s, &seed, &b);
    validate_changes(&s, &b, &changes, ValidateOptions::default()).unwrap();
}

/// In a long list, a change that makes one entry clash with a far-away sibling is still caught
/// incrementally (the validator reaches entries by binary search, not a walk), and the same
/// change elsewhere in the list that clashes with nothing passes.
#[test]
fn incremental_unique_check_in_a_long_list() {
    use yang::validate::validate_changes;
    let s = schema();
    let ns = r#"xmlns="urn:ne-agent:yang:ne-bfd""#;
    let session = |i: usize, disc: usize| {
        format!(
            "<session><name>s{i:05}</name><peer-ip>10.0.{}.{}</peer-ip><local-discriminator>{disc}</local-discriminator></session>",
            i / 256,
            i % 256
        )
    };
    let all: String = (0..2000).map(|i| session(i, i + 1)).collect();
    let base = load(&s, &format!("<config><bfd {ns}>{all}</bfd></config>")).unwrap();
    validate(&s, &base, ValidateOptions::default()).unwrap();
    let edit = |xml: String| {
        let mut t = base.clone();
        let els = yang::xml::parse_fragment(&xml).unwrap();
        yang::data::apply_edit(&s, &mut t, &els, yang::data::EditOp::Merge).unwrap();
        let changes = yang::diff::diff(&s, &base, &t);
        validate_changes(&s, &t, &changes, ValidateOptions::default())
    };
    // Entry 1500 takes entry 3's discriminator.
    let errors = edit(format!("<bfd {ns}>{}</bfd>", session(1500, 4))).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.app_tag.as_deref() == Some("data-not-unique")),
        "{errors:#?}"
    );
    // A free discriminator is fine.
    edit(format!("<bfd {ns}>{}</bfd>", session(1500, 9000))).unwrap();
}

/// A new list entry missing a mandatory leaf is reported once by incremental validation (the
/// entry is both a created node and the parent of its created children; issue 20 saw the same
/// rpc-error twice in one commit reply).
#[test]
fn incremental_validation_reports_a_missing_mandatory_leaf_once() {
    use yang::validate::validate_changes;
    let s = schema();
    let base = load(&s, "<config/>").unwrap();
    let t = load(
        &s,
        r#"<config><bfd xmlns="urn:ne-agent:yang:ne-bfd"><session><name>x</name><local-discriminator>5</local-discriminator></session></bfd></config>"#,
    )
    .unwrap();
    let changes = yang::diff::diff(&s, &base, &t);
    let errors = validate_changes(&s, &t, &changes, ValidateOptions::default()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].message.contains("peer-ip"), "{errors:#?}");
    let full = validate(&s, &t, ValidateOptions::default()).unwrap_err();
    assert_eq!(full, errors);
}

/// Deleting a BFD session that a VRRP group tracks is refused with a message that names the
/// tracking interface and group in words, not only in error-path (issue 20).
#[test]
fn deleting_a_tracked_bfd_session_names_the_tracking_group() {
    let s = schema();
    let mut b = load(&s, &fixture("seed-b.xml")).unwrap();
    let del = yang::xml::parse_fragment(
        r#"<bfd xmlns="urn:ne-agent:yang:ne-bfd"><session operation="delete"><name>to-a</name></session></bfd>"#,
    )
    .unwrap();
    yang::data::apply_edit(&s, &mut b, &del, yang::data::EditOp::Merge).unwrap();
    let errors = validate(&s, &b, ValidateOptions::default()).unwrap_err();
    assert!(
        errors.iter().any(|e| e
            .message
            .contains("interfaces/interface[b-ic]/vrrp/group[1]/track/bfd-session[to-a]")
            && e.message.contains("'to-a'")),
        "{errors:#?}"
    );
}

/// Incremental validation re-checks an expression elsewhere only when it names a node whose
/// instances a change creates or deletes, or a leaf whose value it modifies (the ancestors of a
/// modified leaf no longer count). A must that reads a modified leaf of a far entry must still
/// refuse the change.
#[test]
fn a_modified_leaf_is_rechecked_where_an_expression_names_it() {
    use yang::validate::validate_changes;
    let module = r#"module t {
  yang-version 1.1;
  namespace "urn:t";
  prefix t;
  container top {
    list item {
      key name;
      leaf name { type string; }
      leaf weight { type uint8; }
      leaf note { type string; }
    }
    leaf favourite {
      type leafref { path "../item/name"; }
      must "../item[name = current()]/weight > 0" {
        error-message "the favourite item must weigh something";
      }
    }
  }
}"#;
    let s = SchemaBuilder::new()
        .without_embedded()
        .source("t.yang", module)
        .build()
        .unwrap_or_else(|e| panic!("{:?}", e.0));
    let doc = |w: u8, note: &str| {
        let items: String = (0..50)
            .map(|i| {
                let (w, n) = if i == 40 { (w, note) } else { (1, "x") };
                format!("<item><name>i{i}</name><weight>{w}</weight><note>{n}</note></item>")
            })
            .collect();
        load(
            &s,
            &format!(
                r#"<config><top xmlns="urn:t">{items}<favourite>i40</favourite></top></config>"#
            ),
        )
        .unwrap()
    };
    let base = doc(1, "x");
    validate(&s, &base, ValidateOptions::default()).unwrap();
    // The favourite's weight drops to 0: a Modify of a leaf the must names.
    let broken = doc(0, "x");
    let changes = yang::diff::diff(&s, &base, &broken);
    assert!(changes.iter().all(|c| c.op == yang::diff::ChangeOp::Modify));
    let errors = validate_changes(&s, &broken, &changes, ValidateOptions::default()).unwrap_err();
    assert!(
        errors[0].message.contains("must weigh something"),
        "{errors:#?}"
    );
    // A note changes: nothing names it, and the change is valid.
    let noted = doc(1, "y");
    let changes = yang::diff::diff(&s, &base, &noted);
    validate_changes(&s, &noted, &changes, ValidateOptions::default()).unwrap();
}
