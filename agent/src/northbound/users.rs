//! The user database: who may log in, and with what.
//!
//! Users are the entries of `/ietf-system:system/authentication/user` in running (RFC 7317 §3.4:
//! a crypt-hash password, SSH public keys), plus the recovery user of the command line (by default
//! `admin`, with the generated or `--password-file` password and the `--authorized-keys` keys).
//! The recovery user always exists, so a configuration can never lock everybody out; NACM never
//! restricts it (RFC 8341 §3.4, the "recovery session"). A configured user of the same name gives
//! it a new password (replacing the generated one) and more keys.
//!
//! [`Users`] holds the current [`UserDb`] and swaps it when a commit changes `/system`: new logins
//! see the new database at once, sessions already open keep running (a user who deletes itself
//! keeps its session until it ends).
//!
//! Passwords enter the datastores only as `$5$`/`$6$` hashes: [`hash_cleartext_in_edit`] and
//! [`hash_cleartext_in_tree`] replace `$0$` cleartext before an edit or a copy reaches a datastore
//! and refuse the formats the device cannot verify, naming the user.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use base64ct::{Base64, Encoding};
use russh::keys::PublicKey;
use tracing::{info, warn};
use yang::data::{DataError, DataNode, DataTree, ErrorTag};
use yang::diff::Change;
use yang::schema::NodeId;
use yang::xml::Element;
use yang::Schema;

use super::crypt;

/// The ietf-system namespace (RFC 7317).
pub const SYSTEM_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-system";

/// The NETCONF base namespace, of the `operation` attribute in edits.
const BASE_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    /// The recovery user: never restricted by NACM (RFC 8341 §3.4).
    pub recovery: bool,
}

/// The recovery user's own credentials, from the command line and the data directory.
pub struct Recovery {
    pub name: String,
    /// `$6$` hash of the generated or `--password-file` password.
    password: String,
    /// `--authorized-keys`.
    pub keys: Vec<PublicKey>,
}

impl Recovery {
    /// Hashes `password` once, so that every password check costs the same whoever the user is.
    pub fn new(name: impl Into<String>, password: &str, keys: Vec<PublicKey>) -> Recovery {
        Recovery {
            name: name.into(),
            password: crypt::hash(password),
            keys,
        }
    }
}

impl fmt::Debug for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recovery")
            .field("name", &self.name)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// One `system/authentication/user` entry as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigUser {
    pub name: String,
    /// A `$5$`/`$6$` hash.
    pub password: Option<String>,
    pub keys: Vec<PublicKey>,
}

#[derive(Default)]
struct Account {
    /// A `$5$`/`$6$` hash, or none: no password login.
    password: Option<String>,
    keys: Vec<PublicKey>,
}

/// Where the recovery user's password comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryPassword {
    /// The generated or `--password-file` one.
    Own,
    /// A configured user of the same name has a password: it replaces the own one.
    Configured,
}

/// An immutable snapshot of who may log in.
pub struct UserDb {
    recovery: String,
    recovery_password: RecoveryPassword,
    accounts: HashMap<String, Account>,
}

/// What [`UserDb::check_password`] found; only the log tells these apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordCheck {
    Accepted(Identity),
    UnknownUser,
    NoPassword,
    WrongPassword,
}

impl UserDb {
    /// The recovery user's credentials merged with the configured users. `renamed`: the
    /// recovery user's name from the configuration (`ne-system:recovery-user`), if set.
    pub fn new(recovery: &Recovery, users: Vec<ConfigUser>, renamed: Option<&str>) -> UserDb {
        let name = renamed.unwrap_or(&recovery.name);
        let mut accounts: HashMap<String, Account> = HashMap::new();
        let mut recovery_password = RecoveryPassword::Own;
        for u in users {
            if u.name == name && u.password.is_some() {
                recovery_password = RecoveryPassword::Configured;
            }
            accounts.insert(
                u.name,
                Account {
                    password: u.password,
                    keys: u.keys,
                },
            );
        }
        let r = accounts.entry(name.to_string()).or_default();
        if r.password.is_none() {
            r.password = Some(recovery.password.clone());
        }
        r.keys.extend(recovery.keys.iter().cloned());
        UserDb {
            recovery: name.to_string(),
            recovery_password,
            accounts,
        }
    }

