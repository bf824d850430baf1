//! The parameters of the command table, each checked by the type of the YANG leaf it sets (so
//! a range, length or pattern of the model is the CLI's too), and stored in its canonical form.

use std::collections::HashMap;
use std::sync::Arc;

use yang::schema::{NodeId, NodeKind, Schema};

use super::commands::{BFD, IF, MC, MG, NSYS, SYS, VRRP};
use super::grammar::ParamCheck;

/// How a parameter is checked and what it stores.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A value of this leaf's type, stored in its canonical form.
    Leaf(NodeId),
    /// A value of this leaf's type that must also be a multiple of a number (a `must` the
    /// type cannot say, e.g. advertise-interval in steps of 10 ms).
    Multiple(NodeId, u64),
    /// Seconds, stored as milliseconds in this leaf.
    Seconds(NodeId),
    /// A prefix length or a dotted network mask, stored as this prefix-length leaf.
    Mask(NodeId),
    /// The rest of the line, of this leaf's type if any.
    Text(Option<NodeId>),
}

/// The schema leaf of every parameter (a path with module prefixes), or its special kind.
const PARAMS: &[(&str, &str)] = &[
    ("hostname", "sys:system/hostname"),
    ("ifname", "if:interfaces/interface/name"),
    ("mg-name", "mg:monitor-groups/monitor-group/name"),
    ("bfd-name", "bfd:bfd/session/name"),
    ("peer-ip", "bfd:bfd/session/peer-ip"),
    ("bfd-interface", "bfd:bfd/session/interface"),
    ("source-ip", "bfd:bfd/session/source-ip"),
    ("local-discriminator", "bfd:bfd/session/local-discriminator"),
    (
        "remote-discriminator",
        "bfd:bfd/session/remote-discriminator",
    ),
    ("min-tx-interval", "bfd:bfd/session/min-tx-interval"),
    ("min-rx-interval", "bfd:bfd/session/min-rx-interval"),
    ("detect-multiplier", "bfd:bfd/session/detect-multiplier"),
    ("rp-address", "mc:multicast/rp-address"),
    (
        "binding-interface",
        "mg:monitor-groups/monitor-group/binding-interface/name",
    ),
    (
        "down-weight",
        "mg:monitor-groups/monitor-group/binding-interface/down-weight",
    ),
    ("ip-address", "if:interfaces/interface/ipv4/address/ip"),
    ("vrid", "if:interfaces/interface/vrrp:vrrp/group/vrid"),
    (
        "virtual-ip",
        "if:interfaces/interface/vrrp:vrrp/group/virtual-ip/address",
    ),
    (
        "priority",
        "if:interfaces/interface/vrrp:vrrp/group/priority",
    ),
    (
        "preempt-delay",
        "if:interfaces/interface/vrrp:vrrp/group/preempt/delay",
    ),
    (
        "vrrp-version",
        "if:interfaces/interface/vrrp:vrrp/group/version",
    ),
    (
        "checksum-mode",
        "if:interfaces/interface/vrrp:vrrp/group/checksum-mode",
    ),
    ("bfd-discriminator", "bfd:bfd/session/local-discriminator"),
    (
        "tracked-bfd",
        "if:interfaces/interface/vrrp:vrrp/group/track/bfd-session/session",
    ),
    (
        "bfd-priority-change",
        "if:interfaces/interface/vrrp:vrrp/group/track/bfd-session/priority-change",
    ),
    (
        "tracked-mg",
        "if:interfaces/interface/vrrp:vrrp/group/track/monitor-group/name",
    ),
    (
        "failure-ratio",
        "if:interfaces/interface/vrrp:vrrp/group/track/monitor-group/failure-ratio",
    ),
    (
        "mg-priority-change",
        "if:interfaces/interface/vrrp:vrrp/group/track/monitor-group/priority-change",
    ),
    ("dr-priority", "if:interfaces/interface/mc:pim/dr-priority"),
    (
        "hello-interval",
        "if:interfaces/interface/mc:pim/hello-interval",
    ),
    ("igmp-version", "if:interfaces/interface/mc:igmp/version"),
    (
        "query-interval",
        "if:interfaces/interface/mc:igmp/query-interval",
    ),
    (
        "max-response-time",
        "if:interfaces/interface/mc:igmp/max-response-time",
    ),
    ("robustness", "if:interfaces/interface/mc:igmp/robustness"),
    (
        "last-member-query-interval",
        "if:interfaces/interface/mc:igmp/last-member-query-interval",
    ),
    (
        "tracked-interface",
        "if:interfaces/interface/mc:track-admin-vrrp/interface",
    ),
    (
        "tracked-vrid",
        "if:interfaces/interface/mc:track-admin-vrrp/vrid",
    ),
    ("commit-id", "nsys:commit-history/commit/id"),
];

