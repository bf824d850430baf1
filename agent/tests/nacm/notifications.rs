//! Notification access (RFC 8341 §3.4.6) on a real session: a subscriber receives only the
//! events it may read; its replayComplete is always sent; withheld events are counted.

use std::time::Duration;

use agent::netconf::framing::{encode, Framing};
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

const HELLO: &str = r#"<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>"#;

async fn read_until(c: &mut DuplexStream, end: &[u8]) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(end) {
        let n = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf))
            .await
            .expect("data in time")
            .unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap()
}

/// A session of `user`, subscribed with replay from the start of the log.
async fn subscriber(d: &Device, user: &str) -> (DuplexStream, String) {
    let (mut client, server_end) = duplex(1 << 20);
    tokio::spawn(agent::netconf::session::run(
        server_end,
        Arc::clone(&d.server),
        user.to_string(),
        "192.0.2.7".into(),
    ));
    read_until(&mut client, b"]]>]]>").await;
    client
        .write_all(&encode(HELLO.as_bytes(), Framing::EndOfMessage))
        .await
        .unwrap();
    let sub = format!(
        "<rpc message-id=\"1\" xmlns=\"{BASE}\"><create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"><startTime>2000-01-01T00:00:00Z</startTime></create-subscription></rpc>"
    );
    client
        .write_all(&encode(sub.as_bytes(), Framing::Chunked))
        .await
        .unwrap();
    // The reply, then the replay up to replayComplete.
    let mut seen = String::new();
    while !seen.contains("replayComplete") {
        seen.push_str(&read_until(&mut client, b"\n##\n").await);
    }
    (client, seen)
}

#[tokio::test]
async fn a_subscriber_receives_only_what_it_may_read() {
    let d = Device::new("n-session");
    d.nacm(&format!(
        "{}{}",
        groups(&[group("noc", &["noc"])]),
        rule_list(
            "noc",
            &["noc"],
            &[rule(
                "no-config-change",
                "<module-name>ietf-netconf-notifications</module-name>\
                 <notification-name>netconf-config-change</notification-name>\
                 <access-operations>read</access-operations><action>deny</action>",
            )]
        )
    ));
    let before = d.counter("denied-notifications");
    // The replay held config changes (the commits above): withheld from noc, with replayComplete.
    let (mut noc, replay) = subscriber(&d, "noc").await;
    assert!(
        replay.contains("<ok/>") && replay.contains("replayComplete"),
        "{replay}"
    );
    assert!(!replay.contains("netconf-config-change"), "{replay}");
    assert!(replay.contains("netconf-session-start"), "{replay}");
    let (mut admin, replay) = subscriber(&d, ADMIN).await;
    assert!(replay.contains("netconf-config-change"), "{replay}");
    assert!(d.counter("denied-notifications") > before);
    // Live: a commit, then a session start; noc gets only the second.
    d.ok(ADMIN, &edit("running", &bfd(&bfd_session("c", 3))));
    d.session("someone");
    let mut got = String::new();
    while !got.contains("someone") {
        got.push_str(&read_until(&mut noc, b"\n##\n").await);
    }
    assert!(!got.contains("netconf-config-change"), "{got}");
    let mut got = String::new();
    while !got.contains("netconf-config-change") {
        got.push_str(&read_until(&mut admin, b"\n##\n").await);
    }
}

/// default-deny-all on a notification, and a notification rule by name of the device's own
/// modules.
#[test]
fn notification_rules_by_module_and_name() {
    let d = Device::new("n-rules");
    d.nacm(&format!(
        "<read-default>deny</read-default>{}{}",
        groups(&[group("noc", &["noc"])]),
        rule_list(
            "noc",
            &["noc"],
            &[rule(
                "vrrp-events",
                "<module-name>ne-vrrp</module-name><notification-name>state-change</notification-name>\
                 <access-operations>read</access-operations><action>permit</action>",
            )]
        )
    ));
    let a = &d.server.access;
    assert!(a.may_receive("noc", false, VRRP_NS, "state-change"));
    assert!(!a.may_receive("noc", false, BFD_NS, "session-state-change"));
    assert!(a.may_receive("noc", true, BFD_NS, "session-state-change"));
    // RFC 5277's replayComplete and notificationComplete always go out.
    assert!(a.may_receive(
        "noc",
        false,
        "urn:ietf:params:xml:ns:netmod:notification",
        "replayComplete"
    ));
}