    /// The identity of a known user.
    pub fn identity(&self, user: &str) -> Option<Identity> {
        self.accounts.contains_key(user).then(|| Identity {
            name: user.to_string(),
            recovery: user == self.recovery,
        })
    }

    /// Password login. The cost is one hash computation whether or not the user exists (an
    /// unknown user is checked against a dummy hash), so timing does not tell which users exist.
    pub fn authenticate_password(&self, user: &str, password: &str) -> Option<Identity> {
        match self.check_password(user, password) {
            PasswordCheck::Accepted(id) => Some(id),
            _ => None,
        }
    }

    /// [`UserDb::authenticate_password`] with the reason of a refusal, for the log.
    pub fn check_password(&self, user: &str, password: &str) -> PasswordCheck {
        let account = self.accounts.get(user);
        let hash = account.and_then(|a| a.password.as_deref());
        let matched = crypt::verify(password, hash.unwrap_or_else(|| dummy_hash()));
        match (account, hash) {
            (None, _) => PasswordCheck::UnknownUser,
            (Some(_), None) => PasswordCheck::NoPassword,
            (Some(_), Some(_)) if matched => match self.identity(user) {
                Some(id) => PasswordCheck::Accepted(id),
                None => PasswordCheck::UnknownUser,
            },
            (Some(_), Some(_)) => PasswordCheck::WrongPassword,
        }
    }

    /// Is `key` one of `user`'s authorized keys (compared as SSH key blobs)?
    pub fn accepts_key(&self, user: &str, key: &PublicKey) -> bool {
        self.accounts
            .get(user)
            .is_some_and(|a| a.keys.iter().any(|k| k.key_data() == key.key_data()))
    }

    /// Number of users, the recovery user included.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The recovery user's name in this database.
    pub fn recovery_name(&self) -> &str {
        &self.recovery
    }

    pub fn recovery_password(&self) -> RecoveryPassword {
        self.recovery_password
    }
}

/// A hash no password matches in practice, for unknown users.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| crypt::hash("no such user: this value is never a password"))
}

/// The current user database, swapped at commit.
pub struct Users {
    schema: Arc<Schema>,
    recovery: Recovery,
    db: RwLock<Arc<UserDb>>,
}

impl Users {
    /// The database of `running` at start. Entries the device cannot use (a password format it
    /// cannot verify, a key it cannot read) are left out with a warning: the start never fails
    /// for them, and the recovery user works whatever the configuration holds.
    pub fn start(schema: Arc<Schema>, recovery: Recovery, running: &DataTree) -> Users {
        let (users, problems) = read(&schema, running);
        for p in &problems {
            warn!(path = p.path.as_deref().unwrap_or(""), problem = %p.message, "a configured user credential is ignored");
        }
        let renamed = recovery_user(&schema, running);
        let db = UserDb::new(&recovery, users, renamed.as_deref());
        let source = match db.recovery_password() {
            RecoveryPassword::Own => "generated or --password-file",
            RecoveryPassword::Configured => {
                "the running configuration (a configured user of the same name; it replaces the generated or --password-file one)"
            }
        };
        info!(
            recovery_user = %db.recovery_name(),
            password = source,
            users = db.len(),
            "user database ready"
        );
        Users {
            schema,
            recovery,
            db: RwLock::new(Arc::new(db)),
        }
    }