const ADVERTISE_LEAF: &str = "if:interfaces/interface/vrrp:vrrp/group/advertise-interval";
const PREFIX_LENGTH_LEAF: &str = "if:interfaces/interface/ipv4/address/prefix-length";
const DESCRIPTION_LEAF: &str = "if:interfaces/interface/description";

fn namespace(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "if" => IF,
        "vrrp" => VRRP,
        "mc" => MC,
        "mg" => MG,
        "bfd" => BFD,
        "sys" => SYS,
        "nsys" => NSYS,
        _ => return None,
    })
}

/// The schema node at a path such as `if:interfaces/interface/vrrp:vrrp/group/vrid` (a prefix
/// switches the namespace for the steps that follow).
pub fn schema_node(schema: &Schema, path: &str) -> Option<NodeId> {
    let mut ns = "";
    let mut node = None;
    for step in path.split('/') {
        let name = match step.split_once(':') {
            Some((p, name)) => {
                ns = namespace(p)?;
                name
            }
            None => step,
        };
        node = Some(schema.find_child(node, ns, name)?);
    }
    node
}

/// The parameters of the command table, checked against the schema.
#[derive(Debug, Clone)]
pub struct Params {
    schema: Arc<Schema>,
    kinds: HashMap<&'static str, Kind>,
}

impl Params {
    /// The parameter kinds; a parameter whose leaf the schema lacks is left out (its commands
    /// then refuse every value).
    pub fn new(schema: Arc<Schema>) -> Params {
        let mut kinds = HashMap::new();
        for &(name, path) in PARAMS {
            if let Some(id) = schema_node(&schema, path) {
                kinds.insert(name, Kind::Leaf(id));
            }
        }
        if let Some(id) = schema_node(&schema, ADVERTISE_LEAF) {
            kinds.insert("advertise-seconds", Kind::Seconds(id));
            kinds.insert("advertise-ms", Kind::Multiple(id, 10));
        }
        if let Some(id) = schema_node(&schema, PREFIX_LENGTH_LEAF) {
            kinds.insert("mask", Kind::Mask(id));
        }
        kinds.insert(
            "description",
            Kind::Text(schema_node(&schema, DESCRIPTION_LEAF)),
        );
        kinds.insert("comment", Kind::Text(None));
        Params { schema, kinds }
    }

    pub fn knows(&self, param: &str) -> bool {
        self.kinds.contains_key(param)
    }

    /// VRP's `?` line for a parameter, from its schema leaf: the form of a value with its
    /// range or length (`INTEGER<1-255>`, `STRING<1-31>`, `X.X.X.X`, `{a|b}`), and the leaf's
    /// description (its first sentence) with its units and default.
    pub fn describe(&self, param: &str) -> (String, String) {
        let Some(kind) = self.kinds.get(param) else {
            return (format!("<{param}>"), String::new());
        };
        let leaf = match *kind {
            Kind::Leaf(id) | Kind::Multiple(id, _) | Kind::Seconds(id) | Kind::Mask(id) => Some(id),
            Kind::Text(id) => id,
        };
        let form = match *kind {
            Kind::Leaf(id) => self.form(id, 1),
            Kind::Multiple(id, step) => format!("{} (steps of {step})", self.form(id, 1)),
            Kind::Seconds(id) => self.form(id, 1000),
            Kind::Mask(id) => format!("{}|X.X.X.X", self.form(id, 1)),
            Kind::Text(Some(id)) => {
                format!("TEXT{}", self.form(id, 1).trim_start_matches("STRING"))
            }
            Kind::Text(None) => "TEXT".into(),
        };
        let mut text = match leaf.and_then(|id| self.schema.node(id).description.as_deref()) {
            Some(d) => first_sentence(d),
            None if param == "comment" => "A comment kept with the commit".into(),
            None => String::new(),
        };
        if let Some(id) = leaf {
            let sn = self.schema.node(id);
            let units = sn
                .units
                .as_deref()
                .or(sn.ty.as_ref().and_then(|t| t.units.as_deref()));
            let units = match kind {
                Kind::Seconds(_) => Some("seconds"),
                _ => units,
            };
            if let Some(u) = units {
                text.push_str(&format!(" ({u})"));
            }
            let default = sn
                .defaults
                .first()
                .or(sn.ty.as_ref().and_then(|t| t.default.as_ref()));
            if let Some(d) = default {
                let d = match kind {
                    Kind::Seconds(_) => d
                        .parse::<u64>()
                        .map(|ms| (ms / 1000).to_string())
                        .unwrap_or_else(|_| d.clone()),
                    _ => d.clone(),
                };
                text.push_str(&format!(", default {d}"));
            }
        }
        (form, text.trim().to_string())
    }

