//! Event notifications (RFC 5277) on the NETCONF stream, with a bounded replay log, and the
//! base notifications of RFC 6470 (config change, session start/end, confirmed commit).

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::broadcast;
use yang::diff::{Change, ChangeOp};
use yang::xml::{escape_text, escape_text_into};

use crate::clock::now_ms;
use crate::clock::rfc3339;

pub const NOTIF_NS: &str = "urn:ietf:params:xml:ns:netconf:notification:1.0";
pub const NETMOD_NOTIF_NS: &str = "urn:ietf:params:xml:ns:netmod:notification";
pub const NC_NOTIF_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications";

/// How many events the replay log keeps.
pub const REPLAY_LOG: usize = 1000;

/// One event: when, and its content element(s) as XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub time_ms: u64,
    pub content: String,
}

impl Event {
    /// The complete `<notification>` message.
    pub fn to_xml(&self) -> String {
        format!(
            "<notification xmlns=\"{NOTIF_NS}\"><eventTime>{}</eventTime>{}</notification>",
            rfc3339(self.time_ms),
            self.content
        )
    }

    /// The namespace and name of the event's (first) element: which notification it is.
    pub fn kind(&self) -> Option<(&str, &str)> {
        let start = self.content.trim_start().strip_prefix('<')?;
        let tag = &start[..start.find('>')?];
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = &tag[..name_end];
        let ns = tag
            .split_once("xmlns=\"")
            .and_then(|(_, rest)| rest.split_once('"'));
        Some((ns.map_or("", |(ns, _)| ns), name))
    }
}

/// The NETCONF event stream.
pub struct Stream {
    tx: broadcast::Sender<Event>,
    log: Mutex<VecDeque<Event>>,
}

impl Default for Stream {
    fn default() -> Self {
        Stream {
            tx: broadcast::channel(1024).0,
            log: Mutex::new(VecDeque::new()),
        }
    }
}

impl Stream {
    pub fn publish(&self, content: String) {
        let event = Event {
            time_ms: now_ms(),
            content,
        };
        {
            let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            log.push_back(event.clone());
            while log.len() > REPLAY_LOG {
                log.pop_front();
            }
        }
        // No subscriber is not an error.
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Logged events in [start, stop].
    pub fn replay(&self, start_ms: u64, stop_ms: Option<u64>) -> Vec<Event> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|e| e.time_ms >= start_ms && stop_ms.is_none_or(|s| e.time_ms <= s))
            .cloned()
            .collect()
    }
}

/// RFC 6470 `changed-by-parms`: the server itself (session 0), or a user's session with its
/// source host when known.
fn changed_by(user: &str, session: u32, source_host: &str) -> String {
    if session == 0 {
        return "<changed-by><server/></changed-by>".to_string();
    }
    let mut x = format!(
        "<changed-by><username>{}</username><session-id>{session}</session-id>",
        escape_text(user)
    );
    if !source_host.is_empty() {
        x.push_str(&format!(
            "<source-host>{}</source-host>",
            escape_text(source_host)
        ));
    }
    x.push_str("</changed-by>");
    x
}

/// netconf-config-change (RFC 6470 §2.1) for a commit to running.
pub fn config_change(user: &str, session: u32, source_host: &str, changes: &[Change]) -> String {
    let mut x = format!(
        "<netconf-config-change xmlns=\"{NC_NOTIF_NS}\">{}<datastore>running</datastore>",
        changed_by(user, session, source_host)
    );
    // Written in place: a commit of 10,000 entries lists some 30,000 edits.
    x.reserve(changes.iter().map(|c| c.path.len() + 64).sum());
    for c in changes {
        let op = match c.op {
            ChangeOp::Create => "create",
            ChangeOp::Delete => "delete",
            ChangeOp::Modify | ChangeOp::Move => "replace",
        };
        x.push_str("<edit><target>");
        escape_text_into(&c.path, &mut x);
        x.push_str("</target><operation>");
        x.push_str(op);
        x.push_str("</operation></edit>");
    }
    x.push_str("</netconf-config-change>");
    x
}

/// netconf-session-start / -end (RFC 6470 §2.2, §2.3).
pub fn session_event(start: bool, user: &str, session: u32, host: &str, reason: &str) -> String {
    let name = if start {
        "netconf-session-start"
    } else {
        "netconf-session-end"
    };
    let mut x = format!(
        "<{name} xmlns=\"{NC_NOTIF_NS}\"><username>{}</username><session-id>{session}</session-id>",
        escape_text(user)
    );
    if !host.is_empty() {
        x.push_str(&format!("<source-host>{}</source-host>", escape_text(host)));
    }
    if !start {
        x.push_str(&format!(
            "<termination-reason>{reason}</termination-reason>"
        ));
    }
    x.push_str(&format!("</{name}>"));
    x
}

