//! Configuration commands as edits of the session's candidate: each command becomes the
//! `<config>` content of an `edit-config` (merge by default, `replace` for what a command
//! states in full, `remove` for `undo`), applied with the yang crate's edit, so the candidate
//! is exactly what NETCONF would have made of the same change.

use yang::data::{apply_edit, DataTree, EditOp};
use yang::schema::Schema;
use yang::xml::{Attribute, Element};

use super::commands::{Action, Path, Scope, Value, BFD, IF, MC, MG, VRRP};
use super::grammar::{CliError, ErrorKind, Matched};
use super::nav;

const NC: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";

fn el(ns: &str, name: &str, children: Vec<Element>) -> Element {
    let mut e = Element::new(ns, name);
    e.children = children;
    e
}

fn leaf(ns: &str, name: &str, value: &str) -> Element {
    let mut e = Element::new(ns, name);
    e.text = value.to_string();
    e
}

fn op(mut e: Element, operation: &str) -> Element {
    set_op(&mut e, operation);
    e
}

fn set_op(e: &mut Element, operation: &str) {
    e.attrs.push(Attribute {
        ns: NC.to_string(),
        name: "operation".to_string(),
        value: operation.to_string(),
    });
}

/// Where the command runs: the names the view it runs in gives it.
pub struct Context<'a> {
    pub interface: Option<&'a str>,
    pub monitor_group: Option<&'a str>,
    pub bfd_session: Option<&'a str>,
}

/// An interface entry with its content, inside `interfaces`.
fn interface(name: &str, content: Vec<Element>) -> Element {
    let mut children = vec![leaf(IF, "name", name)];
    children.extend(content);
    el(IF, "interfaces", vec![el(IF, "interface", children)])
}

fn vrrp_group(ifname: &str, vrid: &str, content: Vec<Element>) -> Element {
    let mut children = vec![leaf(VRRP, "vrid", vrid)];
    children.extend(content);
    interface(
        ifname,
        vec![el(VRRP, "vrrp", vec![el(VRRP, "group", children)])],
    )
}

fn monitor_group(name: &str, content: Vec<Element>) -> Element {
    let mut children = vec![leaf(MG, "name", name)];
    children.extend(content);
    el(
        MG,
        "monitor-groups",
        vec![el(MG, "monitor-group", children)],
    )
}

fn bfd_session(name: &str, content: Vec<Element>) -> Element {
    let mut children = vec![leaf(BFD, "name", name)];
    children.extend(content);
    el(BFD, "bfd", vec![el(BFD, "session", children)])
}

/// `path` below a scope, ending in `last` (a leaf with its value, or an element to remove).
fn nest(path: Path, last: Element) -> Element {
    path[..path.len().saturating_sub(1)]
        .iter()
        .rev()
        .fold(last, |inner, &(ns, name)| el(ns, name, vec![inner]))
}

fn missing(what: &str) -> CliError {
    CliError::refused(format!("Error: The command needs the {what} view."))
}

fn arg<'m, A>(m: &'m Matched<A>, name: &str) -> Result<&'m str, CliError> {
    m.value(name)
        .ok_or_else(|| CliError::refused(format!("Error: The parameter {name} is missing.")))
}

/// Put `content` (a list of what a path ends in) inside the scope's node.
fn in_scope(
    scope: Scope,
    ctx: &Context<'_>,
    m: &Matched<Action>,
    content: Vec<Element>,
) -> Result<Vec<Element>, CliError> {
    Ok(match scope {
        Scope::Top => content,
        Scope::Interface => vec![interface(
            ctx.interface.ok_or_else(|| missing("interface"))?,
            content,
        )],
        Scope::VrrpGroup => vec![vrrp_group(
            ctx.interface.ok_or_else(|| missing("interface"))?,
            arg(m, "vrid")?,
            content,
        )],
        Scope::MonitorGroup => vec![monitor_group(
            ctx.monitor_group.ok_or_else(|| missing("monitor-group"))?,
            content,
        )],
        Scope::BfdSession => vec![bfd_session(
            ctx.bfd_session.ok_or_else(|| missing("bfd-session"))?,
            content,
        )],
    })
}

