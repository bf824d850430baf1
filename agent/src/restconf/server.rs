//! The HTTPS server: TCP accept with a cap on connections, the TLS handshake (bounded in
//! time), HTTP/1.1 and HTTP/2 (hyper), Basic authentication, the body limit and read timeout,
//! then [`super::api`] answers. A refused connection or request never reaches a datastore.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};

use super::api::{Api, Reply, Request};
use super::auth::{Authenticator, Refused};
use super::errors::RestError;
use super::media::Encoding;
use yang::data::ErrorTag;

pub type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// What one client may cost the server.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body (RFC 8040 does not bound it; a datastore of the device is far less).
    pub max_body: usize,
    /// Open connections at most; more are closed at once.
    pub max_connections: usize,
    /// The TLS handshake must be done by then.
    pub handshake_timeout: Duration,
    /// A request's headers must have arrived by then, also on an idle keep-alive connection.
    pub header_timeout: Duration,
    /// A request's body must have arrived by then (a slow client cannot hold a request open).
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 64 << 20,
            max_connections: 256,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
        }
    }
}

/// Everything a connection needs.
pub struct Context {
    pub api: Api,
    pub auth: Authenticator,
    pub limits: Limits,
}

/// Serve until the listener fails. `tls` None is plain HTTP (only on loopback, when asked).
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    ctx: Arc<Context>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(ctx.limits.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors and the like: wait a little rather than spin.
                warn!(error = %e, "restconf accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            warn!(source = %peer, limit = ctx.limits.max_connections, "restconf connection refused: too many open");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (tls, ctx) = (tls.clone(), Arc::clone(&ctx));
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(ctx.limits.handshake_timeout, acceptor.accept(stream))
                            .await;
                    match handshake {
                        Ok(Ok(s)) => {
                            // ALPN decides the protocol, so no read waits to tell them apart.
                            let h2 = s.get_ref().1.alpn_protocol() == Some(b"h2");
                            connection(TokioIo::new(s), peer, ctx, h2).await
                        }
                        Ok(Err(e)) => debug!(source = %peer, error = %e, "TLS handshake failed"),
                        Err(_) => debug!(source = %peer, "TLS handshake timed out"),
                    }
                }
                None => connection(TokioIo::new(stream), peer, ctx, false).await,
            }
        });
    }
}

/// Serve one connection in HTTP/2 or HTTP/1.1. HTTP/1.1's header timeout also runs while a
/// keep-alive connection waits for its next request, so a silent, slow or idle client is
/// closed once it passes. HTTP/2 has no such timer in hyper, so [`Activity`] keeps one: a
/// connection with no request open (an event stream is open until its body ends) for the
/// header timeout is shut down, whether it never sent its preface or went quiet after a
/// request; its PINGs do not keep it open.
async fn connection<I>(io: I, peer: SocketAddr, ctx: Arc<Context>, h2: bool)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let session = ctx.api.server.allocate_session_id();
    debug!(source = %peer, session, h2, "restconf connection");
    let activity = Arc::new(Activity::new());
    let service_ctx = Arc::clone(&ctx);
    let service_activity = Arc::clone(&activity);
    let service = service_fn(move |req| {
        let ctx = Arc::clone(&service_ctx);
        let open = Activity::open(&service_activity);
        async move {
            let resp = respond(&ctx, peer, session, req).await;
            Ok::<_, Infallible>(resp.map(|body| Tracked { body, _open: open }.boxed()))
        }
    });
    let result = if h2 {
        let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .max_concurrent_streams(32)
            .max_header_list_size(64 * 1024)
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .serve_connection(io, service);
        tokio::pin!(conn);
        let idle_limit = ctx.limits.header_timeout;
        loop {
            let wait = activity.idle_deadline(idle_limit);
            tokio::select! {
                r = conn.as_mut() => break r,
                _ = tokio::time::sleep_until(wait.into()) => {
                    if !activity.idle_for(idle_limit) {
                        continue;
                    }
                    debug!(source = %peer, session, "restconf HTTP/2 connection idle: closing");
                    conn.as_mut().graceful_shutdown();
                    // GOAWAY sent; a client that does not read it is dropped a little later.
                    match tokio::time::timeout(Duration::from_secs(1), conn.as_mut()).await {
                        Ok(r) => break r,
                        Err(_) => break Ok(()),
                    }
                }
            }
        }
    } else {
        hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(ctx.limits.header_timeout)
            .max_buf_size(64 * 1024)
            .serve_connection(io, service)
            .await
    };
    if let Err(e) = result {
        debug!(source = %peer, error = %e, "restconf connection ended");
    }
}

/// The requests open on a connection and since when it has had none.
struct Activity {
    state: Mutex<(usize, Instant)>,
}

