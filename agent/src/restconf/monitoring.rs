//! `ietf-restconf-monitoring:restconf-state` (RFC 8040 §9): the server's capabilities and its
//! event streams with their locations. The module is not among the embedded models, so this
//! state is written here, in both encodings, rather than through the schema; it is read only
//! and not part of a GET of the whole datastore.

use super::api::Request;
use super::errors::RestError;
use super::events::{NETCONF_JSON, NETCONF_XML};
use super::media::Encoding;
use crate::clock::rfc3339;

pub const MONITORING_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-restconf-monitoring";
pub const TOP: &str = "ietf-restconf-monitoring:restconf-state";

/// The capability URIs (RFC 8040 §9.1.1): the query parameters and the basic with-defaults mode.
pub const CAPABILITIES: &[&str] = &[
    "urn:ietf:params:restconf:capability:defaults:1.0?basic-mode=explicit",
    "urn:ietf:params:restconf:capability:depth:1.0",
    "urn:ietf:params:restconf:capability:fields:1.0",
    "urn:ietf:params:restconf:capability:filter:1.0",
    "urn:ietf:params:restconf:capability:replay:1.0",
    "urn:ietf:params:restconf:capability:with-defaults:1.0",
    "urn:ietf:params:restconf:capability:yang-patch:1.0",
];

/// What part of restconf-state an api-path names, if it names one.
pub fn part(api_path: &str) -> Option<Result<&str, RestError>> {
    let rest = api_path.trim_end_matches('/').strip_prefix(TOP)?;
    Some(match rest {
        "" => Ok(""),
        "/capabilities" => Ok("capabilities"),
        "/streams" => Ok("streams"),
        other => Err(RestError::not_found(&format!("'{TOP}{other}'"))),
    })
}

/// The restconf-state container, or one of its two children.
pub fn render(req: &Request<'_>, enc: Encoding, part: &str, log_start_ms: u64) -> String {
    let base = format!("https://{}/restconf", req.host);
    let caps: Vec<String> = CAPABILITIES.iter().map(|c| c.to_string()).collect();
    let locations = [
        ("xml", format!("{base}{NETCONF_XML}")),
        ("json", format!("{base}{NETCONF_JSON}")),
    ];
    let since = rfc3339(log_start_ms);
    match enc {
        Encoding::Json => {
            let q = |s: &str| {
                let mut o = String::new();
                yang::data::json::write_string(s, &mut o);
                o
            };
            let capabilities = format!(
                "{{\"capability\":[{}]}}",
                caps.iter().map(|c| q(c)).collect::<Vec<_>>().join(",")
            );
            let streams = format!(
                "{{\"stream\":[{{\"name\":\"NETCONF\",\"description\":\"the NETCONF event stream\",\
                 \"replay-support\":true,\"replay-log-creation-time\":{},\"access\":[{}]}}]}}",
                q(&since),
                locations
                    .iter()
                    .map(|(e, l)| format!("{{\"encoding\":\"{e}\",\"location\":{}}}", q(l)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            match part {
                "capabilities" => {
                    format!("{{\"ietf-restconf-monitoring:capabilities\":{capabilities}}}")
                }
                "streams" => format!("{{\"ietf-restconf-monitoring:streams\":{streams}}}"),
                _ => format!(
                    "{{\"{TOP}\":{{\"capabilities\":{capabilities},\"streams\":{streams}}}}}"
                ),
            }
        }
        Encoding::Xml => {
            let e = yang::xml::escape_text;
            let capabilities = format!(
                "<capabilities>{}</capabilities>",
                caps.iter()
                    .map(|c| format!("<capability>{}</capability>", e(c)))
                    .collect::<String>()
            );
            let streams = format!(
                "<streams><stream><name>NETCONF</name><description>the NETCONF event stream</description>\
                 <replay-support>true</replay-support><replay-log-creation-time>{since}</replay-log-creation-time>{}\
                 </stream></streams>",
                locations
                    .iter()
                    .map(|(enc, l)| format!("<access><encoding>{enc}</encoding><location>{}</location></access>", e(l)))
                    .collect::<String>()
            );
            let x = |inner: &str| inner.replacen('>', &format!(" xmlns=\"{MONITORING_NS}\">"), 1);
            match part {
                "capabilities" => x(&capabilities),
                "streams" => x(&streams),
                _ => format!("<restconf-state xmlns=\"{MONITORING_NS}\">{capabilities}{streams}</restconf-state>"),
            }
        }
    }
}