    /// The form of a value of leaf `id`'s type; integers divided by `scale` (milliseconds
    /// shown as seconds).
    fn form(&self, id: NodeId, scale: i128) -> String {
        let sn = self.schema.node(id);
        match sn.ty.as_ref() {
            Some(ty) => type_form(&self.schema, ty, scale),
            None => "VALUE".into(),
        }
    }
    /// A value checked (and made canonical) by the type of leaf `id`.
    fn leaf(&self, id: NodeId, word: &str) -> Option<String> {
        let sn = self.schema.node(id);
        if !matches!(sn.kind, NodeKind::Leaf | NodeKind::LeafList) {
            return None;
        }
        let ty = sn.ty.as_ref()?;
        let none = |_: &str| None;
        ty.canonical(&self.schema, word, &none, Some(sn.module))
            .ok()
    }
}

impl ParamCheck for Params {
    fn check(&self, param: &str, word: &str) -> Option<String> {
        // Nothing a terminal would act on goes into the configuration.
        if word.chars().any(char::is_control) {
            return None;
        }
        match *self.kinds.get(param)? {
            Kind::Leaf(id) => self.leaf(id, word),
            Kind::Multiple(id, step) => {
                let v = self.leaf(id, word)?;
                (v.parse::<u64>().ok()? % step == 0).then_some(v)
            }
            Kind::Seconds(id) => {
                if !word.bytes().all(|b| b.is_ascii_digit()) || word.len() > 9 {
                    return None;
                }
                let seconds: u64 = word.parse().ok()?;
                self.leaf(id, &(seconds * 1000).to_string())
            }
            Kind::Mask(id) => {
                let length = if word.contains('.') {
                    mask_length(word)?.to_string()
                } else {
                    word.to_string()
                };
                self.leaf(id, &length)
            }
            Kind::Text(leaf) => {
                if word.is_empty() {
                    return None;
                }
                match leaf {
                    Some(id) => self.leaf(id, word),
                    None => Some(word.to_string()),
                }
            }
        }
    }

    fn is_text(&self, param: &str) -> bool {
        matches!(self.kinds.get(param), Some(Kind::Text(_)))
    }
}

/// The first sentence of a YANG description, on one line.
fn first_sentence(description: &str) -> String {
    let words: Vec<&str> = description.split_whitespace().collect();
    let text = words.join(" ");
    match text.find(". ") {
        Some(end) => text[..end].to_string(),
        None => text.trim_end_matches('.').to_string(),
    }
}

/// A type's values as VRP's `?` writes them.
fn type_form(schema: &Schema, ty: &yang::schema::Type, scale: i128) -> String {
    use yang::schema::TypeKind;
    let name = ty.name.rsplit(':').next().unwrap_or(&ty.name);
    match &ty.kind {
        TypeKind::Int { signed, bits } => {
            let intervals: Vec<(i128, i128)> = match ty.ranges.last() {
                Some(r) => r.clone(),
                None if *signed => {
                    let max = (1i128 << (bits - 1)) - 1;
                    vec![(-max - 1, max)]
                }
                None => vec![(0, (1i128 << bits) - 1)],
            };
            let parts: Vec<String> = intervals
                .iter()
                .map(|(lo, hi)| {
                    let (lo, hi) = ((lo + scale - 1) / scale, hi / scale);
                    if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo}-{hi}")
                    }
                })
                .collect();
            format!("INTEGER<{}>", parts.join(","))
        }
        TypeKind::String if name.contains("ipv4-address") => "X.X.X.X".into(),
        TypeKind::String => match ty.lengths.last().and_then(|l| l.first()) {
            Some((lo, hi)) => format!("STRING<{lo}-{hi}>"),
            None => "STRING".into(),
        },
        TypeKind::Enumeration(values) => {
            let names: Vec<&str> = values.iter().map(|(n, _)| n.as_str()).collect();
            format!("{{{}}}", names.join("|"))
        }
        TypeKind::Leafref {
            target: Some(t), ..
        } => match schema.node(*t).ty.as_ref() {
            Some(target) => type_form(schema, target, scale),
            None => "VALUE".into(),
        },
        TypeKind::Union(members) => members
            .iter()
            .map(|m| type_form(schema, m, scale))
            .collect::<Vec<_>>()
            .join("|"),
        other => other.builtin_name().to_uppercase(),
    }
}

