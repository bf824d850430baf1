use std::sync::Arc;

use datastore::Subscriber as _;
use russh::keys::{Algorithm, PrivateKey};
use yang::data::{apply_edit, EditOp};
use yang::diff::diff;
use yang::Schema;

use super::*;

fn schema() -> Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    Arc::clone(
        SCHEMA.get_or_init(|| Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap())),
    )
}

fn key() -> PublicKey {
    PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .unwrap()
        .public_key()
        .clone()
}

fn blob(k: &PublicKey) -> String {
    Base64::encode_string(&k.to_bytes().unwrap())
}

fn elements(xml: &str) -> Vec<Element> {
    vec![yang::xml::parse(xml).unwrap()]
}

/// `<system>` with the given `<user>` elements.
fn system(users: &str) -> String {
    format!("<system xmlns=\"{SYSTEM_NS}\"><authentication>{users}</authentication></system>")
}

fn tree(users: &str) -> DataTree {
    let mut t = DataTree::default();
    apply_edit(&schema(), &mut t, &elements(&system(users)), EditOp::Merge).unwrap();
    t
}

fn recovery() -> Recovery {
    Recovery::new("admin", "generated-secret", vec![])
}

#[test]
fn recovery_user_logs_in_with_its_own_password() {
    let db = UserDb::new(&recovery(), vec![], None);
    assert_eq!(
        db.authenticate_password("admin", "generated-secret"),
        Some(Identity {
            name: "admin".into(),
            recovery: true
        })
    );
    assert_eq!(db.authenticate_password("admin", "nope"), None);
    assert_eq!(db.recovery_password(), RecoveryPassword::Own);
}

#[test]
fn configured_users_log_in_with_their_hash_and_refusals_have_reasons() {
    let users = vec![
        ConfigUser {
            name: "alice".into(),
            password: Some(crypt::hash("alice-pw")),
            keys: vec![],
        },
        ConfigUser {
            name: "keyonly".into(),
            password: None,
            keys: vec![key()],
        },
    ];
    let db = UserDb::new(&recovery(), users, None);
    assert_eq!(db.len(), 3);
    assert_eq!(
        db.check_password("alice", "alice-pw"),
        PasswordCheck::Accepted(Identity {
            name: "alice".into(),
            recovery: false
        })
    );
    assert_eq!(
        db.check_password("alice", "x"),
        PasswordCheck::WrongPassword
    );
    assert_eq!(
        db.check_password("bob", "alice-pw"),
        PasswordCheck::UnknownUser
    );
    assert_eq!(db.check_password("keyonly", ""), PasswordCheck::NoPassword);
    // The recovery user's password does not open other accounts.
    assert_eq!(db.authenticate_password("alice", "generated-secret"), None);
}

#[test]
fn a_configured_user_of_the_recovery_name_replaces_its_password_and_adds_keys() {
    let own = key();
    let configured = key();
    let recovery = Recovery::new("root", "generated", vec![own.clone()]);
    let db = UserDb::new(
        &recovery,
        vec![ConfigUser {
            name: "root".into(),
            password: Some(crypt::hash("new")),
            keys: vec![configured.clone()],
        }],
        None,
    );
    assert_eq!(db.recovery_password(), RecoveryPassword::Configured);
    assert!(db
        .authenticate_password("root", "new")
        .is_some_and(|i| i.recovery));
    assert!(db.authenticate_password("root", "generated").is_none());
    assert!(db.accepts_key("root", &own) && db.accepts_key("root", &configured));
    // Without a configured password the own one stays, the keys are still added.
    let db = UserDb::new(
        &recovery,
        vec![ConfigUser {
            name: "root".into(),
            password: None,
            keys: vec![configured.clone()],
        }],
        None,
    );
    assert_eq!(db.recovery_password(), RecoveryPassword::Own);
    assert!(db.authenticate_password("root", "generated").is_some());
    assert!(db.accepts_key("root", &configured));
}

#[test]
fn keys_are_per_user() {
    let k = key();
    let db = UserDb::new(
        &recovery(),
        vec![ConfigUser {
            name: "alice".into(),
            password: None,
            keys: vec![k.clone()],
        }],
        None,
    );
    assert!(db.accepts_key("alice", &k));
    assert!(!db.accepts_key("admin", &k));
    assert!(!db.accepts_key("bob", &k));
    assert!(!db.accepts_key("alice", &key()));
}

