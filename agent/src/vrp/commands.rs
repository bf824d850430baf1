//! The command table: each view's commands in VRP syntax with the action each one takes. The
//! parameters' checks are in [`super::params`].

use super::grammar::{Grammar, SyntaxError};

pub const IF: &str = "urn:ne-agent:yang:ne-interfaces";
pub const VRRP: &str = "urn:ne-agent:yang:ne-vrrp";
pub const MC: &str = "urn:ne-agent:yang:ne-multicast";
pub const MG: &str = "urn:ne-agent:yang:ne-monitor-group";
pub const BFD: &str = "urn:ne-agent:yang:ne-bfd";
pub const SYS: &str = "urn:ietf:params:xml:ns:yang:ietf-system";
/// The agent's own module (commit history, rollback).
pub const NSYS: &str = "urn:ne-agent:yang:ne-system";

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
    /// `clear configuration candidate`: drop the session's uncommitted changes.
    ClearCandidate,
    /// What the session does not hold (the commit history, the engines' state).
    DisplayCommitList,
    DisplayVrrpBrief,
    /// `display vrrp [verbose]`, `display vrrp interface IF [vrid N]`.
    DisplayVrrpVerbose,
    DisplayBfdSessions,
    DisplayBfdVerbose,
    DisplayMonitorGroup,
    DisplayIgmpGroup,
    DisplayIgmpInterface,
    DisplayPimNeighbor,
    DisplayPimInterface,
    DisplayPimRoutingTable,
    DisplayPimBsrInfo,
    DisplayPimRpInfo,
    DisplayMulticastRoutingTable,
    DisplayInterfaceBrief,
    /// `rollback configuration to commit-id N`.
    Rollback,
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
    ("clear configuration candidate", ClearCandidate),
    ("display configuration commit list", DisplayCommitList),
];