/// The edit a configuration command makes, as `<config>` content; None for commands that are
/// not configuration.
pub fn edit_for(
    schema: &Schema,
    candidate: &DataTree,
    ctx: &Context<'_>,
    m: &Matched<Action>,
) -> Result<Option<Vec<Element>>, CliError> {
    let edit = match m.action {
        Action::Set(scope, path, value) => {
            let value = match value {
                Value::Arg(name) => arg(m, name)?,
                Value::Fixed(v) => v,
            };
            let Some(&(ns, name)) = path.last() else {
                return Err(CliError::refused("Error: Nothing to set."));
            };
            in_scope(scope, ctx, m, vec![nest(path, leaf(ns, name, value))])?
        }
        Action::Unset(scope, path) => match path.last() {
            Some(&(ns, name)) => in_scope(
                scope,
                ctx,
                m,
                vec![nest(path, op(Element::new(ns, name), "remove"))],
            )?,
            // The scope's own entry.
            None => {
                let mut e = in_scope(scope, ctx, m, Vec::new())?;
                mark_innermost_entry(&mut e, "remove");
                e
            }
        },
        Action::EnterInterface => vec![interface(arg(m, "ifname")?, Vec::new())],
        Action::UndoInterface => {
            let mut e = vec![interface(arg(m, "ifname")?, Vec::new())];
            mark_innermost_entry(&mut e, "remove");
            e
        }
        Action::EnterMonitorGroup => vec![monitor_group(arg(m, "mg-name")?, Vec::new())],
        Action::UndoMonitorGroup => {
            let mut e = vec![monitor_group(arg(m, "mg-name")?, Vec::new())];
            mark_innermost_entry(&mut e, "remove");
            e
        }
        Action::UndoBfd => {
            let mut e = vec![bfd_session(arg(m, "bfd-name")?, Vec::new())];
            mark_innermost_entry(&mut e, "remove");
            e
        }
        Action::BfdBind => {
            // The binding is stated in full: what is not given is not bound.
            let optional = |param: &str, leaf_name: &str| match m.value(param) {
                Some(v) => leaf(BFD, leaf_name, v),
                None => op(Element::new(BFD, leaf_name), "remove"),
            };
            vec![bfd_session(
                arg(m, "bfd-name")?,
                vec![
                    leaf(BFD, "peer-ip", arg(m, "peer-ip")?),
                    optional("bfd-interface", "interface"),
                    optional("source-ip", "source-ip"),
                ],
            )]
        }
        Action::IpAddress => in_scope(
            Scope::Interface,
            ctx,
            m,
            vec![el(
                IF,
                "ipv4",
                vec![el(
                    IF,
                    "address",
                    vec![
                        leaf(IF, "ip", arg(m, "ip-address")?),
                        leaf(IF, "prefix-length", arg(m, "mask")?),
                    ],
                )],
            )],
        )?,
        Action::UndoIpAddress => {
            let target = match m.value("ip-address") {
                Some(ip) => el(
                    IF,
                    "ipv4",
                    vec![op(el(IF, "address", vec![leaf(IF, "ip", ip)]), "remove")],
                ),
                None => op(Element::new(IF, "ipv4"), "remove"),
            };
            in_scope(Scope::Interface, ctx, m, vec![target])?
        }
        Action::VirtualIp | Action::UndoVirtualIp => {
            let mut vip = el(
                VRRP,
                "virtual-ip",
                vec![leaf(VRRP, "address", arg(m, "virtual-ip")?)],
            );
            if m.action == Action::UndoVirtualIp {
                vip = op(vip, "remove");
            }
            in_scope(Scope::VrrpGroup, ctx, m, vec![vip])?
        }
        Action::AdminVrrp => {
            let content = if m.has("ignore-if-down") {
                vec![leaf(VRRP, "ignore-if-down", "true")]
            } else {
                Vec::new()
            };
            let admin = op(el(VRRP, "admin-vrrp", content), "replace");
            in_scope(Scope::VrrpGroup, ctx, m, vec![admin])?
        }
        Action::TrackBfd | Action::UndoTrackBfd => {
            let session = tracked_session(schema, candidate, m)?;
            let mut entry = vec![leaf(VRRP, "session", &session)];
            // Without a keyword VRP tracks "reduced 10": the defaults of mode and
            // priority-change in ne-vrrp, so nothing is written for it.
            if let Some(change) = m.value("bfd-priority-change") {
                let mode = if m.has("increased") {
                    "increase"
                } else {
                    "reduce"
                };
                entry.push(leaf(VRRP, "mode", mode));
                entry.push(leaf(VRRP, "priority-change", change));
            }
            let operation = if m.action == Action::TrackBfd {
                "replace"
            } else {
                entry.truncate(1);
                "remove"
            };
            let track = el(
                VRRP,
                "track",
                vec![op(el(VRRP, "bfd-session", entry), operation)],
            );
            in_scope(Scope::VrrpGroup, ctx, m, vec![track])?
        }
        Action::TrackMonitorGroup | Action::UndoTrackMonitorGroup => {
            let mut entry = vec![leaf(VRRP, "name", arg(m, "tracked-mg")?)];
            let operation = if m.action == Action::TrackMonitorGroup {
                entry.push(leaf(VRRP, "failure-ratio", arg(m, "failure-ratio")?));
                if m.has("link") {
                    entry.push(leaf(VRRP, "mode", "link"));
                } else if let Some(change) = m.value("mg-priority-change") {
                    entry.push(leaf(VRRP, "mode", "reduce"));
                    entry.push(leaf(VRRP, "priority-change", change));
                }
                "replace"
            } else {
                "remove"
            };
            let track = el(
                VRRP,
                "track",
                vec![op(el(VRRP, "monitor-group", entry), operation)],
            );
            in_scope(Scope::VrrpGroup, ctx, m, vec![track])?
        }
        Action::Binding | Action::UndoBinding => {
            let mut entry = vec![leaf(MG, "name", arg(m, "binding-interface")?)];
            let operation = if m.action == Action::Binding {
                if let Some(w) = m.value("down-weight") {
                    entry.push(leaf(MG, "down-weight", w));
                }
                "replace"
            } else {
                "remove"
            };
            in_scope(
                Scope::MonitorGroup,
                ctx,
                m,
                vec![op(el(MG, "binding-interface", entry), operation)],
            )?
        }
        Action::TrackAdminVrrp => in_scope(
            Scope::Interface,
            ctx,
            m,
            vec![op(
                el(
                    MC,
                    "track-admin-vrrp",
                    vec![
                        leaf(MC, "interface", arg(m, "tracked-interface")?),
                        leaf(MC, "vrid", arg(m, "tracked-vrid")?),
                    ],
                ),
                "replace",
            )],
        )?,
        _ => return Ok(None),
    };
    Ok(Some(edit))
}

