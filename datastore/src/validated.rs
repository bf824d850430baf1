//! A mark that running, as stored, passed whole-tree validation against this schema.
//!
//! Every commit validates what it writes (the changes against a running known to be valid, or
//! the whole tree when it is not), so a stored running was valid against the models it was
//! committed under. Boot then only has to validate the whole tree when the models changed since:
//! the mark holds a fingerprint of the schema (every source text, the enabled features and the
//! validator's rules version) and is written when running is found valid at boot, or with the
//! first commit after a boot that found it invalid. A missing mark (a database written before
//! marks existed) or another fingerprint means the check runs as before.

use yang::Schema;

/// The sled key of the mark; its value is [`fingerprint`] of the schema running was checked
/// against.
pub(crate) const VALIDATED: &[u8] = b"m:validated";

/// Bump whenever validation may refuse a configuration an earlier build accepted (a stricter
/// check, a fixed bug): a mark written under the old rules then no longer counts.
const RULES: u32 = 1;

/// FNV-1a over the rules version, every module's name, revision and features, and every
/// source text (models given on the command line included), in the schema's order.
pub(crate) fn fingerprint(schema: &Schema) -> [u8; 8] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut add = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that moving text from one field to the next changes the hash.
        h = (h ^ 0xff).wrapping_mul(0x0100_0000_01b3);
    };
    add(&RULES.to_be_bytes());
    for m in &schema.modules {
        add(m.name.as_bytes());
        add(m.revision.as_deref().unwrap_or("").as_bytes());
        for f in &m.enabled_features {
            add(f.as_bytes());
        }
    }
    for s in &schema.sources {
        add(s.name.as_bytes());
        add(s.text.as_bytes());
    }
    h.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(leaf_type: &str) -> Schema {
        yang::SchemaBuilder::new()
            .without_embedded()
            .source(
                "x.yang",
                format!(
                    r#"module x {{ yang-version 1.1; namespace "urn:x"; prefix x;
                      leaf v {{ type {leaf_type} }} }}"#
                ),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn the_same_models_give_the_same_fingerprint_and_a_changed_type_another() {
        let a = fingerprint(&schema("string;"));
        assert_eq!(a, fingerprint(&schema("string;")));
        assert_ne!(a, fingerprint(&schema("string { length 1..2; }")));
    }
}
