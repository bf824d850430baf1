//! A small NETCONF client (RFC 6241 over SSH, RFC 6242 framing) for the lab and the benchmarks:
//! password login, hello exchange, then base:1.1 chunked framing. Async, with a blocking
//! wrapper for tests.

use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle, Msg};
use russh::ChannelStream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const BASE_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn err(what: &str, e: impl std::fmt::Display) -> Error {
    Error(format!("{what}: {e}"))
}

/// Accepts any host key: the lab starts agents with fresh keys.
struct AcceptAny;

impl client::Handler for AcceptAny {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// One NETCONF session.
pub struct Client {
    _ssh: Handle<AcceptAny>,
    stream: ChannelStream<Msg>,
    inbuf: Vec<u8>,
    next_id: u64,
    pub session_id: u32,
}

impl Client {
    /// Log in over an established transport (TCP) and exchange hellos.
    pub async fn connect<S>(transport: S, user: &str, password: &str) -> Result<Client, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let config = Arc::new(client::Config {
            inactivity_timeout: None,
            ..client::Config::default()
        });
        let mut ssh = client::connect_stream(config, transport, AcceptAny)
            .await
            .map_err(|e| err("ssh", e))?;
        let auth = ssh
            .authenticate_password(user, password)
            .await
            .map_err(|e| err("authentication", e))?;
        if !auth.success() {
            return Err(Error("password refused".into()));
        }
        let channel = ssh
            .channel_open_session()
            .await
            .map_err(|e| err("channel", e))?;
        channel
            .request_subsystem(true, "netconf")
            .await
            .map_err(|e| err("subsystem", e))?;
        let mut c = Client {
            _ssh: ssh,
            stream: channel.into_stream(),
            inbuf: Vec::new(),
            next_id: 1,
            session_id: 0,
        };
        let hello = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><hello xmlns=\"{BASE_NS}\"><capabilities>\
             <capability>urn:ietf:params:netconf:base:1.0</capability>\
             <capability>urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>]]>]]>"
        );
        c.stream
            .write_all(hello.as_bytes())
            .await
            .map_err(|e| err("send hello", e))?;
        let server_hello = c.read_eom().await?;
        if !server_hello.contains("urn:ietf:params:netconf:base:1.1") {
            return Err(Error("the server does not offer base:1.1".into()));
        }
        c.session_id = server_hello
            .split("<session-id>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| Error("no session-id in the server hello".into()))?;
        Ok(c)
    }

    async fn fill(&mut self) -> Result<(), Error> {
        let mut b = [0u8; 65536];
        let n = self.stream.read(&mut b).await.map_err(|e| err("read", e))?;
        if n == 0 {
            return Err(Error("the server closed the session".into()));
        }
        self.inbuf.extend_from_slice(&b[..n]);
        Ok(())
    }

    async fn read_eom(&mut self) -> Result<String, Error> {
        loop {
            if let Some(i) = find(&self.inbuf, b"]]>]]>") {
                let msg = String::from_utf8_lossy(&self.inbuf[..i]).into_owned();
                self.inbuf.drain(..i + 6);
                return Ok(msg);
            }
            self.fill().await?;
        }
    }

