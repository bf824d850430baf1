//! JSON (RFC 7951) -> data tree, checked against the schema on the way in exactly as the XML
//! decoder checks: the same canonical values, sibling order, error tags, error paths and
//! `bad-element`s, so that decoding the JSON and the XML forms of some data gives equal trees.

use std::sync::Arc;

use super::parse::{parse, Value};
use super::value;
use crate::data::decode::step_name;
use crate::data::{insert_sorted, DataError, DataNode, DataTree, DecodeOptions, ErrorTag, SeqMut};
use crate::instance_id::quote;
use crate::schema::{ModuleId, NodeId, NodeKind, Schema};

/// The one RFC 7952 annotation accepted on input (and ignored): the with-defaults tag that a
/// `report-all-tagged` reply carries (RFC 8040 §4.8.9), so that such a reply can be sent back.
const DEFAULT_ANNOTATION: &str = "ietf-netconf-with-defaults:default";

/// Decode a JSON text: one object whose members are module-qualified top-level data nodes.
pub fn decode(schema: &Schema, text: &str, opts: DecodeOptions) -> Result<DataTree, DataError> {
    Ok(DataTree {
        roots: decode_nodes(schema, text, None, "", opts)?,
    })
}

/// Decode a JSON object whose members are data nodes under `parent` (None: the top level),
/// e.g. the body of a RESTCONF request for a resource below the datastore root. A member is
/// named `module:name`, or `name` alone when it is in the parent's module (RFC 7951 §4);
/// `parent_path` (an instance-identifier, "" at the top) prefixes error paths. The nodes come
/// back sorted, as siblings are kept.
pub fn decode_nodes(
    schema: &Schema,
    text: &str,
    parent: Option<NodeId>,
    parent_path: &str,
    opts: DecodeOptions,
) -> Result<Vec<Arc<DataNode>>, DataError> {
    let v = parse(text).map_err(|e| DataError::new(ErrorTag::MalformedMessage, e.to_string()))?;
    let Value::Object(members) = &v else {
        return Err(DataError::new(
            ErrorTag::MalformedMessage,
            format!(
                "the JSON text is {}; YANG data is an object of data node members (RFC 7951 §4)",
                v.kind()
            ),
        ));
    };
    let mut out = Vec::new();
    Decoder { schema, opts }.object(members, parent, parent_path, &mut out)?;
    Ok(out)
}

type Members<'a> = [(std::borrow::Cow<'a, str>, Value<'a>)];

struct Decoder<'s> {
    schema: &'s Schema,
    opts: DecodeOptions,
}

fn at(parent_path: &str) -> String {
    if parent_path.is_empty() {
        "/".to_string()
    } else {
        parent_path.to_string()
    }
}

