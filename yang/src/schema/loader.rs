//! Finding module source text: the project's embedded modules and user search directories.

use std::path::{Path, PathBuf};

/// Where a module's text came from.
#[derive(Debug, Clone)]
pub struct ModuleSource {
    /// File name or `embedded:NAME.yang`.
    pub path: String,
    pub text: String,
}

/// The project's own modules, compiled into the binary.
pub fn embedded_modules() -> &'static [(&'static str, &'static str)] {
    &[
        ("ne-types", include_str!("../../modules/ne-types.yang")),
        (
            "ne-interfaces",
            include_str!("../../modules/ne-interfaces.yang"),
        ),
        (
            "ne-monitor-group",
            include_str!("../../modules/ne-monitor-group.yang"),
        ),
        ("ne-bfd", include_str!("../../modules/ne-bfd.yang")),
        ("ne-vrrp", include_str!("../../modules/ne-vrrp.yang")),
        (
            "ne-multicast",
            include_str!("../../modules/ne-multicast.yang"),
        ),
        ("ne-system", include_str!("../../modules/ne-system.yang")),
        // Standard modules (texts written here from the RFCs).
        (
            "ietf-yang-types",
            include_str!("../../modules/ietf-yang-types.yang"),
        ),
        (
            "ietf-inet-types",
            include_str!("../../modules/ietf-inet-types.yang"),
        ),
        (
            "iana-crypt-hash",
            include_str!("../../modules/iana-crypt-hash.yang"),
        ),
        (
            "ietf-netconf-acm",
            include_str!("../../modules/ietf-netconf-acm.yang"),
        ),
        (
            "ietf-system",
            include_str!("../../modules/ietf-system.yang"),
        ),
        (
            "ne-system-deviations",
            include_str!("../../modules/ne-system-deviations.yang"),
        ),
        // NETCONF monitoring and the YANG library: the server reports itself with them.
        (
            "ietf-datastores",
            include_str!("../../modules/ietf-datastores.yang"),
        ),
        (
            "ietf-netconf-monitoring",
            include_str!("../../modules/ietf-netconf-monitoring.yang"),
        ),
        (
            "ietf-yang-library",
            include_str!("../../modules/ietf-yang-library.yang"),
        ),
    ]
}

/// Embedded modules the device only imports: type libraries, not implemented (RFC 8525
/// `import-only-module`).
pub(crate) const EMBEDDED_IMPORT_ONLY: &[&str] =
    &["ietf-yang-types", "ietf-inet-types", "iana-crypt-hash"];

/// The features the device supports, for the embedded modules that define features: exactly
/// these are enabled. What ietf-system does not implement beyond its
/// features is declared in ne-system-deviations.
pub(crate) const EMBEDDED_FEATURES: &[(&str, &[&str])] = &[
    ("ietf-system", &["authentication", "local-users"]),
    // Only imported, so its features would not be advertised; none is claimed until the
    // agent hashes passwords itself.
    ("iana-crypt-hash", &[]),
];

/// The newest `revision` of a parsed module or submodule.
pub(crate) fn newest_revision(st: &crate::stmt::Stmt) -> Option<String> {
    st.all("revision").map(|r| r.arg().to_string()).max()
}

/// Does this source text hold a module whose newest revision is `revision`?
fn has_revision(text: &str, revision: &str) -> bool {
    crate::stmt::parse(text)
        .ok()
        .and_then(|st| newest_revision(&st))
        .as_deref()
        == Some(revision)
}

/// Search for `name` (optionally at `revision`): directories first (in order), then the embedded
/// modules. Without a revision the newest `name@REV.yang` in a directory wins over `name.yang`.
/// With a revision only a file of that revision is taken: `name@REV.yang`, or a plain `name.yang`
/// (or embedded module) whose newest `revision` statement is `REV`.
pub fn find_module(
    dirs: &[PathBuf],
    use_embedded: bool,
    name: &str,
    revision: Option<&str>,
) -> Option<ModuleSource> {
    for dir in dirs {
        if let Some(found) = find_in_dir(dir, name, revision) {
            return Some(found);
        }
    }
    if use_embedded {
        for (n, text) in embedded_modules() {
            if *n == name && revision.is_none_or(|rev| has_revision(text, rev)) {
                return Some(ModuleSource {
                    path: format!("embedded:{n}.yang"),
                    text: (*text).to_string(),
                });
            }
        }
    }
    None
}

fn find_in_dir(dir: &Path, name: &str, revision: Option<&str>) -> Option<ModuleSource> {
    let read = |p: PathBuf| -> Option<ModuleSource> {
        let text = std::fs::read_to_string(&p).ok()?;
        Some(ModuleSource {
            path: p.display().to_string(),
            text,
        })
    };
    let plain = dir.join(format!("{name}.yang"));
    if let Some(rev) = revision {
        let p = dir.join(format!("{name}@{rev}.yang"));
        if p.is_file() {
            return read(p);
        }
        // No file named for the revision: a plain file of that revision will do, but never
        // another revision (RFC 7950 §7.1.5).
        if plain.is_file() {
            return read(plain).filter(|src| has_revision(&src.text, rev));
        }
        return None;
    }
    // Newest revisioned file, else the plain name.
    let mut best: Option<(String, PathBuf)> = None;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let fname = e.file_name();
            let Some(fname) = fname.to_str() else {
                continue;
            };
            let Some(stem) = fname.strip_suffix(".yang") else {
                continue;
            };
            if let Some((n, rev)) = stem.split_once('@') {
                if n == name && best.as_ref().is_none_or(|(b, _)| rev > b.as_str()) {
                    best = Some((rev.to_string(), e.path()));
                }
            }
        }
    }
    let candidate = match best {
        Some((_, p)) => Some(p),
        None if plain.is_file() => Some(plain),
        None => None,
    }?;
    read(candidate)
}