/// One open request: its response body holds it until the body ends or is dropped.
struct Open(Arc<Activity>);

impl Activity {
    fn new() -> Activity {
        Activity {
            state: Mutex::new((0, Instant::now())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, Instant)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open(this: &Arc<Activity>) -> Open {
        this.lock().0 += 1;
        Open(Arc::clone(this))
    }

    /// When the connection would have been idle for `limit` (now or later: check again then).
    fn idle_deadline(&self, limit: Duration) -> Instant {
        let (open, since) = *self.lock();
        if open > 0 {
            Instant::now() + limit
        } else {
            since + limit
        }
    }

    fn idle_for(&self, limit: Duration) -> bool {
        let (open, since) = *self.lock();
        open == 0 && since.elapsed() >= limit
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.0 = s.0.saturating_sub(1);
        if s.0 == 0 {
            s.1 = Instant::now();
        }
    }
}

/// A response body that keeps its request counted as open.
struct Tracked {
    body: Body,
    _open: Open,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

fn full(s: impl Into<Bytes>) -> Body {
    Full::new(s.into()).boxed()
}

fn response(reply: Reply) -> hyper::Response<Body> {
    let mut b = hyper::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        b = b.header(*k, v.as_str());
    }
    b.body(full(reply.body)).unwrap_or_else(|_| {
        let mut r = hyper::Response::new(full(""));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// The XRD that tells where the RESTCONF root is (RFC 8040 §3.1, RFC 6415).
const HOST_META: &str = "<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\
                         <Link rel=\"restconf\" href=\"/restconf\"/></XRD>";

async fn respond(
    ctx: &Context,
    peer: SocketAddr,
    session: u32,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Body> {
    let schema = Arc::clone(&ctx.api.server.schema);
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let accept = parts.headers.get("accept").and_then(|v| v.to_str().ok());
    let enc = super::media::negotiate(accept, None).unwrap_or(Encoding::Json);
    let fail = |e: RestError| response(Reply::error(&schema, enc, &e));
    if path == "/.well-known/host-meta" {
        return response(match parts.method.as_str() {
            "GET" | "HEAD" => Reply::new(200)
                .header("content-type", "application/xrd+xml")
                .header("content-length", HOST_META.len().to_string())
                .body_text(if parts.method == hyper::Method::HEAD {
                    ""
                } else {
                    HOST_META
                }),
            _ => Reply::new(405).header("allow", "GET, HEAD"),
        });
    }
    let Some(rest) = path
        .strip_prefix("/restconf")
        .filter(|r| r.is_empty() || r.starts_with('/'))
    else {
        return fail(RestError::not_found(&format!("resource '{path}'")));
    };
    let authorization = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let user = match ctx.auth.user(authorization, peer.ip()).await {
        Ok(u) => u,
        Err(r) => {
            let message = match r {
                Refused::NoCredentials => "authentication required (HTTP Basic)",
                Refused::Failed => "authentication failed",
            };
            let e = RestError::new(ErrorTag::AccessDenied, message)
                .with_status(401)
                .protocol();
            let mut resp = fail(e);
            resp.headers_mut().insert(
                "www-authenticate",
                hyper::header::HeaderValue::from_static(
                    "Basic realm=\"restconf\", charset=\"UTF-8\"",
                ),
            );
            return resp;
        }
    };
    let limited = Limited::new(body, ctx.limits.max_body);
    let bytes = match tokio::time::timeout(ctx.limits.body_timeout, limited.collect()).await {
        Ok(Ok(c)) => c.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return fail(RestError::new(
                ErrorTag::TooBig,
                format!(
                    "the request body is larger than {} bytes",
                    ctx.limits.max_body
                ),
            ));
        }
        Ok(Err(e)) => {
            return fail(
                RestError::new(
                    ErrorTag::MalformedMessage,
                    format!("cannot read the body: {e}"),
                )
                .with_status(400),
            )
        }
        Err(_) => {
            return fail(
                RestError::new(
                    ErrorTag::OperationFailed,
                    "the request body did not arrive in time",
                )
                .with_status(408),
            )
        }
    };
    let source = peer.ip().to_string();
    let host = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            parts
                .headers
                .get("host")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let request = Request {
        method: parts.method.as_str(),
        path: rest,
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &bytes,
        user: &user,
        source: &source,
        session,
        host: &host,
    };
    if let Some(events) = super::events::open(&ctx.api, &request) {
        return match events {
            Ok(stream) => stream,
            Err(e) => fail(e),
        };
    }
    // Commits wait for the disk and reads may wait for the protocol engines: off the
    // runtime's worker.
    let reply = tokio::task::block_in_place(|| ctx.api.handle(&request));
    response(reply)
}

impl Reply {
    fn body_text(mut self, text: &str) -> Reply {
        self.body = text.to_string();
        self
    }
}
