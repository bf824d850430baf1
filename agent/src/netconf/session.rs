//! One NETCONF session over any byte stream: hello exchange, framing, RPCs in order.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info, warn};

use super::framing::{encode, Decoder, Framing};
use super::rpc::{self, After, Caller};
use super::server::Server;
use super::{capabilities, BASE_11, BASE_NS};

/// Run a session to its end. `user` is the authenticated SSH user.
pub async fn run<S>(mut stream: S, server: Arc<Server>, user: String)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(mut guard) = server.register() else {
        warn!(%user, "session refused: session limit reached");
        let _ = stream.shutdown().await;
        return;
    };
    let id = guard.id;
    info!(session = id, %user, "netconf session started");
    let hello = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><hello xmlns=\"{BASE_NS}\"><capabilities>{}</capabilities><session-id>{id}</session-id></hello>",
        capabilities()
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
    let caller_user = user.clone();
    loop {
        // Complete messages already buffered first.
        loop {
            let msg = match decoder.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    warn!(session = id, error = %e, "framing error; closing the session");
                    let reply = rpc::malformed_reply(&server, &e.to_string());
                    let _ = stream
                        .write_all(&encode(reply.as_bytes(), decoder.framing()))
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
                        warn!(session = id, %why, "bad client hello; closing");
                        let _ = stream.shutdown().await;
                        return;
                    }
                }
            }
            let framing = decoder.framing();
            let (reply, after) = match std::str::from_utf8(&msg)
                .map_err(|e| e.to_string())
                .and_then(|t| yang::xml::parse(t).map_err(|e| e.to_string()))
            {
                Ok(el) if el.name == "rpc" && el.ns == BASE_NS => {
                    let caller = Caller {
                        id,
                        user: &caller_user,
                    };
                    rpc::handle(&server, &caller, &el)
                }
                Ok(el) => (
                    rpc::malformed_reply(&server, &format!("expected <rpc>, got <{}>", el.name)),
                    After::Continue,
                ),
                Err(e) => (rpc::malformed_reply(&server, &e), After::Continue),
            };
            if stream
                .write_all(&encode(reply.as_bytes(), framing))
                .await
                .is_err()
            {
                return;
            }
            if after == After::Close {
                let _ = stream.shutdown().await;
                info!(session = id, "netconf session closed");
                return;
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
                    info!(session = id, hello_done, "session timed out");
                    break;
                }
            },
            _ = guard.killed.changed() => {
                info!(session = id, "session killed");
                break;
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