/// netconf-confirmed-commit (RFC 6470 §2.4).
pub fn confirmed_commit(user: &str, session: u32, event: &str, timeout_s: Option<u32>) -> String {
    let mut x = format!("<netconf-confirmed-commit xmlns=\"{NC_NOTIF_NS}\">");
    if session != 0 {
        x.push_str(&format!(
            "<username>{}</username><session-id>{session}</session-id>",
            escape_text(user)
        ));
    }
    x.push_str(&format!("<confirm-event>{event}</confirm-event>"));
    if let Some(t) = timeout_s {
        x.push_str(&format!("<timeout>{t}</timeout>"));
    }
    x.push_str("</netconf-confirmed-commit>");
    x
}

/// Parse an RFC 3339 date-and-time into unix milliseconds.
pub fn parse_time(s: &str) -> Option<u64> {
    let s = s.trim();
    let (date, rest) = s.split_once('T')?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (time, offset_min) =
        if let Some(t) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
            (t, 0i64)
        } else {
            let i = rest.rfind(['+', '-'])?;
            let (t, off) = rest.split_at(i);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let (oh, om) = off[1..].split_once(':')?;
            (
                t,
                sign * (oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?),
            )
        };
    let mut t = time.split(':');
    let (hh, mm): (i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let sec: f64 = t.next()?.parse().ok()?;
    // days from civil (inverse of clock::rfc3339)
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 - offset_min * 60;
    let ms = secs as f64 * 1000.0 + sec * 1000.0;
    (ms >= 0.0).then_some(ms as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trip() {
        for ms in [0u64, 951_782_400_123, 1_795_651_200_000, 1_795_651_234_567] {
            assert_eq!(parse_time(&rfc3339(ms)), Some(ms));
        }
        assert_eq!(
            parse_time("2026-11-26T01:00:00+01:00"),
            parse_time("2026-11-26T00:00:00Z")
        );
        assert_eq!(parse_time("garbage"), None);
    }

    #[test]
    fn an_event_names_its_notification() {
        let e = |content: &str| Event {
            time_ms: 0,
            content: content.into(),
        };
        assert_eq!(
            e(&session_event(true, "u", 1, "", "")).kind(),
            Some((NC_NOTIF_NS, "netconf-session-start"))
        );
        assert_eq!(
            e(r#"<state-change xmlns="urn:ne-agent:yang:ne-vrrp"><vrid>1</vrid></state-change>"#)
                .kind(),
            Some(("urn:ne-agent:yang:ne-vrrp", "state-change"))
        );
        assert_eq!(e("<x/>").kind(), Some(("", "x")));
        assert_eq!(e("text").kind(), None);
    }

    #[test]
    fn config_change_names_who_and_from_where() {
        let x = config_change("alice", 7, "192.0.2.1", &[]);
        assert!(
            x.contains("<changed-by><username>alice</username><session-id>7</session-id><source-host>192.0.2.1</source-host></changed-by>"),
            "{x}"
        );
        let x = config_change("", 0, "", &[]);
        assert!(x.contains("<changed-by><server/></changed-by>"), "{x}");
    }

    #[test]
    fn config_change_lists_each_edit() {
        let change = |op, path: &str| Change {
            op,
            path: path.into(),
            schema: yang::NodeId(0),
            old: None,
            new: None,
        };
        let x = config_change(
            "alice",
            7,
            "",
            &[
                change(ChangeOp::Create, "/m:g[m:name='a<b']"),
                change(ChangeOp::Move, "/m:u[m:name='c']"),
            ],
        );
        assert!(
            x.ends_with(
                "<datastore>running</datastore>\
                 <edit><target>/m:g[m:name='a&lt;b']</target><operation>create</operation></edit>\
                 <edit><target>/m:u[m:name='c']</target><operation>replace</operation></edit>\
                 </netconf-config-change>"
            ),
            "{x}"
        );
    }

    #[test]
    fn replay_is_bounded_and_filtered_by_time() {
        let s = Stream::default();
        for i in 0..(REPLAY_LOG + 10) {
            s.publish(format!("<e>{i}</e>"));
        }
        assert_eq!(s.replay(0, None).len(), REPLAY_LOG);
        assert!(s.replay(u64::MAX, None).is_empty());
    }
}