/// The displays of the engines' state, in every view.
const OPERATIONAL: &[(&str, Action)] = &[
    ("display vrrp brief", DisplayVrrpBrief),
    ("display vrrp [ verbose ]", DisplayVrrpVerbose),
    (
        "display vrrp interface <ifname> [ vrid <vrid> ]",
        DisplayVrrpVerbose,
    ),
    ("display bfd session all", DisplayBfdSessions),
    ("display bfd session all verbose", DisplayBfdVerbose),
    ("display monitor-group [ <mg-name> ]", DisplayMonitorGroup),
    ("display igmp group [ verbose ]", DisplayIgmpGroup),
    ("display igmp interface [ <ifname> ]", DisplayIgmpInterface),
    ("display pim neighbor", DisplayPimNeighbor),
    ("display pim interface", DisplayPimInterface),
    ("display pim routing-table", DisplayPimRoutingTable),
    ("display pim bsr-info", DisplayPimBsrInfo),
    ("display pim rp-info", DisplayPimRpInfo),
    (
        "display multicast routing-table",
        DisplayMulticastRoutingTable,
    ),
    ("display interface brief", DisplayInterfaceBrief),
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
    ("display configuration commit list", DisplayCommitList),
    ("rollback configuration to commit-id <commit-id>", Rollback),
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
    // The static RP in one line (issue 17's `pim static-rp`); VRP's own is `static-rp` in the
    // PIM view, which display shows.
    (
        "pim static-rp <rp-address>",
        Set(Scope::Top, RP_ADDRESS, Value::Arg("rp-address")),
    ),
    (
        "undo pim static-rp [ <rp-address> ]",
        Unset(Scope::Top, RP_ADDRESS),
    ),
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

/// What each keyword does, for `?` help (the parameters' lines come from their schema leaves).
const KEYWORDS: &[(&str, &str)] = &[
    ("address", "Specify an IP address"),
    (
        "admin-vrrp",
        "Make a VRRP group the management VRRP (mVRRP)",
    ),
    ("advertise", "Set the interval between VRRP advertisements"),
    ("all", "All sessions"),
    ("assert-state", "Ignore the PIM assert state"),
    ("bfd", "BFD (Bidirectional Forwarding Detection)"),
    ("bfd-session", "Track a BFD session"),
    ("bind", "Bind the session"),
    ("binding", "Bind an interface to the group"),
    ("brief", "Brief information"),
    ("bsr-info", "The bootstrap router (BSR) information"),
    (
        "candidate",
        "The configuration this session has not committed",
    ),
    ("changes", "The session's changes"),
    ("checksum-mode", "How the VRRPv3 checksum is computed"),
    ("clear", "Clear"),
    ("comment", "A comment kept with the commit"),
    ("commit", "Commit the configuration"),
    ("commit-id", "A commit of the commit history"),
    ("configuration", "Configuration"),
    ("current-configuration", "The running configuration"),
    ("delay", "Delay before preempting"),
    ("description", "Describe the interface"),
    ("detect-multiplier", "Set the detection multiplier"),
    ("disable", "Disable"),
    ("discriminator", "Set a discriminator of the session"),
    ("display", "Display information"),
    ("down-weight", "The weight of the interface when it is down"),
    ("dr-priority", "Set the priority for DR election"),
    ("dr-state", "Ignore the PIM DR state"),
    ("enable", "Enable"),
    (
        "failure-ratio",
        "The ratio of failed interfaces that triggers",
    ),
    ("group", "Multicast groups"),
    ("hello", "The interval between PIM hellos"),
    ("hello-option", "PIM hello options"),
    ("igmp", "IGMP (Internet Group Management Protocol)"),
    ("ignore", "Ignore a PIM state"),
    (
        "ignore-if-down",
        "Keep the mVRRP running while its interface is down",
    ),
    (
        "increased",
        "Increase the priority when the session goes down",
    ),
    ("interface", "Interface"),
    ("ip", "IP configuration"),
    (
        "lastmember-queryinterval",
        "Set the last member query interval",
    ),
    (
        "link",
        "The group follows the monitor group's state at once",
    ),
    ("list", "The list"),
    ("local", "The local discriminator"),
    (
        "max-response-time",
        "Set the maximum response time to queries",
    ),
    ("merge", "The whole candidate configuration"),
    ("millisecond", "In milliseconds"),
    ("min-rx-interval", "Set the minimum receive interval"),
    ("min-tx-interval", "Set the minimum transmit interval"),
    ("monitor", "Interface monitoring"),
    ("monitor-group", "Interface monitor group"),
    ("multicast", "IP multicast"),
    ("neighbor", "PIM neighbors"),
    ("peer-ip", "The peer's IP address"),
    ("pim", "PIM (Protocol Independent Multicast)"),
    ("preempt-mode", "Preemption"),
    ("priority", "Set the priority"),
    ("query", "Set the general query interval"),
    ("quit", "Leave the current view"),
    (
        "reduced",
        "Reduce the priority when the tracked object fails",
    ),
    ("remote", "The remote discriminator"),
    ("return", "Return to the user view"),
    ("robust-count", "Set the robustness variable"),
    ("rollback", "Roll the configuration back"),
    ("routing-enable", "Enable IP multicast routing"),
    ("routing-table", "The routing table"),
    ("rp-info", "The rendezvous point (RP) information"),
    ("session", "Sessions"),
    ("session-name", "The session by its name"),
    ("shutdown", "Shut down"),
    ("sm", "PIM sparse mode"),
    ("source-ip", "The source IP address"),
    ("static-rp", "A static rendezvous point"),
    ("sub", "A secondary address"),
    ("sysname", "Set the host name"),
    ("system", "The system's settings"),
    ("system-view", "Enter the system view"),
    ("this", "The configuration of the current view"),
    ("timer", "Timers"),
    ("to", "To"),
    ("track", "Track an object"),
    ("undo", "Negate a command or set its default"),
    ("verbose", "Detailed information"),
    ("version", "Set the protocol version"),
    ("virtual-ip", "Set a virtual IP address"),
    ("vrid", "A virtual router (VRRP group)"),
    ("vrrp", "VRRP (Virtual Router Redundancy Protocol)"),
];

/// What `keyword` does, for `?` help.
pub fn keyword_help(keyword: &str) -> &'static str {
    KEYWORDS
        .binary_search_by(|(k, _)| k.cmp(&keyword))
        .map(|i| KEYWORDS[i].1)
        .unwrap_or("")
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
            user: build(&[USER, OPERATIONAL])?,
            system: build(&[SYSTEM, COMMON, OPERATIONAL])?,
            interface: build(&[INTERFACE, COMMON, OPERATIONAL])?,
            monitor_group: build(&[MONITOR_GROUP, COMMON, OPERATIONAL])?,
            bfd_session: build(&[BFD_SESSION, COMMON, OPERATIONAL])?,
            pim: build(&[PIM, COMMON, OPERATIONAL])?,
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
    use std::sync::Arc;

    use super::*;
    use crate::vrp::params::Params;

    /// Every keyword of every view has its `?` help; the table is sorted for the lookup.
    #[test]
    fn every_keyword_has_help() {
        assert!(KEYWORDS.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        let grammars = Grammars::new().unwrap();
        for g in grammars.all() {
            for k in g.keywords() {
                assert!(!keyword_help(k).is_empty(), "no help for {k}");
            }
        }
    }

    /// Every command parses and every parameter names a leaf of the device's schema.
    #[test]
    fn the_table_is_complete() {
        let schema = Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap());
        let grammars = Grammars::new().unwrap();
        let params = Params::new(schema);
        for g in grammars.all() {
            for p in g.params() {
                assert!(params.knows(p), "parameter <{p}> has no schema leaf");
            }
        }
    }
}
