//! The YANG library: RFC 8525 `yang-library`, and RFC 7895 `modules-state`, which RFC 8525
//! keeps (deprecated) for clients that predate NMDA. Every module the agent knows, implemented
//! or only imported, with its features, deviations and submodules.

use yang::data::{DataError, DataNode, NodeBuilder};
use yang::schema::Module;
use yang::Schema;

use super::YANG_LIBRARY_NS;

/// Modules the server implements in code, without a module text (get-schema does not serve
/// them): name, revision, namespace.
const BUILT_IN: [(&str, &str, &str); 3] = [
    (
        "ietf-netconf-notifications",
        "2012-02-06",
        "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications",
    ),
    (
        "ietf-netconf-with-defaults",
        "2011-06-01",
        "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults",
    ),
    (
        "notifications",
        "2008-07-14",
        "urn:ietf:params:xml:ns:netconf:notification:1.0",
    ),
];

/// The one module set, schema and datastore schema the server has.
const ALL: &str = "all";

/// An identifier of the module set: FNV-1a over every module's name, revision and features.
/// Both `content-id` and `module-set-id`, and in the yang-library capability of the hello.
pub fn module_set_id(schema: &Schema) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for m in &schema.modules {
        let text = format!(
            "{}@{}:{};",
            m.name,
            m.revision.as_deref().unwrap_or(""),
            m.enabled_features.join(",")
        );
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// `yang-library` and `modules-state`.
pub fn trees(schema: &Schema) -> Result<[DataNode; 2], DataError> {
    Ok([yang_library(schema)?, modules_state(schema)?])
}

/// The revision of a submodule, from its source.
fn submodule_revision<'s>(schema: &'s Schema, name: &str) -> Option<&'s str> {
    schema
        .sources
        .iter()
        .find(|s| s.is_submodule && s.name == name)
        .and_then(|s| s.revision.as_deref())
}

fn yang_library(schema: &Schema) -> Result<DataNode, DataError> {
    let mut lib = NodeBuilder::top(schema, YANG_LIBRARY_NS, "yang-library")?;
    let mut set = lib.inner("module-set")?;
    set.leaf("name", ALL)?;
    for (name, revision, namespace) in BUILT_IN {
        let mut module = set.inner("module")?;
        module
            .leaf("name", name)?
            .leaf("revision", revision)?
            .leaf("namespace", namespace)?;
        set.push(module)?;
    }
    for m in &schema.modules {
        let revision = m.revision.as_deref().unwrap_or("");
        let mut module = if m.implemented {
            set.inner("module")?
        } else {
            set.inner("import-only-module")?
        };
        module.leaf("name", &m.name)?;
        // An import-only module is keyed by its revision, empty when it has none.
        if !revision.is_empty() || !m.implemented {
            module.leaf("revision", revision)?;
        }
        module.leaf("namespace", &m.namespace)?;
        for sub in &m.submodules {
            let mut s = module.inner("submodule")?;
            s.leaf("name", sub)?;
            if let Some(r) = submodule_revision(schema, sub) {
                s.leaf("revision", r)?;
            }
            module.push(s)?;
        }
        if m.implemented {
            for f in &m.enabled_features {
                module.leaf("feature", f)?;
            }
            for &d in &m.deviated_by {
                module.leaf("deviation", &schema.module(d).name)?;
            }
        }
        set.push(module)?;
    }
    lib.push(set)?;
    let mut s = lib.inner("schema")?;
    s.leaf("name", ALL)?.leaf("module-set", ALL)?;
    lib.push(s)?;
    for ds in ["running", "candidate", "startup"] {
        let mut d = lib.inner("datastore")?;
        d.leaf("name", format!("ietf-datastores:{ds}"))?
            .leaf("schema", ALL)?;
        lib.push(d)?;
    }
    lib.leaf("content-id", module_set_id(schema))?;
    Ok(lib.finish())
}

fn modules_state(schema: &Schema) -> Result<DataNode, DataError> {
    let mut state = NodeBuilder::top(schema, YANG_LIBRARY_NS, "modules-state")?;
    state.leaf("module-set-id", module_set_id(schema))?;
    for (name, revision, namespace) in BUILT_IN {
        let mut module = state.inner("module")?;
        module
            .leaf("name", name)?
            .leaf("revision", revision)?
            .leaf("namespace", namespace)?
            .leaf("conformance-type", "implement")?;
        state.push(module)?;
    }
    for m in &schema.modules {
        state.push(legacy_module(schema, &state, m)?)?;
    }
    Ok(state.finish())
}

/// One RFC 7895 module entry.
fn legacy_module<'s>(
    schema: &'s Schema,
    state: &NodeBuilder<'s>,
    m: &Module,
) -> Result<NodeBuilder<'s>, DataError> {
    let mut module = state.inner("module")?;
    module
        .leaf("name", &m.name)?
        .leaf("revision", m.revision.as_deref().unwrap_or(""))?
        .leaf("namespace", &m.namespace)?;
    for f in &m.enabled_features {
        module.leaf("feature", f)?;
    }
    for &d in &m.deviated_by {
        let d = schema.module(d);
        let mut deviation = module.inner("deviation")?;
        deviation
            .leaf("name", &d.name)?
            .leaf("revision", d.revision.as_deref().unwrap_or(""))?;
        module.push(deviation)?;
    }
    let conformance = if m.implemented { "implement" } else { "import" };
    module.leaf("conformance-type", conformance)?;
    for sub in &m.submodules {
        let mut s = module.inner("submodule")?;
        s.leaf("name", sub)?
            .leaf("revision", submodule_revision(schema, sub).unwrap_or(""))?;
        module.push(s)?;
    }
    Ok(module)
}