/// Mark the innermost list entry of a nested edit (the last element with children, going down
/// the last child) with an operation: `undo interface X` removes the entry, not `interfaces`.
fn mark_innermost_entry(elements: &mut [Element], operation: &str) {
    fn mark(e: &mut Element, operation: &str) {
        match e.children.last_mut() {
            Some(c) if !c.children.is_empty() => mark(c, operation),
            _ => set_op(e, operation),
        }
    }
    if let Some(e) = elements.last_mut() {
        mark(e, operation);
    }
}

/// The BFD session a track command names: by name, or by number, the session's local
/// discriminator, which must exist in the candidate.
fn tracked_session(
    schema: &Schema,
    candidate: &DataTree,
    m: &Matched<Action>,
) -> Result<String, CliError> {
    if let Some(name) = m.value("tracked-bfd") {
        return Ok(name.to_string());
    }
    let Some(id) = m.arg("bfd-discriminator") else {
        return Err(CliError::refused("Error: No BFD session is given."));
    };
    let nav = nav::Nav::new(schema);
    nav.top(candidate, BFD, "bfd")
        .map(|bfd| nav.entries(bfd, BFD, "session"))
        .unwrap_or_default()
        .iter()
        .find(|s| nav.value(s, BFD, "local-discriminator") == Some(id.value.as_str()))
        .and_then(|s| nav.value(s, BFD, "name"))
        .map(str::to_string)
        .ok_or_else(|| CliError::at(ErrorKind::WrongParameter, id.column))
}

/// Apply an edit to the candidate (nothing changes if it fails).
pub fn apply(schema: &Schema, candidate: &mut DataTree, edit: &[Element]) -> Result<(), CliError> {
    apply_edit(schema, candidate, edit, EditOp::Merge)
        .map_err(|e| CliError::refused(format!("Error: {}", e.message)))
}

/// Does the candidate hold this BFD session?
pub fn has_bfd_session(schema: &Schema, candidate: &DataTree, name: &str) -> bool {
    let nav = nav::Nav::new(schema);
    nav.top(candidate, BFD, "bfd")
        .and_then(|bfd| nav.entry(bfd, BFD, "session", name))
        .is_some()
}
