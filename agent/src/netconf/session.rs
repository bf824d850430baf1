//! One NETCONF session over any byte stream: hello exchange, framing, RPCs in order.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info, warn};

use super::framing::{encode, Decoder, Framing, FramingError};
use super::notify::{Event, NETMOD_NOTIF_NS};
use super::rpc::{self, After, Caller};
use super::server::{Server, SessionInfo};
use super::{capabilities, BASE_11, BASE_NS};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::broadcast;
use yang::data::ErrorTag;

/// Run a session to its end. `user` is the authenticated SSH user.
pub async fn run<S>(mut stream: S, server: Arc<Server>, user: String, source_host: String)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(mut guard) = server.register(&user, &source_host) else {
        warn!(%user, "session refused: session limit reached");
        let _ = stream.shutdown().await;
        return;
    };
    let id = guard.id;
    info!(session = id, %user, "netconf session started");
    // External NACM groups: read again if the file changed since (one stat per login).
    server.access.groups.refresh();
    let hello = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><hello xmlns=\"{BASE_NS}\"><capabilities>{}</capabilities><session-id>{id}</session-id></hello>",
        capabilities(&server.schema)
            .iter()
            .map(|c| format!("<capability>{c}</capability>"))
            .collect::<String>()
    );
    if stream
        .write_all(&encode(hello.as_bytes(), Framing::EndOfMessage))
        .await
        .is_err()
    {
        return;
    }
    let mut decoder = Decoder::new(Framing::EndOfMessage, server.limits.max_message);
    let mut buf = vec![0u8; 64 * 1024];
    let mut hello_done = false;
    // Notification subscription: the live receiver and the stopTime, if any.
    let mut subscription: Option<(broadcast::Receiver<Event>, Option<u64>)> = None;
    let mut sub_filter: Option<super::event_filter::EventFilter> = None;
    let caller_user = user.clone();
    loop {
        // Complete messages already buffered first.
        loop {
            let msg = match decoder.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    warn!(session = id, error = %e, "framing error; closing the session");
                    let tag = match e {
                        FramingError::TooBig { .. } => ErrorTag::TooBig,
                        FramingError::BadChunkHeader(_) => ErrorTag::MalformedMessage,
                    };
                    let reply = rpc::error_reply(&server, tag, &e.to_string());
                    let _ = stream
                        .write_all(&encode(reply.xml.as_bytes(), decoder.framing()))
                        .await;
                    let _ = stream.shutdown().await;
                    return;
                }
            };
            if !hello_done {
                match client_hello(&msg) {
                    Ok(chunked) => {
                        hello_done = true;
                        if chunked {
                            decoder.set_framing(Framing::Chunked);
                        }
                        debug!(session = id, chunked, "client hello");
                        continue;
                    }
                    Err(why) => {
                        server.stats.in_bad_hellos.fetch_add(1, Ordering::Relaxed);
                        warn!(session = id, %why, "bad client hello; closing");
                        let _ = stream.shutdown().await;
                        return;
                    }
                }
            }
            let framing = decoder.framing();
            let mut bad = true;
            let deferred = match std::str::from_utf8(&msg)
                .map_err(|e| e.to_string())
                .and_then(|t| yang::xml::parse(t).map_err(|e| e.to_string()))
            {
                Ok(el) if el.name == "rpc" && el.ns == BASE_NS => {
                    bad = false;
                    let caller = Caller {
                        id,
                        user: &caller_user,
                        subscribed: subscription.is_some(),
                    };
                    rpc::handle_deferred(&server, &caller, &el)
                }
                Ok(el) => rpc::Deferred::now(rpc::malformed_reply(
                    &server,
                    &format!(
                        "expected <rpc> in {BASE_NS}, got <{}> in {}",
                        el.name,
                        if el.ns.is_empty() {
                            "no namespace"
                        } else {
                            &el.ns
                        }
                    ),
                )),
                Err(e) => rpc::Deferred::now(rpc::malformed_reply(&server, &e)),
            };
            // The worker serves other sessions while this request's commit is flushed.
            let reply = deferred.durable(&server).await;
            count(&server, &guard.info, bad, reply.is_error);
            if stream
                .write_all(&encode(reply.xml.as_bytes(), framing))
                .await
                .is_err()
            {
                return;
            }
            let after = reply.after;
            if after == After::Close {
                guard.reason = "closed";
                let _ = stream.shutdown().await;
                info!(session = id, "netconf session closed");
                return;
            }
            if let After::Subscribe {
                start_ms,
                stop_ms,
                filter,
            } = after
            {
                // Subscribe before replaying so nothing falls between the two.
                let rx = server.events.subscribe();
                sub_filter = filter;
                let mut out = Vec::new();
                if let Some(start) = start_ms {
                    for e in server.events.replay(start, stop_ms) {
                        if permitted(&server, &user, &e)
                            && sub_filter.as_ref().is_none_or(|f| f.passes(&e.content))
                        {
                            out.push(e.to_xml());
                        }
                    }
                    out.push(marker("replayComplete"));
                }
                let done = stop_ms.is_some_and(|s| s <= crate::clock::now_ms());
                if done {
                    out.push(marker("notificationComplete"));
                } else {
                    subscription = Some((rx, stop_ms));
                }
                for m in out {
                    notified(&server, &guard.info);
                    if stream
                        .write_all(&encode(m.as_bytes(), framing))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        let timeout = if hello_done {
            server.limits.idle_timeout
        } else {
            server.limits.hello_timeout
        };
        let n = tokio::select! {
            r = tokio::time::timeout(timeout, stream.read(&mut buf)) => match r {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => n,
                Err(_) => {
                    guard.reason = "timeout";
                    info!(session = id, hello_done, "session timed out");
                    break;
                }
            },
            _ = guard.killed.changed() => {
                guard.reason = "killed";
                info!(session = id, "session killed");
                break;
            }
            ev = next_event(&mut subscription) => {
                let framing = decoder.framing();
                let Some((event, stop)) = ev else { continue };
                let past_stop = stop.is_some_and(|s| event.time_ms > s);
                let wanted = past_stop
                    || (permitted(&server, &user, &event)
                        && sub_filter.as_ref().is_none_or(|f| f.passes(&event.content)));
                if !wanted {
                    continue;
                }
                let msg = if past_stop {
                    subscription = None;
                    marker("notificationComplete")
                } else {
                    event.to_xml()
                };
                notified(&server, &guard.info);
                if stream.write_all(&encode(msg.as_bytes(), framing)).await.is_err() {
                    break;
                }
                continue;
            }
        };
        let chunk = &buf[..n];
        // A client that starts chunk-framing before the hello completes is tolerated.
        if !hello_done && decoder.pending() == 0 && chunk.starts_with(b"\n#") {
            decoder.set_framing(Framing::Chunked);
        }
        decoder.push(chunk);
    }
    let _ = stream.shutdown().await;
    info!(session = id, "netconf session ended");
}