/// The prefix length of a dotted network mask (contiguous ones), e.g. 255.255.255.0 -> 24.
pub fn mask_length(mask: &str) -> Option<u32> {
    let octets: Vec<&str> = mask.split('.').collect();
    if octets.len() != 4 {
        return None;
    }
    let mut bits: u32 = 0;
    for o in octets {
        if o.is_empty() || o.len() > 3 || !o.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        bits = (bits << 8) | o.parse::<u8>().ok()? as u32;
    }
    let length = bits.leading_ones();
    (bits.checked_shl(length).unwrap_or(0) == 0).then_some(length)
}

/// The dotted network mask of a prefix length.
pub fn mask_of(length: u32) -> String {
    let bits: u32 = if length == 0 {
        0
    } else {
        u32::MAX << (32 - length.min(32))
    };
    let b = bits.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Arc<Schema> {
        Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap())
    }

    /// Every parameter names a leaf of the device's schema.
    #[test]
    fn every_parameter_has_its_leaf() {
        let params = Params::new(schema());
        for &(name, path) in PARAMS {
            assert!(params.knows(name), "{path}");
        }
        assert!(params.knows("advertise-seconds") && params.knows("mask"));
    }

    #[test]
    fn parameters_take_the_leaf_ranges() {
        let p = Params::new(schema());
        assert_eq!(p.check("vrid", "255").as_deref(), Some("255"));
        assert_eq!(p.check("vrid", "0"), None);
        assert_eq!(p.check("vrid", "256"), None);
        assert_eq!(p.check("priority", "254").as_deref(), Some("254"));
        assert_eq!(p.check("priority", "255"), None);
        assert_eq!(p.check("local-discriminator", "16385"), None);
        assert_eq!(p.check("min-tx-interval", "2"), None);
        assert_eq!(p.check("min-tx-interval", "3").as_deref(), Some("3"));
        assert_eq!(p.check("failure-ratio", "101"), None);
        assert_eq!(p.check("mg-name", &"x".repeat(32)), None);
        assert_eq!(p.check("peer-ip", "10.0.0.256"), None);
        assert_eq!(p.check("ifname", "a/b"), None);
        assert_eq!(p.check("ifname", "a\u{7}b"), None);
        assert_eq!(
            p.check("checksum-mode", "exclude-pseudo-header").as_deref(),
            Some("exclude-pseudo-header")
        );
        assert_eq!(p.check("checksum-mode", "x"), None);
        // Seconds are stored in milliseconds and checked there.
        assert_eq!(p.check("advertise-seconds", "1").as_deref(), Some("1000"));
        assert_eq!(p.check("advertise-seconds", "40").as_deref(), Some("40000"));
        assert_eq!(p.check("advertise-seconds", "41"), None);
        assert_eq!(p.check("advertise-seconds", "99999999999999"), None);
        assert_eq!(p.check("advertise-ms", "100").as_deref(), Some("100"));
        assert_eq!(p.check("advertise-ms", "105"), None);
        assert_eq!(
            p.check("description", "to the core").as_deref(),
            Some("to the core")
        );
        assert_eq!(p.check("description", "a\u{1b}[2J"), None);
    }

    #[test]
    fn masks() {
        let p = Params::new(schema());
        assert_eq!(p.check("mask", "24").as_deref(), Some("24"));
        assert_eq!(p.check("mask", "255.255.255.248").as_deref(), Some("29"));
        assert_eq!(p.check("mask", "0.0.0.0").as_deref(), Some("0"));
        assert_eq!(p.check("mask", "255.255.255.255").as_deref(), Some("32"));
        assert_eq!(p.check("mask", "255.0.255.0"), None);
        assert_eq!(p.check("mask", "255.255.255"), None);
        assert_eq!(p.check("mask", "33"), None);
        for n in 0..=32 {
            assert_eq!(mask_length(&mask_of(n)), Some(n));
        }
    }
}
