//! The command table: each view's commands in VRP syntax with the action each one takes, and
//! the parameters, checked by the type of the YANG leaf they set (so a range or pattern of the
//! model is the CLI's range too).

use std::collections::HashMap;
use std::sync::Arc;

use yang::schema::{NodeId, NodeKind, Schema};

use super::grammar::{Grammar, ParamCheck, SyntaxError};

pub const IF: &str = "urn:ne-agent:yang:ne-interfaces";
pub const VRRP: &str = "urn:ne-agent:yang:ne-vrrp";
pub const MC: &str = "urn:ne-agent:yang:ne-multicast";
pub const MG: &str = "urn:ne-agent:yang:ne-monitor-group";
pub const BFD: &str = "urn:ne-agent:yang:ne-bfd";
pub const SYS: &str = "urn:ietf:params:xml:ns:yang:ietf-system";

/// Steps from a scope's node to a leaf or container: (namespace, name).
pub type Path = &'static [(&'static str, &'static str)];

/// Where a generic setting lives: relative to the top, to the interface of the interface view,
/// to a VRRP group of that interface (vrid from the `vrid` parameter), to the monitoring group
/// or the BFD session of their views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Top,
    Interface,
    VrrpGroup,
    MonitorGroup,
    BfdSession,
}

/// The value a setting writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// The value of this parameter.
    Arg(&'static str),
    Fixed(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    System,
    MonitorGroup,
    Bfd,
    Multicast,
    Interface,
    Pim,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    // Views and the session.
    SystemView,
    Quit,
    Return,
    Commit,
    EnterInterface,
    EnterMonitorGroup,
    EnterBfd,
    EnterPim,
    // Display.
    DisplayCurrent,
    DisplaySection(Section),
    DisplayInterface,
    DisplayThis,
    DisplayCandidateChanges,
    DisplayCandidateMerge,
    // Configuration: one leaf (or container) set or removed.
    Set(Scope, Path, Value),
    Unset(Scope, Path),
    // Configuration with more to it.
    UndoInterface,
    UndoMonitorGroup,
    BfdBind,
    UndoBfd,
    IpAddress,
    UndoIpAddress,
    VirtualIp,
    UndoVirtualIp,
    AdminVrrp,
    TrackBfd,
    UndoTrackBfd,
    TrackMonitorGroup,
    UndoTrackMonitorGroup,
    Binding,
    UndoBinding,
    TrackAdminVrrp,
}

use Action::*;

const HOSTNAME: Path = &[(SYS, "system"), (SYS, "hostname")];
const ROUTING_ENABLE: Path = &[(MC, "multicast"), (MC, "routing-enable")];
const RP_ADDRESS: Path = &[(MC, "multicast"), (MC, "rp-address")];

/// Commands of every configuration view (system view and below).
const COMMON: &[(&str, Action)] = &[
    ("quit", Quit),
    ("return", Return),
    (
        "commit [ comment <comment> | description <comment> ]",
        Commit,
    ),
    ("display current-configuration", DisplayCurrent),
    (
        "display current-configuration interface <ifname>",
        DisplayInterface,
    ),
    (
        "display current-configuration configuration system",
        DisplaySection(Section::System),
    ),
    (
        "display current-configuration configuration monitor-group [ <mg-name> ]",
        DisplaySection(Section::MonitorGroup),
    ),
    (
        "display current-configuration configuration bfd [ <bfd-name> ]",
        DisplaySection(Section::Bfd),
    ),
    (
        "display current-configuration configuration multicast",
        DisplaySection(Section::Multicast),
    ),
    (
        "display current-configuration configuration interface [ <ifname> ]",
        DisplaySection(Section::Interface),
    ),
    (
        "display current-configuration configuration pim",
        DisplaySection(Section::Pim),
    ),
    ("display this", DisplayThis),
    (
        "display configuration candidate [ changes ]",
        DisplayCandidateChanges,
    ),
    (
        "display configuration candidate merge",
        DisplayCandidateMerge,
    ),
];

const USER: &[(&str, Action)] = &[
    ("system-view", SystemView),
    ("quit", Quit),
    ("return", Return),
    ("display current-configuration", DisplayCurrent),
    (
        "display current-configuration interface <ifname>",
        DisplayInterface,
    ),
];

const SYSTEM: &[(&str, Action)] = &[
    ("sysname <hostname>", Set(Scope::Top, HOSTNAME, Value::Arg("hostname"))),
    ("undo sysname", Unset(Scope::Top, HOSTNAME)),
    ("interface <ifname>", EnterInterface),
    ("undo interface <ifname>", UndoInterface),
    ("monitor-group <mg-name>", EnterMonitorGroup),
    ("undo monitor-group <mg-name>", UndoMonitorGroup),
    ("bfd <bfd-name>", EnterBfd),
    (
        "bfd <bfd-name> bind peer-ip <peer-ip> [ interface <bfd-interface> ] [ source-ip <source-ip> ]",
        BfdBind,
    ),
    ("undo bfd <bfd-name>", UndoBfd),
    (
        "multicast routing-enable",
        Set(Scope::Top, ROUTING_ENABLE, Value::Fixed("true")),
    ),
    (
        "undo multicast routing-enable",
        Unset(Scope::Top, ROUTING_ENABLE),
    ),
    ("pim", EnterPim),
    ("undo pim", Unset(Scope::Top, RP_ADDRESS)),
];

const PIM: &[(&str, Action)] = &[
    (
        "static-rp <rp-address>",
        Set(Scope::Top, RP_ADDRESS, Value::Arg("rp-address")),
    ),
    (
        "undo static-rp [ <rp-address> ]",
        Unset(Scope::Top, RP_ADDRESS),
    ),
];

const MONITOR_GROUP: &[(&str, Action)] = &[
    (
        "monitor enable",
        Set(
            Scope::MonitorGroup,
            &[(MG, "enabled")],
            Value::Fixed("true"),
        ),
    ),
    (
        "undo monitor enable",
        Unset(Scope::MonitorGroup, &[(MG, "enabled")]),
    ),
    (
        "binding interface <binding-interface> [ down-weight <down-weight> ]",
        Binding,
    ),
    ("undo binding interface <binding-interface>", UndoBinding),
];

const BFD_SESSION: &[(&str, Action)] = &[
    (
        "discriminator local <local-discriminator>",
        Set(
            Scope::BfdSession,
            &[(BFD, "local-discriminator")],
            Value::Arg("local-discriminator"),
        ),
    ),
    (
        "undo discriminator local",
        Unset(Scope::BfdSession, &[(BFD, "local-discriminator")]),
    ),
    (
        "discriminator remote <remote-discriminator>",
        Set(
            Scope::BfdSession,
            &[(BFD, "remote-discriminator")],
            Value::Arg("remote-discriminator"),
        ),
    ),
    (
        "undo discriminator remote",
        Unset(Scope::BfdSession, &[(BFD, "remote-discriminator")]),
    ),
    (
        "min-tx-interval <min-tx-interval>",
        Set(
            Scope::BfdSession,
            &[(BFD, "min-tx-interval")],
            Value::Arg("min-tx-interval"),
        ),
    ),
    (
        "undo min-tx-interval",
        Unset(Scope::BfdSession, &[(BFD, "min-tx-interval")]),
    ),
    (
        "min-rx-interval <min-rx-interval>",
        Set(
            Scope::BfdSession,
            &[(BFD, "min-rx-interval")],
            Value::Arg("min-rx-interval"),
        ),
    ),
    (
        "undo min-rx-interval",
        Unset(Scope::BfdSession, &[(BFD, "min-rx-interval")]),
    ),
    (
        "detect-multiplier <detect-multiplier>",
        Set(
            Scope::BfdSession,
            &[(BFD, "detect-multiplier")],
            Value::Arg("detect-multiplier"),
        ),
    ),
    (
        "undo detect-multiplier",
        Unset(Scope::BfdSession, &[(BFD, "detect-multiplier")]),
    ),
    (
        "shutdown",
        Set(
            Scope::BfdSession,
            &[(BFD, "admin-down")],
            Value::Fixed("true"),
        ),
    ),
    (
        "undo shutdown",
        Unset(Scope::BfdSession, &[(BFD, "admin-down")]),
    ),
];

const PREEMPT_ENABLED: Path = &[(VRRP, "preempt"), (VRRP, "enabled")];
const PREEMPT_DELAY: Path = &[(VRRP, "preempt"), (VRRP, "delay")];
const ADVERTISE: Path = &[(VRRP, "advertise-interval")];
const PIM_SM: Path = &[(MC, "pim"), (MC, "sm")];
const PIM_DR_PRIORITY: Path = &[(MC, "pim"), (MC, "dr-priority")];
const PIM_HELLO: Path = &[(MC, "pim"), (MC, "hello-interval")];
const PIM_IGNORE_DR: Path = &[(MC, "pim"), (MC, "ignore-dr-state")];
const PIM_IGNORE_ASSERT: Path = &[(MC, "pim"), (MC, "ignore-assert-state")];
const IGMP_ENABLED: Path = &[(MC, "igmp"), (MC, "enabled")];
const IGMP_VERSION: Path = &[(MC, "igmp"), (MC, "version")];
const IGMP_QUERY: Path = &[(MC, "igmp"), (MC, "query-interval")];
const IGMP_MAX_RESPONSE: Path = &[(MC, "igmp"), (MC, "max-response-time")];
const IGMP_ROBUSTNESS: Path = &[(MC, "igmp"), (MC, "robustness")];
const IGMP_LAST_MEMBER: Path = &[(MC, "igmp"), (MC, "last-member-query-interval")];

const INTERFACE: &[(&str, Action)] = &[
    (
        "description <description>",
        Set(Scope::Interface, &[(IF, "description")], Value::Arg("description")),
    ),
    (
        "undo description",
        Unset(Scope::Interface, &[(IF, "description")]),
    ),
    (
        "shutdown",
        Set(Scope::Interface, &[(IF, "enabled")], Value::Fixed("false")),
    ),
    ("undo shutdown", Unset(Scope::Interface, &[(IF, "enabled")])),
    ("ip address <ip-address> <mask> [ sub ]", IpAddress),
    ("undo ip address [ <ip-address> <mask> [ sub ] ]", UndoIpAddress),
    // VRRP.
    ("vrrp vrid <vrid> virtual-ip <virtual-ip>", VirtualIp),
    ("undo vrrp vrid <vrid> virtual-ip <virtual-ip>", UndoVirtualIp),
    ("undo vrrp vrid <vrid>", Unset(Scope::VrrpGroup, &[])),
    (
        "vrrp vrid <vrid> priority <priority>",
        Set(Scope::VrrpGroup, &[(VRRP, "priority")], Value::Arg("priority")),
    ),
    (
        "undo vrrp vrid <vrid> priority",
        Unset(Scope::VrrpGroup, &[(VRRP, "priority")]),
    ),
    (
        "vrrp vrid <vrid> preempt-mode disable",
        Set(Scope::VrrpGroup, PREEMPT_ENABLED, Value::Fixed("false")),
    ),
    (
        "undo vrrp vrid <vrid> preempt-mode [ disable ]",
        Unset(Scope::VrrpGroup, PREEMPT_ENABLED),
    ),
    (
        "vrrp vrid <vrid> preempt-mode timer delay <preempt-delay>",
        Set(Scope::VrrpGroup, PREEMPT_DELAY, Value::Arg("preempt-delay")),
    ),
    (
        "undo vrrp vrid <vrid> preempt-mode timer delay",
        Unset(Scope::VrrpGroup, PREEMPT_DELAY),
    ),
    (
        "vrrp vrid <vrid> timer advertise <advertise-seconds>",
        Set(Scope::VrrpGroup, ADVERTISE, Value::Arg("advertise-seconds")),
    ),
    (
        "vrrp vrid <vrid> timer advertise millisecond <advertise-ms>",
        Set(Scope::VrrpGroup, ADVERTISE, Value::Arg("advertise-ms")),
    ),
    (
        "undo vrrp vrid <vrid> timer advertise [ millisecond ]",
        Unset(Scope::VrrpGroup, ADVERTISE),
    ),
    (
        "vrrp vrid <vrid> version <vrrp-version>",
        Set(Scope::VrrpGroup, &[(VRRP, "version")], Value::Arg("vrrp-version")),
    ),
    (
        "undo vrrp vrid <vrid> version",
        Unset(Scope::VrrpGroup, &[(VRRP, "version")]),
    ),
    (
        "vrrp vrid <vrid> checksum-mode <checksum-mode>",
        Set(
            Scope::VrrpGroup,
            &[(VRRP, "checksum-mode")],
            Value::Arg("checksum-mode"),
        ),
    ),
    (
        "undo vrrp vrid <vrid> checksum-mode",
        Unset(Scope::VrrpGroup, &[(VRRP, "checksum-mode")]),
    ),
    ("admin-vrrp vrid <vrid> [ ignore-if-down ]", AdminVrrp),
    (
        "undo admin-vrrp vrid <vrid>",
        Unset(Scope::VrrpGroup, &[(VRRP, "admin-vrrp")]),
    ),
    (
        "vrrp vrid <vrid> track bfd-session { <bfd-discriminator> | session-name <tracked-bfd> } [ increased <bfd-priority-change> | reduced <bfd-priority-change> ]",
        TrackBfd,
    ),
    (
        "undo vrrp vrid <vrid> track bfd-session { <bfd-discriminator> | session-name <tracked-bfd> }",
        UndoTrackBfd,
    ),
    (
        "vrrp vrid <vrid> track monitor-group <tracked-mg> failure-ratio <failure-ratio> [ link | reduced <mg-priority-change> ]",
        TrackMonitorGroup,
    ),
    (
        "undo vrrp vrid <vrid> track monitor-group <tracked-mg>",
        UndoTrackMonitorGroup,
    ),
    // PIM and IGMP.
    ("pim sm", Set(Scope::Interface, PIM_SM, Value::Fixed("true"))),
    ("undo pim sm", Unset(Scope::Interface, PIM_SM)),
    (
        "pim hello-option dr-priority <dr-priority>",
        Set(Scope::Interface, PIM_DR_PRIORITY, Value::Arg("dr-priority")),
    ),
    (
        "undo pim hello-option dr-priority",
        Unset(Scope::Interface, PIM_DR_PRIORITY),
    ),
    (
        "pim dr-priority <dr-priority>",
        Set(Scope::Interface, PIM_DR_PRIORITY, Value::Arg("dr-priority")),
    ),
    (
        "undo pim dr-priority",
        Unset(Scope::Interface, PIM_DR_PRIORITY),
    ),
    (
        "pim timer hello <hello-interval>",
        Set(Scope::Interface, PIM_HELLO, Value::Arg("hello-interval")),
    ),
    ("undo pim timer hello", Unset(Scope::Interface, PIM_HELLO)),
    (
        "pim ignore dr-state",
        Set(Scope::Interface, PIM_IGNORE_DR, Value::Fixed("true")),
    ),
    (
        "undo pim ignore dr-state",
        Unset(Scope::Interface, PIM_IGNORE_DR),
    ),
    (
        "pim ignore assert-state",
        Set(Scope::Interface, PIM_IGNORE_ASSERT, Value::Fixed("true")),
    ),
    (
        "undo pim ignore assert-state",
        Unset(Scope::Interface, PIM_IGNORE_ASSERT),
    ),
    (
        "igmp enable",
        Set(Scope::Interface, IGMP_ENABLED, Value::Fixed("true")),
    ),
    ("undo igmp enable", Unset(Scope::Interface, IGMP_ENABLED)),
    (
        "igmp version <igmp-version>",
        Set(Scope::Interface, IGMP_VERSION, Value::Arg("igmp-version")),
    ),
    ("undo igmp version", Unset(Scope::Interface, IGMP_VERSION)),
    (
        "igmp timer query <query-interval>",
        Set(Scope::Interface, IGMP_QUERY, Value::Arg("query-interval")),
    ),
    ("undo igmp timer query", Unset(Scope::Interface, IGMP_QUERY)),
    (
        "igmp max-response-time <max-response-time>",
        Set(
            Scope::Interface,
            IGMP_MAX_RESPONSE,
            Value::Arg("max-response-time"),
        ),
    ),
    (
        "undo igmp max-response-time",
        Unset(Scope::Interface, IGMP_MAX_RESPONSE),
    ),
    (
        "igmp robust-count <robustness>",
        Set(Scope::Interface, IGMP_ROBUSTNESS, Value::Arg("robustness")),
    ),
    (
        "undo igmp robust-count",
        Unset(Scope::Interface, IGMP_ROBUSTNESS),
    ),
    (
        "igmp lastmember-queryinterval <last-member-query-interval>",
        Set(
            Scope::Interface,
            IGMP_LAST_MEMBER,
            Value::Arg("last-member-query-interval"),
        ),
    ),
    (
        "undo igmp lastmember-queryinterval",
        Unset(Scope::Interface, IGMP_LAST_MEMBER),
    ),
    (
        "multicast track admin-vrrp interface <tracked-interface> vrid <tracked-vrid>",
        TrackAdminVrrp,
    ),
    (
        "undo multicast track admin-vrrp [ interface <tracked-interface> vrid <tracked-vrid> ]",
        Unset(Scope::Interface, &[(MC, "track-admin-vrrp")]),
    ),
];

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

/// The command trees of every view.
#[derive(Debug, Clone)]
pub struct Grammars {
    pub user: Grammar<Action>,
    pub system: Grammar<Action>,
    pub interface: Grammar<Action>,
    pub monitor_group: Grammar<Action>,
    pub bfd_session: Grammar<Action>,
    pub pim: Grammar<Action>,
}

impl Grammars {
    pub fn new() -> Result<Grammars, SyntaxError> {
        fn build(tables: &[&[(&'static str, Action)]]) -> Result<Grammar<Action>, SyntaxError> {
            let mut g = Grammar::new();
            for table in tables {
                for &(syntax, action) in *table {
                    g.add(syntax, action)?;
                }
            }
            Ok(g)
        }
        Ok(Grammars {
            user: build(&[USER])?,
            system: build(&[SYSTEM, COMMON])?,
            interface: build(&[INTERFACE, COMMON])?,
            monitor_group: build(&[MONITOR_GROUP, COMMON])?,
            bfd_session: build(&[BFD_SESSION, COMMON])?,
            pim: build(&[PIM, COMMON])?,
        })
    }

    pub fn all(&self) -> [&Grammar<Action>; 6] {
        [
            &self.user,
            &self.system,
            &self.interface,
            &self.monitor_group,
            &self.bfd_session,
            &self.pim,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Arc<Schema> {
        Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap())
    }

    /// Every command parses and every parameter names a leaf of the device's schema.
    #[test]
    fn the_table_is_complete() {
        let grammars = Grammars::new().unwrap();
        let params = Params::new(schema());
        for g in grammars.all() {
            for p in g.params() {
                assert!(params.knows(p), "parameter <{p}> has no schema leaf");
            }
        }
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