/// The next event of a subscription; never resolves without one. A receiver that lagged
/// behind skips what it lost (the replay log still has it).
async fn next_event(
    sub: &mut Option<(broadcast::Receiver<Event>, Option<u64>)>,
) -> Option<(Event, Option<u64>)> {
    let Some((rx, stop)) = sub else {
        return std::future::pending().await;
    };
    loop {
        match rx.recv().await {
            Ok(e) => return Some((e, *stop)),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                warn!(lost = n, "a notification subscriber lagged behind");
            }
            Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
        }
    }
}

/// May the session's user receive this event (RFC 8341 §3.4.6)? The subscription's own
/// replayComplete and notificationComplete are not events of the stream and always go out.
fn permitted(server: &Server, user: &str, event: &Event) -> bool {
    match event.kind() {
        Some((ns, name)) => server
            .access
            .may_receive(user, server.is_recovery(user), ns, name),
        None => true,
    }
}

/// replayComplete / notificationComplete (RFC 5277 §2.2.1, §3.6).
fn marker(name: &str) -> String {
    Event {
        time_ms: crate::clock::now_ms(),
        content: format!("<{name} xmlns=\"{NETMOD_NOTIF_NS}\"/>"),
    }
    .to_xml()
}

/// RFC 6022 counters for one message.
fn count(server: &Server, info: &SessionInfo, bad: bool, error: bool) {
    let bump = |a: &AtomicU64| {
        a.fetch_add(1, Ordering::Relaxed);
    };
    if bad {
        bump(&server.stats.in_bad_rpcs);
        bump(&info.in_bad_rpcs);
    } else {
        bump(&server.stats.in_rpcs);
        bump(&info.in_rpcs);
    }
    if error {
        bump(&server.stats.out_rpc_errors);
        bump(&info.out_rpc_errors);
    }
}