    /// The database new logins use.
    pub fn current(&self) -> Arc<UserDb> {
        Arc::clone(&self.db.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The recovery user's name now (`--recovery-user`, or the configuration's
    /// `ne-system:recovery-user`).
    pub fn recovery_name(&self) -> String {
        self.current().recovery_name().to_string()
    }

    /// The identity of a user name, known or not: NACM needs `recovery` for any session.
    pub fn identity(&self, name: &str) -> Identity {
        Identity {
            name: name.to_string(),
            recovery: name == self.current().recovery_name(),
        }
    }

    /// A commit-pipeline subscriber for one commit.
    pub fn subscriber(&self) -> UsersSubscriber<'_> {
        UsersSubscriber {
            users: self,
            pending: None,
        }
    }
}

/// Rebuilds the database when a commit changes `/system`: `prepare` refuses credentials the device
/// cannot use, `apply` swaps the new database in.
pub struct UsersSubscriber<'a> {
    users: &'a Users,
    pending: Option<UserDb>,
}

impl datastore::Subscriber for UsersSubscriber<'_> {
    fn prepare(&mut self, changes: &[Change], new: &DataTree) -> Result<(), DataError> {
        self.pending = None;
        let schema = &self.users.schema;
        let Some(m) = schema.module_by_namespace(SYSTEM_NS) else {
            return Ok(());
        };
        let prefix = format!("/{}:system", schema.module(m).prefix);
        if !changes.iter().any(|c| c.path.starts_with(&prefix)) {
            return Ok(());
        }
        let (users, mut problems) = read(schema, new);
        if !problems.is_empty() {
            return Err(problems.swap_remove(0));
        }
        let renamed = recovery_user(schema, new);
        self.pending = Some(UserDb::new(&self.users.recovery, users, renamed.as_deref()));
        Ok(())
    }

    fn apply(&mut self, _changes: &[Change], _new: &DataTree) {
        let Some(db) = self.pending.take() else {
            return;
        };
        let before = self.users.current().recovery_password();
        let after = db.recovery_password();
        let count = db.len();
        *self.users.db.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(db);
        info!(
            users = count,
            "user database updated: new logins use it, open sessions continue"
        );
        if before != after {
            let recovery_user = self.users.recovery_name();
            match after {
                RecoveryPassword::Configured => {
                    info!(%recovery_user, "the recovery user's password is now the configured one")
                }
                RecoveryPassword::Own => {
                    info!(%recovery_user, "the recovery user's password is the generated or --password-file one again")
                }
            }
        }
    }

    fn abort(&mut self) {
        self.pending = None;
    }
}

/// The schema nodes of `system/authentication/user`.
struct Nodes {
    system: NodeId,
    authentication: NodeId,
    user: NodeId,
    name: NodeId,
    password: NodeId,
    key: NodeId,
    key_name: NodeId,
    algorithm: NodeId,
    key_data: NodeId,
}

impl Nodes {
    fn of(schema: &Schema) -> Option<Nodes> {
        let find = |parent, name| schema.find_child(parent, SYSTEM_NS, name);
        let system = find(None, "system")?;
        let authentication = find(Some(system), "authentication")?;
        let user = find(Some(authentication), "user")?;
        let key = find(Some(user), "authorized-key")?;
        Some(Nodes {
            system,
            authentication,
            user,
            name: find(Some(user), "name")?,
            password: find(Some(user), "password")?,
            key,
            key_name: find(Some(key), "name")?,
            algorithm: find(Some(key), "algorithm")?,
            key_data: find(Some(key), "key-data")?,
        })
    }
}

/// The recovery user's name from `tree` (`/system/authentication/ne-system:recovery-user`).
pub fn recovery_user(schema: &Schema, tree: &DataTree) -> Option<String> {
    let n = Nodes::of(schema)?;
    let leaf = schema.find_child(Some(n.authentication), NE_SYSTEM_NS, "recovery-user")?;
    let system = tree.instances(schema, n.system).first()?;
    let auth = system.instances(schema, n.authentication).first()?;
    value(schema, auth, leaf).map(str::to_string)
}

const NE_SYSTEM_NS: &str = "urn:ne-agent:yang:ne-system";