    /// One chunk-framed message (RFC 6242 §4.2).
    async fn read_chunked(&mut self) -> Result<String, Error> {
        let mut msg = Vec::new();
        let mut at = 0;
        loop {
            // Header: "\n#" then digits then "\n", or "\n##\n" at the end.
            let rest = &self.inbuf[at..];
            if rest.len() < 4 {
                self.fill().await?;
                continue;
            }
            if &rest[..2] != b"\n#" {
                return Err(Error("bad chunk header".into()));
            }
            if rest[2] == b'#' {
                if rest[3] != b'\n' {
                    return Err(Error("bad end-of-chunks marker".into()));
                }
                self.inbuf.drain(..at + 4);
                return Ok(String::from_utf8_lossy(&msg).into_owned());
            }
            let Some(nl) = rest[2..].iter().position(|&b| b == b'\n') else {
                if rest.len() > 16 {
                    return Err(Error("chunk header too long".into()));
                }
                self.fill().await?;
                continue;
            };
            let len: usize = std::str::from_utf8(&rest[2..2 + nl])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| Error("bad chunk size".into()))?;
            let start = at + 2 + nl + 1;
            while self.inbuf.len() < start + len {
                self.fill().await?;
            }
            msg.extend_from_slice(&self.inbuf[start..start + len]);
            at = start + len;
        }
    }

    /// Send `<rpc>` with `body` and return the whole `<rpc-reply>`.
    pub async fn rpc(&mut self, body: &str) -> Result<String, Error> {
        let id = self.next_id;
        self.next_id += 1;
        let msg = format!("<rpc message-id=\"{id}\" xmlns=\"{BASE_NS}\">{body}</rpc>");
        let frame = format!("\n#{}\n{msg}\n##\n", msg.len());
        self.stream
            .write_all(frame.as_bytes())
            .await
            .map_err(|e| err("send", e))?;
        loop {
            let reply = self.read_chunked().await?;
            // Notifications may arrive between replies on a subscribed session.
            if reply.contains("<rpc-reply") {
                return Ok(reply);
            }
        }
    }

    /// Wait for the next message that is not a reply (a notification).
    pub async fn next_message(&mut self) -> Result<String, Error> {
        self.read_chunked().await
    }

    pub async fn close(mut self) -> Result<(), Error> {
        self.rpc("<close-session/>").await.map(drop)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `<ok/>` replies pass; an `<rpc-error>` becomes the error text.
pub fn ok(reply: &str) -> Result<(), Error> {
    if reply.contains("<rpc-error") {
        Err(Error(reply.to_string()))
    } else {
        Ok(())
    }
}

/// A client with its own single-threaded runtime, for tests.
pub struct Blocking {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
}

impl Blocking {
    /// Connect with `open` creating the TCP stream (e.g. inside a network namespace).
    pub fn connect(
        open: impl FnOnce() -> std::io::Result<std::net::TcpStream>,
        user: &str,
        password: &str,
    ) -> Result<Blocking, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| err("runtime", e))?;
        let std_stream = open().map_err(|e| err("connect", e))?;
        std_stream
            .set_nonblocking(true)
            .map_err(|e| err("connect", e))?;
        let client = rt.block_on(async {
            let tcp = tokio::net::TcpStream::from_std(std_stream).map_err(|e| err("connect", e))?;
            tokio::time::timeout(
                Duration::from_secs(30),
                Client::connect(tcp, user, password),
            )
            .await
            .map_err(|_| Error("login timed out".into()))?
        })?;
        Ok(Blocking {
            rt,
            client: Some(client),
        })
    }

    pub fn rpc(&mut self, body: &str) -> Result<String, Error> {
        let c = self.client.as_mut().ok_or_else(|| Error("closed".into()))?;
        self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), c.rpc(body))
                .await
                .map_err(|_| Error("no reply within 60 s".into()))?
        })
    }

    /// edit-config of running with merge, expecting `<ok/>`.
    pub fn edit_running(&mut self, config: &str) -> Result<(), Error> {
        let r = self.rpc(&format!(
            "<edit-config><target><running/></target><config>{config}</config></edit-config>"
        ))?;
        ok(&r)
    }

    /// `<get>` with an optional subtree filter; returns the reply.
    pub fn get(&mut self, filter: Option<&str>) -> Result<String, Error> {
        match filter {
            Some(f) => self.rpc(&format!("<get><filter type=\"subtree\">{f}</filter></get>")),
            None => self.rpc("<get/>"),
        }
    }

    /// The next message that is not an rpc-reply (a notification), or None after `limit`.
    pub fn next_notification(&mut self, limit: Duration) -> Result<Option<String>, Error> {
        let c = self.client.as_mut().ok_or_else(|| Error("closed".into()))?;
        self.rt.block_on(async {
            match tokio::time::timeout(limit, c.next_message()).await {
                Ok(r) => r.map(Some),
                Err(_) => Ok(None),
            }
        })
    }

    pub fn session_id(&self) -> u32 {
        self.client.as_ref().map_or(0, |c| c.session_id)
    }
}

impl Drop for Blocking {
    fn drop(&mut self) {
        // The SSH channel closes itself with a spawned task: drop it inside the runtime.
        let _guard = self.rt.enter();
        self.client.take();
    }
}