/// RFC 6022 out-notifications: one `<notification>` going out (replay markers included).
fn notified(server: &Server, info: &SessionInfo) {
    server
        .stats
        .out_notifications
        .fetch_add(1, Ordering::Relaxed);
    info.out_notifications.fetch_add(1, Ordering::Relaxed);
}

/// Check the client's hello; Ok(true) when both sides speak base:1.1 (chunked framing).
fn client_hello(msg: &[u8]) -> Result<bool, String> {
    let text = std::str::from_utf8(msg).map_err(|e| e.to_string())?;
    let el = yang::xml::parse(text).map_err(|e| e.to_string())?;
    if el.name != "hello" || el.ns != BASE_NS {
        return Err(format!("expected <hello>, got <{}>", el.name));
    }
    if el.children.iter().any(|c| c.name == "session-id") {
        return Err("a client hello must not carry a session-id".into());
    }
    let caps: Vec<&str> = el
        .children
        .iter()
        .filter(|c| c.name == "capabilities")
        .flat_map(|c| c.children.iter())
        .map(|c| c.text.trim())
        .collect();
    let base10 = caps.contains(&"urn:ietf:params:netconf:base:1.0");
    let base11 = caps.contains(&BASE_11);
    if !base10 && !base11 {
        return Err("the client supports neither base:1.0 nor base:1.1".into());
    }
    Ok(base11)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netconf::server::Limits;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

    const HELLO_10: &str = r#"<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>"#;
    const HELLO_11: &str = r#"<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>"#;
    const GET: &str = r#"<rpc message-id="7" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get-config><source><running/></source></get-config></rpc>"#;

    struct Fixture {
        server: Arc<Server>,
        dir: std::path::PathBuf,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fixture(tag: &str, limits: Limits) -> Fixture {
        let dir = std::env::temp_dir().join(format!("ne-sess-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let schema = Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap());
        let (store, _) = datastore::Datastore::open(&dir, Arc::clone(&schema)).unwrap();
        Fixture {
            server: Server::new(schema, Arc::new(store), limits),
            dir,
        }
    }

    /// Start a session; returns the client end after reading the server hello.
    async fn start(f: &Fixture) -> DuplexStream {
        let (client, server_end) = duplex(1 << 20);
        tokio::spawn(run(
            server_end,
            Arc::clone(&f.server),
            "admin".into(),
            "test".into(),
        ));
        let mut client = client;
        let hello = read_until(&mut client, b"]]>]]>").await;
        assert!(hello.contains("<session-id>"), "{hello}");
        client
    }

    async fn read_until(c: &mut DuplexStream, end: &[u8]) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.ends_with(end) {
            let n = tokio::time::timeout(std::time::Duration::from_secs(10), c.read(&mut buf))
                .await
                .expect("reply in time")
                .unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8(got).unwrap()
    }

    async fn eof(c: &mut DuplexStream) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(10), c.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }

    /// Send one chunked message and read the reply.
    async fn exchange(c: &mut DuplexStream, msg: &str) -> String {
        c.write_all(&chunk(msg)).await.unwrap();
        read_until(c, b"\n##\n").await
    }

    fn chunk(msg: &str) -> Vec<u8> {
        encode(msg.as_bytes(), Framing::Chunked)
    }

    fn eom(msg: &str) -> Vec<u8> {
        encode(msg.as_bytes(), Framing::EndOfMessage)
    }

    #[tokio::test]
    async fn base_10_end_of_message_framing() {
        let f = fixture("b10", Limits::default());
        let mut c = start(&f).await;
        c.write_all(&eom(HELLO_10)).await.unwrap();
        c.write_all(&eom(GET)).await.unwrap();
        let reply = read_until(&mut c, b"]]>]]>").await;
        assert!(
            reply.contains(r#"message-id="7""#) && reply.contains("<data"),
            "{reply}"
        );
    }

    #[tokio::test]
    async fn base_11_chunked_framing_and_a_chunked_hello() {
        let f = fixture("b11", Limits::default());
        let mut c = start(&f).await;
        c.write_all(&eom(HELLO_11)).await.unwrap();
        c.write_all(&chunk(GET)).await.unwrap();
        let reply = read_until(&mut c, b"\n##\n").await;
        assert!(
            reply.starts_with("\n#") && reply.contains("<data"),
            "{reply}"
        );
        // A client that frames its hello in chunks too.
        let mut c = start(&f).await;
        c.write_all(&chunk(HELLO_11)).await.unwrap();
        c.write_all(&chunk(GET)).await.unwrap();
        let reply = read_until(&mut c, b"\n##\n").await;
        assert!(reply.contains("<data"), "{reply}");
    }

    #[tokio::test]
    async fn bad_messages_get_precise_errors_and_the_session_carries_on() {
        let f = fixture("bad", Limits::default());
        let mut c = start(&f).await;
        c.write_all(&eom(HELLO_11)).await.unwrap();
        let cases = [
            ("this is not xml", "malformed-message"),
            (
                r#"<!DOCTYPE rpc [<!ENTITY x "y">]><rpc message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get/></rpc>"#,
                "malformed-message",
            ),
            (
                r#"<rpc xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get/></rpc>"#,
                "missing-attribute",
            ),
            (
                r#"<rpc message-id="2" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><frobnicate/></rpc>"#,
                "operation-not-supported",
            ),
            (
                r#"<rpc message-id="3" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><edit-config><target><candidate/></target><config><bfd xmlns="urn:ne-agent:yang:ne-bfd"><nope/></bfd></config></edit-config></rpc>"#,
                "unknown-element",
            ),
            (
                r#"<rpc message-id="4" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><lock/></rpc>"#,
                "missing-element",
            ),
            (
                r#"<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>"#,
                "malformed-message",
            ),
        ];
        for (msg, tag) in cases {
            c.write_all(&chunk(msg)).await.unwrap();
            let reply = read_until(&mut c, b"\n##\n").await;
            assert!(
                reply.contains(&format!("<error-tag>{tag}</error-tag>")),
                "{msg}: {reply}"
            );
            assert!(
                reply.contains("<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\""),
                "{reply}"
            );
        }
        c.write_all(&chunk(GET)).await.unwrap();
        assert!(read_until(&mut c, b"\n##\n").await.contains("<data"));
    }

    #[tokio::test]
    async fn broken_framing_closes_only_that_session() {
        let f = fixture(
            "framing",
            Limits {
                max_message: 4096,
                ..Limits::default()
            },
        );
        let mut other = start(&f).await;
        other.write_all(&eom(HELLO_11)).await.unwrap();

        let mut c = start(&f).await;
        c.write_all(&eom(HELLO_11)).await.unwrap();
        c.write_all(b"\n#abc\n<rpc/>").await.unwrap();
        let reply = read_until(&mut c, b"\n##\n").await;
        assert!(reply.contains("malformed-message"), "{reply}");
        assert!(eof(&mut c).await, "session closed");

        let mut c = start(&f).await;
        c.write_all(&eom(HELLO_11)).await.unwrap();
        c.write_all(format!("\n#{}\n", 1 << 20).as_bytes())
            .await
            .unwrap();
        let reply = read_until(&mut c, b"\n##\n").await;
        assert!(reply.contains("too-big"), "{reply}");
        assert!(eof(&mut c).await);

        // A client that disconnects in the middle of an RPC.
        let mut c = start(&f).await;
        c.write_all(&eom(HELLO_11)).await.unwrap();
        c.write_all(b"\n#500\n<rpc message-id=").await.unwrap();
        drop(c);

        // The other session is unaffected.
        other.write_all(&chunk(GET)).await.unwrap();
        assert!(read_until(&mut other, b"\n##\n").await.contains("<data"));
    }

    /// RFC 6022 counters: out-rpc-errors counts replies that carry an rpc-error, not `<ok/>`
    /// nor data.
    #[tokio::test]
    async fn out_rpc_errors_counts_error_replies_only() {
        let f = fixture("count", Limits::default());
        let mut c = start(&f).await;
        c.write_all(&eom(HELLO_11)).await.unwrap();
        let stats = &f.server.stats;
        let counts = || {
            let (_, s) = f.server.sessions().pop().unwrap();
            [
                stats.in_rpcs.load(Ordering::Relaxed),
                stats.in_bad_rpcs.load(Ordering::Relaxed),
                stats.out_rpc_errors.load(Ordering::Relaxed),
                s.in_rpcs.load(Ordering::Relaxed),
                s.in_bad_rpcs.load(Ordering::Relaxed),
                s.out_rpc_errors.load(Ordering::Relaxed),
            ]
        };
        let lock = r#"<rpc message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><lock><target><candidate/></target></lock></rpc>"#;
        assert!(exchange(&mut c, lock).await.contains("<ok/>"));
        assert_eq!(counts(), [1, 0, 0, 1, 0, 0]);
        assert!(exchange(&mut c, GET).await.contains("<data"));
        assert_eq!(counts(), [2, 0, 0, 2, 0, 0]);
        let unknown = r#"<rpc message-id="2" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><frobnicate/></rpc>"#;
        assert!(exchange(&mut c, unknown).await.contains("<rpc-error>"));
        assert_eq!(counts(), [3, 0, 1, 3, 0, 1]);
        // Not an <rpc>: a bad RPC, answered with an error.
        assert!(exchange(&mut c, "not xml").await.contains("<rpc-error>"));
        assert_eq!(counts(), [3, 1, 2, 3, 1, 2]);
        // The session's entry in netconf-state says the same.
        let state = r#"<rpc message-id="3" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get><filter type="xpath" select="/netconf-state/sessions/session/out-rpc-errors"/></get></rpc>"#;
        let reply = exchange(&mut c, state).await;
        assert!(
            reply.contains("<out-rpc-errors>2</out-rpc-errors>"),
            "{reply}"
        );
    }

    /// RFC 6022 out-notifications: every `<notification>` sent, on the session and in total.
    #[tokio::test]
    async fn out_notifications_counts_what_is_sent() {
        let f = fixture("notif", Limits::default());
        let mut c = start(&f).await;
        c.write_all(&eom(HELLO_11)).await.unwrap();
        let subscribe = r#"<rpc message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"/></rpc>"#;
        assert!(exchange(&mut c, subscribe).await.contains("<ok/>"));
        f.server
            .events
            .publish(crate::netconf::notify::confirmed_commit(
                "u",
                9,
                "start",
                Some(60),
            ));
        let sent = read_until(&mut c, b"\n##\n").await;
        assert!(sent.contains("<notification"), "{sent}");
        let (_, info) = f.server.sessions().pop().unwrap();
        assert_eq!(info.out_notifications.load(Ordering::Relaxed), 1);
        assert_eq!(f.server.stats.out_notifications.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn close_session_ends_the_stream() {
        let f = fixture("close", Limits::default());
        let mut c = start(&f).await;
        c.write_all(&eom(HELLO_10)).await.unwrap();
        c.write_all(&eom(r#"<rpc message-id="9" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><close-session/></rpc>"#)).await.unwrap();
        let reply = read_until(&mut c, b"]]>]]>").await;
        assert!(reply.contains("<ok/>"), "{reply}");
        assert!(eof(&mut c).await);
    }
}