/// The configured users of `tree`, and what is wrong with their credentials.
pub fn read(schema: &Schema, tree: &DataTree) -> (Vec<ConfigUser>, Vec<DataError>) {
    let mut users = Vec::new();
    let mut problems = Vec::new();
    let Some(n) = Nodes::of(schema) else {
        return (users, problems);
    };
    let p = prefix(schema);
    for system in tree.instances(schema, n.system) {
        for auth in system.instances(schema, n.authentication) {
            for entry in auth.instances(schema, n.user) {
                let name = value(schema, entry, n.name).unwrap_or_default().to_string();
                let path = user_path(&p, &name);
                let password = match value(schema, entry, n.password) {
                    None => None,
                    Some(v) => match crypt::from_config(v) {
                        Ok(s) if !s.from_cleartext() => Some(v.to_string()),
                        Ok(_) => {
                            problems.push(password_error(
                                &p,
                                &name,
                                "a $0$ cleartext password was not hashed before it reached the datastore; give it again",
                            ));
                            None
                        }
                        Err(e) => {
                            problems.push(password_error(&p, &name, &e.to_string()));
                            None
                        }
                    },
                };
                let mut keys = Vec::new();
                for k in entry.instances(schema, n.key) {
                    let key_name = value(schema, k, n.key_name).unwrap_or_default();
                    let algorithm = value(schema, k, n.algorithm).unwrap_or_default();
                    let data = value(schema, k, n.key_data).unwrap_or_default();
                    match parse_key(algorithm, data) {
                        Ok(key) => keys.push(key),
                        Err(why) => problems.push(
                            DataError::new(
                                ErrorTag::InvalidValue,
                                format!("user '{name}', authorized-key '{key_name}': {why}"),
                            )
                            .path(format!(
                                "{path}/{p}:authorized-key[{p}:name={}]",
                                quote(key_name)
                            ))
                            .info("bad-element", "key-data"),
                        ),
                    }
                }
                users.push(ConfigUser {
                    name,
                    password,
                    keys,
                });
            }
        }
    }
    (users, problems)
}

/// An authorized key: `key-data` is the SSH wire-format blob (RFC 4253 §6.6), and its own format
/// name must be the configured algorithm.
fn parse_key(algorithm: &str, key_data: &str) -> Result<PublicKey, String> {
    let compact: String = key_data.chars().filter(|c| !c.is_whitespace()).collect();
    let blob = Base64::decode_vec(&compact).map_err(|_| "key-data is not base64".to_string())?;
    let key = PublicKey::from_bytes(&blob).map_err(|e| {
        format!("key-data is not an SSH public key blob (the base64 field of an OpenSSH .pub line): {e}")
    })?;
    let actual = key.algorithm();
    if actual.as_str() != algorithm {
        return Err(format!(
            "algorithm is '{algorithm}' but key-data holds a '{}' key",
            actual.as_str()
        ));
    }
    Ok(key)
}

fn value<'a>(schema: &Schema, node: &'a DataNode, id: NodeId) -> Option<&'a str> {
    node.child(schema, id).and_then(|c| c.value.as_deref())
}

/// The module prefix of ietf-system, as instance-identifiers write it.
fn prefix(schema: &Schema) -> String {
    schema
        .module_by_namespace(SYSTEM_NS)
        .map(|m| schema.module(m).prefix.clone())
        .unwrap_or_else(|| "sys".to_string())
}

fn user_path(p: &str, name: &str) -> String {
    format!(
        "/{p}:system/{p}:authentication/{p}:user[{p}:name={}]",
        quote(name)
    )
}

/// An XPath string literal.
fn quote(s: &str) -> String {
    if s.contains('\'') {
        format!("\"{s}\"")
    } else {
        format!("'{s}'")
    }
}