#[test]
fn read_takes_users_keys_and_hashes_from_the_tree() {
    let k = key();
    let hash = crypt::hash("pw");
    let t = tree(&format!(
        "<user><name>alice</name><password>{hash}</password>\
         <authorized-key><name>laptop</name><algorithm>ssh-ed25519</algorithm><key-data>{}</key-data></authorized-key></user>\
         <user><name>bob</name></user>",
        blob(&k)
    ));
    let (users, problems) = read(&schema(), &t);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].name, "alice");
    assert_eq!(users[0].password.as_deref(), Some(hash.as_str()));
    assert_eq!(users[0].keys, vec![k]);
    assert_eq!(users[1].password, None);
}

#[test]
fn read_reports_unusable_credentials_by_user() {
    let k = key();
    let t = tree(&format!(
        "<user><name>old</name><password>$1$abcdefgh$abcdefghijklmnopqrstuv</password></user>\
         <user><name>mixed</name><authorized-key><name>k</name><algorithm>ssh-rsa</algorithm><key-data>{}</key-data></authorized-key></user>\
         <user><name>junk</name><authorized-key><name>j</name><algorithm>ssh-ed25519</algorithm><key-data>AAAA</key-data></authorized-key></user>",
        blob(&k)
    ));
    let (users, problems) = read(&schema(), &t);
    assert_eq!(users.len(), 3);
    assert!(users
        .iter()
        .all(|u| u.password.is_none() && u.keys.is_empty()));
    let text: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    assert_eq!(problems.len(), 3, "{text:?}");
    assert!(text
        .iter()
        .any(|m| m.contains("user 'old'") && m.contains("$1$") && m.contains("$6$")));
    assert!(text
        .iter()
        .any(|m| m.contains("user 'mixed'") && m.contains("holds a 'ssh-ed25519' key")));
    assert!(text
        .iter()
        .any(|m| m.contains("user 'junk'") && m.contains("not an SSH public key")));
    let old = problems
        .iter()
        .find(|p| p.message.contains("'old'"))
        .unwrap();
    assert_eq!(
        old.path.as_deref(),
        Some("/ietf-system:system/ietf-system:authentication/ietf-system:user[ietf-system:name='old']/ietf-system:password")
    );
}

#[test]
fn cleartext_in_an_edit_is_hashed_and_other_values_kept() {
    let s = schema();
    let hash = crypt::hash("kept");
    let edit = elements(&system(&format!(
        "<user><name>alice</name><password>$0$alice-secret</password></user>\
         <user><name>bob</name><password>{hash}</password></user>"
    )));
    let out = hash_cleartext_in_edit(&s, &edit).unwrap();
    assert!(matches!(out, Cow::Owned(_)));
    let xml = out[0].to_xml();
    assert!(!xml.contains("alice-secret"), "{xml}");
    let alice = &out[0].children[0].children[0].children[1].text;
    assert!(
        alice.starts_with("$6$") && crypt::verify("alice-secret", alice),
        "{alice}"
    );
    assert_eq!(out[0].children[0].children[1].children[1].text, hash);
    // Nothing to hash: the edit is not copied.
    let plain = elements(&system("<user><name>carol</name></user>"));
    assert!(matches!(
        hash_cleartext_in_edit(&s, &plain).unwrap(),
        Cow::Borrowed(_)
    ));
}

#[test]
fn unverifiable_formats_in_an_edit_are_refused_naming_user_and_formats() {
    let s = schema();
    for (value, format) in [
        ("$1$abcdefgh$abcdefghijklmnopqrstuv", "$1$ (MD5-crypt)"),
        ("$9$x", "$9$"),
        ("plain", "not a crypt-hash"),
    ] {
        let edit = elements(&system(&format!(
            "<user><name>dave</name><password>{value}</password></user>"
        )));
        let e = hash_cleartext_in_edit(&s, &edit).unwrap_err();
        assert!(
            e.message.contains("user 'dave'")
                && e.message.contains(format)
                && e.message.contains("$0$")
                && e.message.contains("$5$")
                && e.message.contains("$6$"),
            "{value}: {}",
            e.message
        );
        assert_eq!(e.tag, ErrorTag::InvalidValue);
    }
    // A user being deleted is not checked.
    let edit = elements(&system(
        "<user xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"delete\"><name>dave</name><password>$9$x</password></user>",
    ));
    assert!(hash_cleartext_in_edit(&s, &edit).is_ok());
}

