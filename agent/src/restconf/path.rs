//! RFC 8040 §3.5.3 api-paths (`ne-interfaces:interfaces/interface=eth0/description`) resolved
//! against the schema into the instance-identifiers the data tree takes.

use yang::data::{DataError, ErrorTag};
use yang::schema::NodeKind;
use yang::{NodeId, Schema};

/// A data resource named by a request URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The schema node of the last step; None for the datastore itself.
    pub node: Option<NodeId>,
    /// The instance-identifier in the tree's form (module prefixes); "" for the datastore.
    pub path: String,
    /// The instance-identifier of the parent resource ("" at the top).
    pub parent_path: String,
    /// The last step names a list (or leaf-list) without its keys: all its entries.
    pub all_entries: bool,
}

impl Resource {
    pub fn root() -> Resource {
        Resource {
            node: None,
            path: String::new(),
            parent_path: String::new(),
            all_entries: false,
        }
    }

    pub fn is_root(&self) -> bool {
        self.node.is_none()
    }

    /// The schema node of the parent resource (None at the top).
    pub fn parent_node(&self, schema: &Schema) -> Option<NodeId> {
        self.node.and_then(|n| schema.data_parent(n))
    }
}

fn bad(message: impl Into<String>) -> DataError {
    DataError::new(ErrorTag::InvalidValue, message)
}

/// Decode `%XX` escapes (RFC 3986 §2.1) into UTF-8 text.
pub fn percent_decode(s: &str) -> Result<String, DataError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad(format!("'{s}' has a bad percent-encoding")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad(format!("'{s}' is not UTF-8 once decoded")))
}

/// Resolve an api-path (the part of the URI after `{+restconf}/data/`, still percent-encoded;
/// "" for the datastore). Key values are checked and canonicalized through their types, so
/// `vrid=01` finds the entry stored as `1`.
pub fn resolve(schema: &Schema, api_path: &str) -> Result<Resource, DataError> {
    let api_path = api_path.trim_end_matches('/');
    if api_path.is_empty() {
        return Ok(Resource::root());
    }
    let mut res = Resource::root();
    let mut module_name: Option<String> = None;
    let segments: Vec<&str> = api_path.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if res.all_entries {
            return Err(bad(format!(
                "'{}' names a list without the keys of an entry",
                segments[i - 1]
            )));
        }
        let (ident, values) = match seg.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (*seg, None),
        };
        let ident = percent_decode(ident)?;
        let (module, name) = match ident.split_once(':') {
            Some((m, n)) => (m.to_string(), n.to_string()),
            None => match &module_name {
                Some(m) => (m.clone(), ident.clone()),
                None => {
                    return Err(bad(format!(
                        "'{ident}' needs its module name at the top (module:name, RFC 8040 §3.5.3)"
                    )))
                }
            },
        };
        let Some(mid) = schema.module_by_name(&module) else {
            return Err(DataError::new(
                ErrorTag::UnknownElement,
                format!("no module '{module}'"),
            ));
        };
        let m = schema.module(mid);
        let Some(id) = schema.find_child(res.node, &m.namespace, &name) else {
            return Err(DataError::new(
                ErrorTag::UnknownElement,
                format!(
                    "no data node '{module}:{name}' {}",
                    match res.node {
                        Some(p) => format!("under {}", schema.path(p)),
                        None => "at the top level".into(),
                    }
                ),
            )
            .path(res.path.clone()));
        };
        let sn = schema.node(id);
        let mut step = format!("/{}:{}", m.prefix, name);
        match (sn.kind, values) {
            (NodeKind::List, None) | (NodeKind::LeafList, None) => {
                if !last && sn.kind == NodeKind::LeafList {
                    return Err(bad(format!("'{name}' is a leaf-list; it has no children")));
                }
                res.all_entries = true;
            }
            (NodeKind::List, Some(v)) => {
                let given: Vec<&str> = v.split(',').collect();
                if given.len() != sn.keys.len() {
                    return Err(bad(format!(
                        "list '{name}' has {} key(s); the URI gives {}",
                        sn.keys.len(),
                        given.len()
                    )));
                }
                for (&k, raw) in sn.keys.iter().zip(given) {
                    let key = schema.node(k);
                    let value = canonical(schema, k, &percent_decode(raw)?)?;
                    step.push_str(&format!(
                        "[{}:{}={}]",
                        schema.module(key.module).prefix,
                        key.name,
                        yang::instance_id::quote(&value)
                    ));
                }
            }
            (NodeKind::LeafList, Some(v)) => {
                let value = canonical(schema, id, &percent_decode(v)?)?;
                step.push_str(&format!("[.={}]", yang::instance_id::quote(&value)));
            }
            (_, Some(_)) => {
                return Err(bad(format!(
                    "'{name}' is a {}; only list and leaf-list entries take '=' values",
                    sn.kind.keyword()
                )))
            }
            (NodeKind::Leaf | NodeKind::Anydata | NodeKind::Anyxml, None) if !last => {
                return Err(bad(format!(
                    "'{name}' is a {}; it has no children",
                    sn.kind.keyword()
                )))
            }
            _ => {}
        }
        res.parent_path = std::mem::take(&mut res.path);
        res.path = format!("{}{step}", res.parent_path);
        res.node = Some(id);
        module_name = Some(module);
    }
    Ok(res)
}

/// A key or leaf-list value in its canonical form.
fn canonical(schema: &Schema, id: NodeId, text: &str) -> Result<String, DataError> {
    let sn = schema.node(id);
    let Some(ty) = &sn.ty else {
        return Ok(text.to_string());
    };
    let resolver = |m: &str| schema.module_by_name(m);
    ty.canonical(schema, text, &resolver, Some(sn.module))
        .map_err(|e| bad(format!("{}: {}", sn.name, e.message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        yang::SchemaBuilder::new().embedded().build().unwrap()
    }

    #[test]
    fn resolves_keys_and_modules() {
        let s = schema();
        let r = resolve(&s, "ne-interfaces:interfaces/interface=eth%2D0/description").unwrap();
        assert_eq!(
            r.path,
            "/if:interfaces/if:interface[if:name='eth-0']/if:description"
        );
        assert_eq!(
            r.parent_path,
            "/if:interfaces/if:interface[if:name='eth-0']"
        );
        assert!(!r.all_entries);
        let all = resolve(&s, "ne-interfaces:interfaces/interface").unwrap();
        assert!(all.all_entries);
        assert!(resolve(&s, "").unwrap().is_root());
    }

    #[test]
    fn refuses_bad_paths_precisely() {
        let s = schema();
        for (p, want) in [
            ("interfaces", "needs its module name"),
            ("nope:interfaces", "no module 'nope'"),
            (
                "ne-interfaces:interfaces/bogus",
                "no data node 'ne-interfaces:bogus'",
            ),
            (
                "ne-interfaces:interfaces=x",
                "only list and leaf-list entries",
            ),
            (
                "ne-interfaces:interfaces/interface=a,b",
                "has 1 key(s); the URI gives 2",
            ),
            (
                "ne-interfaces:interfaces/interface/description",
                "without the keys",
            ),
            (
                "ne-interfaces:interfaces/interface=%zz",
                "bad percent-encoding",
            ),
        ] {
            let e = resolve(&s, p).unwrap_err();
            assert!(e.message.contains(want), "{p}: {}", e.message);
        }
    }
}