impl Decoder<'_> {
    /// The members of one object into `out`, the children of `parent`.
    fn object<S: SeqMut + ?Sized>(
        &self,
        members: &Members<'_>,
        parent: Option<NodeId>,
        parent_path: &str,
        out: &mut S,
    ) -> Result<(), DataError> {
        let parent_module = parent.map(|p| self.schema.node(p).module);
        let mut seen: Vec<(NodeId, &str)> = Vec::new();
        for (name, v) in members {
            if let Some(target) = name.strip_prefix('@') {
                self.metadata(members, target, v, parent_path)?;
                continue;
            }
            let id = self.resolve(parent, parent_module, name, parent_path)?;
            if let Some((_, earlier)) = seen.iter().find(|(s, _)| *s == id) {
                let what = if earlier == name {
                    String::new()
                } else {
                    format!(" (as '{earlier}' and as '{name}')")
                };
                return Err(DataError::new(
                    ErrorTag::InvalidValue,
                    format!(
                        "'{}' appears twice in one object{what}",
                        self.schema.node(id).name
                    ),
                )
                .bad_element(&self.schema.node(id).name)
                .path(at(parent_path)));
            }
            seen.push((id, name));
            self.member(id, v, parent_path, out)?;
        }
        Ok(())
    }

    /// The schema node a member name stands for under `parent`.
    fn resolve(
        &self,
        parent: Option<NodeId>,
        parent_module: Option<ModuleId>,
        name: &str,
        parent_path: &str,
    ) -> Result<NodeId, DataError> {
        let s = self.schema;
        let (module, local) = match name.split_once(':') {
            Some((m, local)) => match s.module_by_name(m) {
                Some(id) => (id, local),
                None => {
                    return Err(DataError::new(
                        ErrorTag::UnknownNamespace,
                        format!("member '{name}' names module '{m}', which is not loaded"),
                    )
                    .bad_element(local)
                    .info("bad-namespace", m)
                    .path(at(parent_path)))
                }
            },
            None => match parent_module {
                Some(m) => (m, name),
                None => {
                    return Err(DataError::new(
                        ErrorTag::UnknownNamespace,
                        format!(
                            "top-level member '{name}' needs its module name ('module:{name}', RFC 7951 §4)"
                        ),
                    )
                    .bad_element(name)
                    .path("/"))
                }
            },
        };
        let children = s.data_children_ref(parent);
        if let Some(&id) = children.iter().find(|&&c| {
            let n = s.node(c);
            n.module == module && n.name == local
        }) {
            return Ok(id);
        }
        let under = match parent {
            Some(p) => format!("under '{}'", s.node(p).name),
            None => "at the top level".to_string(),
        };
        // A node of another module (an augmentation) is named with its module.
        let hint = children
            .iter()
            .map(|&c| s.node(c))
            .find(|n| n.name == local && n.module != module)
            .map(|n| format!("; did you mean '{}:{local}'?", s.module(n.module).name))
            .unwrap_or_default();
        Err(DataError::new(
            ErrorTag::UnknownElement,
            format!(
                "no schema node '{}:{local}' {under}{hint}",
                s.module(module).name
            ),
        )
        .bad_element(local)
        .path(at(parent_path)))
    }

    fn member<S: SeqMut + ?Sized>(
        &self,
        id: NodeId,
        v: &Value<'_>,
        parent_path: &str,
        out: &mut S,
    ) -> Result<(), DataError> {
        let s = self.schema;
        let sn = s.node(id);
        // Built when needed: a leaf's path only goes into an error.
        let path = || format!("{parent_path}/{}", step_name(s, id));
        if self.opts.config_only && !sn.config {
            return Err(DataError::new(
                ErrorTag::InvalidValue,
                format!(
                    "'{}' is state data (config false) and cannot be configured",
                    sn.name
                ),
            )
            .bad_element(&sn.name)
            .path(path()));
        }
        match sn.kind {
            NodeKind::Leaf => {
                let value = self.leaf_value(id, v, &path)?;
                self.insert(out, DataNode::leaf(id, value), parent_path)
            }
            NodeKind::LeafList => {
                let Value::Array(items) = v else {
                    return Err(self.shape(id, "an array of values (RFC 7951 §5.3)", v, path()));
                };
                for item in items {
                    let value = self.leaf_value(id, item, &path)?;
                    self.insert(out, DataNode::leaf(id, value), parent_path)?;
                }
                Ok(())
            }
            NodeKind::Container => {
                let path = path();
                let Value::Object(members) = v else {
                    return Err(self.shape(id, "an object (RFC 7951 §5.1)", v, path));
                };
                let mut node = DataNode::inner(id);
                self.object(members, Some(id), &path, &mut node.children)?;
                self.insert(out, node, parent_path)
            }
            NodeKind::List => {
                let path = path();
                let Value::Array(items) = v else {
                    return Err(self.shape(
                        id,
                        "an array of entry objects (RFC 7951 §5.4)",
                        v,
                        path,
                    ));
                };
                for item in items {
                    let Value::Object(members) = item else {
                        return Err(self.shape(
                            id,
                            "an array of entry objects (RFC 7951 §5.4), and an entry is an object",
                            item,
                            path,
                        ));
                    };
                    let mut entry_path = path.clone();
                    entry_path.push_str(&self.key_predicates(id, members, &path)?);
                    let mut node = DataNode::inner(id);
                    self.object(members, Some(id), &entry_path, &mut node.children)?;
                    self.insert(out, node, parent_path)?;
                }
                Ok(())
            }
            NodeKind::Anydata | NodeKind::Anyxml => {
                let content = self.anydata(id, v, &path())?;
                self.insert(out, DataNode::leaf(id, content), parent_path)
            }
            _ => Err(DataError::new(
                ErrorTag::UnknownElement,
                format!("'{}' is not a data node", sn.name),
            )
            .bad_element(&sn.name)
            .path(at(parent_path))),
        }
    }

    /// A value of the wrong JSON type for its node's kind.
    fn shape(&self, id: NodeId, want: &str, got: &Value<'_>, path: String) -> DataError {
        let sn = self.schema.node(id);
        DataError::new(
            ErrorTag::BadElement,
            format!(
                "'{}' is a {}: its value is {want}, not {}",
                sn.name,
                sn.kind.keyword(),
                got.kind()
            ),
        )
        .bad_element(&sn.name)
        .path(path)
    }

    /// Check and canonicalize a leaf or leaf-list value.
    fn leaf_value(
        &self,
        id: NodeId,
        v: &Value<'_>,
        path: &dyn Fn() -> String,
    ) -> Result<String, DataError> {
        let sn = self.schema.node(id);
        let scalar = match v {
            Value::Object(_) => false,
            Value::Array(items) => matches!(items.as_slice(), [Value::Null]),
            _ => true,
        };
        if !scalar {
            let want = if sn.kind == NodeKind::LeafList {
                "an array of values (RFC 7951 §5.3), and a value is a string, number, boolean or [null]"
            } else {
                "a string, number, boolean or [null] (RFC 7951 §5.2)"
            };
            return Err(self.shape(id, want, v, path()));
        }
        let Some(ty) = &sn.ty else {
            return match v {
                Value::String(s) => Ok(s.to_string()),
                _ => Err(self.shape(id, "a string", v, path())),
            };
        };
        value::canonical(self.schema, ty, v, sn.module).map_err(|e| {
            let mut err = DataError::new(
                ErrorTag::InvalidValue,
                format!("invalid value for '{}': {}", sn.name, e.message),
            )
            .bad_element(&sn.name)
            .path(path());
            err.app_tag = e.app_tag;
            err
        })
    }

    /// `[p:k='v']...` for a list entry object; a missing key is a `missing-element` error.
    fn key_predicates(
        &self,
        list: NodeId,
        members: &Members<'_>,
        path: &str,
    ) -> Result<String, DataError> {
        let s = self.schema;
        let mut out = String::new();
        for &k in &s.node(list).keys {
            let kn = s.node(k);
            let module = &s.module(kn.module).name;
            let found = members.iter().find(|(name, _)| match name.split_once(':') {
                Some((m, n)) => m == module && n == kn.name,
                None => *name == kn.name,
            });
            let Some((_, kv)) = found else {
                return Err(DataError::new(
                    ErrorTag::MissingElement,
                    format!(
                        "list entry of '{}' lacks its key '{}'",
                        s.node(list).name,
                        kn.name
                    ),
                )
                .bad_element(&kn.name)
                .path(path));
            };
            let v = self.leaf_value(k, kv, &|| path.to_string())?;
            out.push_str(&format!("[{}={}]", step_name(s, k), quote(&v)));
        }
        Ok(out)
    }

    /// anydata/anyxml content, kept in the tree as XML: an object of YANG data (RFC 7951
    /// §5.5, module-qualified at its top) or a string (text content).
    fn anydata(&self, id: NodeId, v: &Value<'_>, path: &str) -> Result<String, DataError> {
        match v {
            Value::Object(members) => {
                let mut nodes = Vec::new();
                let all = Decoder {
                    schema: self.schema,
                    opts: DecodeOptions { config_only: false },
                };
                all.object(members, None, "", &mut nodes)?;
                let mut xml = String::new();
                let opts = crate::data::EncodeOptions::default();
                crate::data::encode_nodes(self.schema, &nodes, "", opts, &mut xml);
                Ok(xml)
            }
            Value::String(s) => Ok(crate::xml::escape_text(s.trim())),
            _ => Err(self.shape(
                id,
                "an object of YANG data or a string (other JSON is not supported here)",
                v,
                path.to_string(),
            )),
        }
    }

    /// An RFC 7952 `@name` member: its annotations must be ones we know.
    fn metadata(
        &self,
        members: &Members<'_>,
        target: &str,
        v: &Value<'_>,
        parent_path: &str,
    ) -> Result<(), DataError> {
        let bad = |message: String| {
            DataError::new(ErrorTag::UnknownAttribute, message)
                .info("bad-attribute", format!("@{target}"))
                .bad_element(target)
                .path(at(parent_path))
        };
        if !target.is_empty() && !members.iter().any(|(n, _)| n == target) {
            return Err(bad(format!(
                "metadata '@{target}' is for a member '{target}' that this object lacks"
            )));
        }
        let check = |annotations: &Value<'_>| -> Result<(), DataError> {
            let Value::Object(list) = annotations else {
                return Err(bad(format!(
                    "metadata '@{target}' holds {}, not an object of annotations (RFC 7952 §5.2)",
                    annotations.kind()
                )));
            };
            for (name, value) in list {
                if name != DEFAULT_ANNOTATION || !matches!(value, Value::Bool(_)) {
                    return Err(bad(format!(
                        "annotation '{name}' is not supported (only {DEFAULT_ANNOTATION}: true|false is)"
                    )));
                }
            }
            Ok(())
        };
        match v {
            // Per leaf-list entry: an object or null each (RFC 7952 §5.2.2).
            Value::Array(items) => items
                .iter()
                .filter(|i| !matches!(i, Value::Null))
                .try_for_each(check),
            other => check(other),
        }
    }

    fn insert<S: SeqMut + ?Sized>(
        &self,
        siblings: &mut S,
        node: DataNode,
        parent_path: &str,
    ) -> Result<(), DataError> {
        let s = self.schema;
        let sn = s.node(node.schema);
        insert_sorted(siblings, s, Arc::new(node))
            .map(|_| ())
            .map_err(|_| {
                let what = match sn.kind {
                    NodeKind::List => "a list entry with the same keys",
                    NodeKind::LeafList => "a leaf-list entry with the same value",
                    _ => "this node",
                };
                DataError::new(
                    ErrorTag::InvalidValue,
                    format!("'{}' appears twice: {what} is already given", sn.name),
                )
                .bad_element(&sn.name)
                .path(at(parent_path))
            })
    }
}