fn password_error(p: &str, user: &str, why: &str) -> DataError {
    DataError::new(ErrorTag::InvalidValue, format!("user '{user}': {why}"))
        .path(format!("{}/{p}:password", user_path(p, user)))
        .info("bad-element", "password")
}

/// The password values of an edit-config `<config>`: `$0$` cleartext is replaced by a fresh `$6$`
/// hash (the edit is copied only then), and a value whose format the device cannot verify is
/// refused, naming the user, before anything is changed. Entries being deleted are left alone.
pub fn hash_cleartext_in_edit<'e>(
    schema: &Schema,
    config: &'e [Element],
) -> Result<Cow<'e, [Element]>, DataError> {
    let p = prefix(schema);
    let mut cleartext = Vec::new();
    for (i, system) in children(config, "system") {
        for (j, auth) in children(&system.children, "authentication") {
            for (k, user) in children(&auth.children, "user") {
                let name = user
                    .child(SYSTEM_NS, "name")
                    .map(|n| n.text.trim())
                    .unwrap_or("");
                for (l, pw) in children(&user.children, "password") {
                    let stored = crypt::from_config(&pw.text)
                        .map_err(|e| password_error(&p, name, &e.to_string()))?;
                    if stored.from_cleartext() {
                        cleartext.push(([i, j, k, l], stored.as_str().to_string()));
                    }
                }
            }
        }
    }
    if cleartext.is_empty() {
        return Ok(Cow::Borrowed(config));
    }
    let mut copy = config.to_vec();
    for ([i, j, k, l], hash) in cleartext {
        copy[i].children[j].children[k].children[l].text = hash;
    }
    Ok(Cow::Owned(copy))
}

/// The ietf-system children called `name` of an edit, with their index, except deletions.
fn children<'e>(
    elements: &'e [Element],
    name: &'e str,
) -> impl Iterator<Item = (usize, &'e Element)> + 'e {
    elements.iter().enumerate().filter(move |(_, e)| {
        e.ns == SYSTEM_NS
            && e.name == name
            && !matches!(e.attr(BASE_NS, "operation"), Some("delete" | "remove"))
    })
}

/// [`hash_cleartext_in_edit`] for a whole tree (copy-config): `$0$` passwords hashed in place,
/// unverifiable formats refused.
pub fn hash_cleartext_in_tree(schema: &Schema, tree: &mut DataTree) -> Result<(), DataError> {
    let Some(n) = Nodes::of(schema) else {
        return Ok(());
    };
    let p = prefix(schema);
    let mut any_cleartext = false;
    for system in tree.instances(schema, n.system) {
        for auth in system.instances(schema, n.authentication) {
            for entry in auth.instances(schema, n.user) {
                if let Some(v) = value(schema, entry, n.password) {
                    let name = value(schema, entry, n.name).unwrap_or_default();
                    if v.starts_with("$0$") {
                        any_cleartext = true;
                    } else {
                        crypt::from_config(v)
                            .map_err(|e| password_error(&p, name, &e.to_string()))?;
                    }
                }
            }
        }
    }
    if !any_cleartext {
        return Ok(());
    }
    // Copy-on-write down to the passwords; only /system is copied.
    let is = |id: NodeId| move |c: &&mut Arc<DataNode>| c.schema == id;
    for system in tree.roots.iter_mut().filter(is(n.system)) {
        let system = Arc::make_mut(system);
        for auth in system.children.iter_mut().filter(is(n.authentication)) {
            let auth = Arc::make_mut(auth);
            for entry in auth.children.iter_mut().filter(is(n.user)) {
                let cleartext =
                    value(schema, entry, n.password).is_some_and(|v| v.starts_with("$0$"));
                if !cleartext {
                    continue;
                }
                let entry = Arc::make_mut(entry);
                for pw in entry.children.iter_mut().filter(is(n.password)) {
                    let pw = Arc::make_mut(pw);
                    if let Some(v) = &pw.value {
                        pw.value = Some(crypt::hash(v.strip_prefix("$0$").unwrap_or(v)));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