#[test]
fn cleartext_in_a_tree_is_hashed_in_place() {
    let s = schema();
    let mut t = tree("<user><name>alice</name><password>$0$tree-secret</password></user>");
    hash_cleartext_in_tree(&s, &mut t).unwrap();
    let (users, problems) = read(&s, &t);
    assert!(problems.is_empty(), "{problems:?}");
    let hash = users[0].password.as_deref().unwrap();
    assert!(hash.starts_with("$6$") && crypt::verify("tree-secret", hash));
    let mut bad = tree(
        "<user><name>old</name><password>$1$abcdefgh$abcdefghijklmnopqrstuv</password></user>",
    );
    let e = hash_cleartext_in_tree(&s, &mut bad).unwrap_err();
    assert!(
        e.message.contains("user 'old'") && e.message.contains("MD5"),
        "{}",
        e.message
    );
}

#[test]
fn the_subscriber_swaps_at_apply_and_vetoes_unusable_credentials() {
    let s = schema();
    let users = Users::start(Arc::clone(&s), recovery(), &DataTree::default());
    assert!(users.current().identity("alice").is_none());
    let new = tree(&format!(
        "<user><name>alice</name><password>{}</password></user>",
        crypt::hash("pw")
    ));
    let changes = diff(&s, &DataTree::default(), &new);
    let mut sub = users.subscriber();
    sub.prepare(&changes, &new).unwrap();
    // Not before apply.
    assert!(users
        .current()
        .authenticate_password("alice", "pw")
        .is_none());
    sub.apply(&changes, &new);
    assert!(users
        .current()
        .authenticate_password("alice", "pw")
        .is_some());

    // A veto leaves the database as it was.
    let bad = tree(
        "<user><name>old</name><password>$1$abcdefgh$abcdefghijklmnopqrstuv</password></user>",
    );
    let changes = diff(&s, &new, &bad);
    let mut sub = users.subscriber();
    let e = sub.prepare(&changes, &bad).unwrap_err();
    assert!(e.message.contains("user 'old'"), "{}", e.message);
    sub.abort();
    assert!(users
        .current()
        .authenticate_password("alice", "pw")
        .is_some());

    // Deleting the user: new logins fail; the recovery user still works.
    let empty = DataTree::default();
    let changes = diff(&s, &new, &empty);
    let mut sub = users.subscriber();
    sub.prepare(&changes, &empty).unwrap();
    sub.apply(&changes, &empty);
    assert!(users
        .current()
        .authenticate_password("alice", "pw")
        .is_none());
    assert!(users
        .current()
        .authenticate_password("admin", "generated-secret")
        .is_some());
}

#[test]
fn commits_elsewhere_do_not_rebuild() {
    let s = schema();
    let users = Users::start(Arc::clone(&s), recovery(), &DataTree::default());
    let before = users.current();
    let mut t = DataTree::default();
    apply_edit(
        &s,
        &mut t,
        &elements("<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>x</name></interface></interfaces>"),
        EditOp::Merge,
    )
    .unwrap();
    let changes = diff(&s, &DataTree::default(), &t);
    let mut sub = users.subscriber();
    sub.prepare(&changes, &t).unwrap();
    sub.apply(&changes, &t);
    assert!(Arc::ptr_eq(&before, &users.current()));
}

#[test]
fn the_configuration_can_rename_the_recovery_user() {
    let recovery = Recovery::new("admin", "generated", vec![]);
    let db = UserDb::new(
        &recovery,
        vec![ConfigUser {
            name: "admin".into(),
            password: Some(crypt::hash("old-admin")),
            keys: vec![],
        }],
        Some("root"),
    );
    assert_eq!(db.recovery_name(), "root");
    // The generated credentials follow the name; the old name is a plain user now.
    assert!(db
        .authenticate_password("root", "generated")
        .is_some_and(|i| i.recovery));
    assert!(db
        .authenticate_password("admin", "old-admin")
        .is_some_and(|i| !i.recovery));
    assert!(db.authenticate_password("admin", "generated").is_none());
}
