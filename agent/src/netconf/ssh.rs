//! The SSH transport: russh server, `netconf` subsystem (RFC 6242 §3), the VRP-style CLI on
//! `shell` and `exec` requests (`vrp::ssh`), password and public-key authentication against
//! the user database, host keys generated once and kept in the data directory.
//!
//! Hardening, as OpenSSH does it: failed logins from one source address make its further
//! attempts wait (`northbound::throttle`; other addresses and open sessions are unaffected),
//! connections not logged in yet are capped (`MaxStartups`: beyond the cap a new connection is
//! closed at once) and closed after a grace time (`LoginGraceTime`). Every login, refusal and
//! connection end is logged with user, source address and transport.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::keys::{Algorithm, HashAlg, PrivateKey, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, Disconnect, MethodKind, MethodSet, Pty};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tracing::{debug, info, info_span, warn, Instrument as _};

use super::server::Server;
use super::session;
use crate::northbound::throttle::{self, Throttle};
use crate::northbound::users::{Identity, PasswordCheck, Users};
use crate::vrp;

/// The transport name in audit records.
const TRANSPORT: &str = "ssh";

/// Limits on connections that have not logged in.
#[derive(Debug, Clone)]
pub struct Hardening {
    /// Connections not logged in yet, at most; more are closed at once.
    pub max_unauthenticated: usize,
    /// A connection not logged in by then is closed.
    pub login_grace: Duration,
    /// Failed-login penalties by source address.
    pub penalties: throttle::Policy,
}

impl Default for Hardening {
    fn default() -> Self {
        Hardening {
            max_unauthenticated: 16,
            login_grace: Duration::from_secs(30),
            penalties: throttle::Policy::default(),
        }
    }
}

/// What the connection's task and its russh handler share.
struct Shared {
    /// Who logged in, once someone has.
    identity: Mutex<Option<Identity>>,
    authenticated: AtomicBool,
    /// The connection's place among the unauthenticated ones; released at login.
    slot: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Shared {
    fn identity(&self) -> Option<Identity> {
        self.identity
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

struct Connection {
    server: Arc<Server>,
    users: Arc<Users>,
    throttle: Arc<Mutex<Throttle>>,
    peer: SocketAddr,
    /// The end of the login grace time: penalty waits never run past it.
    deadline: Instant,
    shared: Arc<Shared>,
    channels: HashMap<ChannelId, Channel<Msg>>,
    /// Channels whose client asked for a terminal: their shell is the interactive CLI.
    terminals: HashSet<ChannelId>,
}

impl Connection {
    /// Wait out the penalty the source address has earned by its failed logins.
    async fn penalty(&self) {
        let wait = self
            .throttle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .delay(self.peer.ip(), std::time::Instant::now());
        if !wait.is_zero() {
            debug!(source = %self.peer.ip(), wait_ms = wait.as_millis() as u64, "login delayed after failed attempts from this address");
            tokio::time::sleep_until((Instant::now() + wait).min(self.deadline)).await;
        }
    }

    fn accepted(&mut self, identity: Identity, method: &'static str) -> Auth {
        self.throttle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .succeeded(self.peer.ip());
        info!(
            user = %identity.name,
            source = %self.peer.ip(),
            transport = TRANSPORT,
            method,
            recovery = identity.recovery,
            outcome = "accepted",
            "login"
        );
        *self
            .shared
            .identity
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(identity);
        Auth::Accept
    }

    fn refused(&mut self, user: &str, method: &'static str, reason: &'static str) -> Auth {
        let failures = self
            .throttle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .failed(self.peer.ip(), std::time::Instant::now());
        // Never log the password; the name is the client's, so quoted and escaped.
        warn!(
            user = ?user,
            source = %self.peer.ip(),
            transport = TRANSPORT,
            method,
            outcome = "refused",
            reason,
            failures,
            "login"
        );
        reject()
    }
}

impl Connection {
    /// Start the CLI on a channel (a shell or exec request).
    fn cli(
        &mut self,
        channel_id: ChannelId,
        mode: vrp::ssh::Mode,
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let Some(channel) = self.channels.remove(&channel_id) else {
            return session.channel_failure(channel_id);
        };
        session.channel_success(channel_id)?;
        let server = Arc::clone(&self.server);
        let user = self.shared.identity().map(|i| i.name).unwrap_or_default();
        let source = self.peer.ip().to_string();
        let span = info_span!("cli", %user, %source, transport = TRANSPORT);
        tokio::spawn(vrp::ssh::run(channel, server, user, source, mode).instrument(span));
        Ok(())
    }
}

/// The methods offered, and offered again after a failure: the client may retry on the same
/// connection (russh's default would withdraw the method that failed, which sends paramiko into a
/// keyboard-interactive fallback that waits until the connection times out).
fn methods() -> MethodSet {
    MethodSet::from(&[MethodKind::PublicKey, MethodKind::Password][..])
}

fn reject() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(methods()),
        partial_success: false,
    }
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        self.penalty().await;
        let db = self.users.current();
        let (name, password) = (user.to_string(), password.to_string());
        // A crypt hash costs milliseconds: off the async workers.
        let check = tokio::task::spawn_blocking(move || db.check_password(&name, &password))
            .await
            .unwrap_or(PasswordCheck::WrongPassword);
        Ok(match check {
            PasswordCheck::Accepted(id) => self.accepted(id, "password"),
            PasswordCheck::UnknownUser => self.refused(user, "password", "unknown user"),
            PasswordCheck::NoPassword => self.refused(user, "password", "no password set"),
            PasswordCheck::WrongPassword => self.refused(user, "password", "wrong password"),
        })
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        // A probe, not an attempt: clients offer every key they hold, so no penalty is counted.
        if self.users.current().accepts_key(user, offer.public_key) {
            Ok(Auth::Accept)
        } else {
            Ok(reject())
        }
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        self.penalty().await;
        let db = self.users.current();
        Ok(match db.identity(user) {
            Some(id) if db.accepts_key(user, key.public_key) => self.accepted(id, "publickey"),
            Some(_) => self.refused(user, "publickey", "key not authorized"),
            None => self.refused(user, "publickey", "unknown user"),
        })
    }

    async fn auth_succeeded(&mut self, _session: &mut Session) -> Result<(), Self::Error> {
        self.shared.authenticated.store(true, Ordering::Release);
        self.shared
            .slot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel_id: ChannelId,
        _term: &str,
        _cols: u32,
        _rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channels.contains_key(&channel_id) {
            self.terminals.insert(channel_id);
            session.channel_success(channel_id)?;
        } else {
            session.channel_failure(channel_id)?;
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel_id: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let mode = if self.terminals.remove(&channel_id) {
            vrp::ssh::Mode::Interactive
        } else {
            vrp::ssh::Mode::Batch
        };
        self.cli(channel_id, mode, session)
    }

    async fn exec_request(
        &mut self,
        channel_id: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let terminal = self.terminals.remove(&channel_id);
        let command = String::from_utf8_lossy(data).into_owned();
        self.cli(
            channel_id,
            vrp::ssh::Mode::Exec { command, terminal },
            session,
        )
    }

    async fn subsystem_request(
        &mut self,
        channel_id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match (name, self.channels.remove(&channel_id)) {
            ("netconf", Some(channel)) => {
                session.channel_success(channel_id)?;
                let server = Arc::clone(&self.server);
                let user = self.shared.identity().map(|i| i.name).unwrap_or_default();
                let source = self.peer.ip().to_string();
                // The session's own log lines carry who and from where.
                let span = info_span!("netconf", %user, %source, transport = TRANSPORT);
                tokio::spawn(
                    session::run(channel.into_stream(), server, user, source).instrument(span),
                );
            }
            _ => {
                warn!(subsystem = name, "unsupported subsystem requested");
                session.channel_failure(channel_id)?;
            }
        }
        Ok(())
    }
}

/// Load the host key from `path`, or generate and save one (mode 0600).
pub fn host_key(path: &Path) -> std::io::Result<PrivateKey> {
    host_key_of(path, Algorithm::Ed25519)
}

/// The RSA host key (offered with rsa-sha2-256/512 to older clients), kept like the ed25519 one.
pub fn rsa_host_key(path: &Path) -> std::io::Result<PrivateKey> {
    host_key_of(path, Algorithm::Rsa { hash: None })
}

fn host_key_of(path: &Path, algorithm: Algorithm) -> std::io::Result<PrivateKey> {
    if path.exists() {
        let text = std::fs::read_to_string(path)?;
        return PrivateKey::from_openssh(text)
            .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())));
    }
    let key = PrivateKey::random(&mut rand::rng(), algorithm)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let text = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    write_private(path, text.as_bytes())?;
    info!(path = %path.display(), "generated the SSH host key");
    Ok(key)
}

/// A host key's fingerprint as `ssh-keygen -lf` prints it, without the comment:
/// `256 SHA256:<base64 without padding> (ED25519)`.
pub fn fingerprint(key: &PublicKey) -> String {
    let data = key.key_data();
    let (bits, kind) = if let Some(rsa) = data.rsa() {
        (rsa.key_size(), "RSA".to_string())
    } else {
        let kind = match key.algorithm() {
            Algorithm::Ed25519 => "ED25519".to_string(),
            Algorithm::Ecdsa { .. } => "ECDSA".to_string(),
            other => other.as_str().to_uppercase(),
        };
        let bits = match key.algorithm() {
            Algorithm::Ecdsa { curve } => match curve.as_str() {
                "nistp384" => 384,
                "nistp521" => 521,
                _ => 256,
            },
            _ => 256,
        };
        (bits, kind)
    };
    format!("{bits} {} ({kind})", key.fingerprint(HashAlg::Sha256))
}

/// Write a file readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

/// Serve SSH on `listener` until the process ends.
///
/// The accept loop is ours rather than russh's `run_on_socket`: each connection's TCP stream is
/// wrapped in [`QuickAck`](super::tcp::QuickAck), connections beyond the unauthenticated cap are
/// closed before anything is sent, and a failed `accept` (e.g. out of file descriptors) is
/// logged and retried instead of ending the server.
pub async fn serve(
    listener: TcpListener,
    server: Arc<Server>,
    users: Arc<Users>,
    host_keys: Vec<PrivateKey>,
    hardening: Hardening,
) -> std::io::Result<()> {
    let config = Arc::new(russh::server::Config {
        auth_rejection_time: Duration::from_millis(500),
        auth_rejection_time_initial: Some(Duration::from_millis(0)),
        methods: methods(),
        // OpenSSH's MaxAuthTries.
        max_auth_attempts: 6,
        keys: host_keys,
        inactivity_timeout: None,
        ..Default::default()
    });
    let slots = Arc::new(Semaphore::new(hardening.max_unauthenticated));
    let throttle = Arc::new(Mutex::new(Throttle::new(hardening.penalties.clone())));
    let refused = AtomicU64::new(0);
    let mut last_refusal_log: Option<Instant> = None;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!(error = %e, "accepting an SSH connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // Closed before the server's banner; logged at most once a second in a flood.
            drop(stream);
            let total = refused.fetch_add(1, Ordering::Relaxed) + 1;
            let now = Instant::now();
            if last_refusal_log.is_none_or(|t| now - t >= Duration::from_secs(1)) {
                last_refusal_log = Some(now);
                warn!(
                    source = %peer.ip(),
                    transport = TRANSPORT,
                    outcome = "refused",
                    reason = "too many unauthenticated connections",
                    max_unauthenticated = hardening.max_unauthenticated,
                    refused_total = total,
                    "connection"
                );
            }
            continue;
        };
        let deadline = Instant::now() + hardening.login_grace;
        let shared = Arc::new(Shared {
            identity: Mutex::new(None),
            authenticated: AtomicBool::new(false),
            slot: Mutex::new(Some(slot)),
        });
        let handler = Connection {
            server: Arc::clone(&server),
            users: Arc::clone(&users),
            throttle: Arc::clone(&throttle),
            peer,
            deadline,
            shared: Arc::clone(&shared),
            channels: HashMap::new(),
            terminals: HashSet::new(),
        };
        let config = Arc::clone(&config);
        tokio::spawn(connection(config, stream, handler, shared, peer, deadline));
    }
}

/// One SSH connection, from the version exchange to its end; logs how it ended.
async fn connection(
    config: Arc<russh::server::Config>,
    stream: tokio::net::TcpStream,
    handler: Connection,
    shared: Arc<Shared>,
    peer: SocketAddr,
    deadline: Instant,
) {
    const GRACE: &str = "login grace time expired";
    let started = Instant::now();
    let stream = super::tcp::QuickAck::new(stream);
    let reason =
        match tokio::time::timeout_at(deadline, russh::server::run_stream(config, stream, handler))
            .await
        {
            Err(_) => GRACE.to_string(),
            Ok(Err(e)) => format!("SSH set-up failed: {e}"),
            Ok(Ok(session)) => {
                let handle = session.handle();
                let mut session = std::pin::pin!(session);
                let grace = async {
                    tokio::time::sleep_until(deadline).await;
                    if shared.authenticated.load(Ordering::Acquire) {
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    r = &mut session => match r {
                        Ok(()) => "closed".to_string(),
                        Err(e) => end_reason(&e),
                    },
                    () = grace => {
                        let _ = handle
                            .disconnect(Disconnect::ByApplication, GRACE.into(), String::new())
                            .await;
                        let _ = tokio::time::timeout(Duration::from_secs(5), session).await;
                        GRACE.to_string()
                    }
                }
            }
        };
    let seconds = started.elapsed().as_secs();
    match shared.identity() {
        Some(id) => info!(
            user = %id.name,
            source = %peer.ip(),
            transport = TRANSPORT,
            outcome = "ended",
            %reason,
            seconds,
            "ssh connection ended"
        ),
        None => info!(
            source = %peer.ip(),
            transport = TRANSPORT,
            outcome = "refused",
            %reason,
            seconds,
            "ssh connection ended without a login"
        ),
    }
}

/// Why a connection ended, in the audit record's words.
fn end_reason(e: &russh::Error) -> String {
    use std::io::ErrorKind;
    match e {
        russh::Error::Disconnect | russh::Error::HUP => "closed by the client".into(),
        russh::Error::IO(io)
            if matches!(
                io.kind(),
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ) =>
        {
            "closed by the client".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_like_ssh_keygen() {
        let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
        let fp = fingerprint(key.public_key());
        assert!(
            fp.starts_with("256 SHA256:") && fp.ends_with(" (ED25519)"),
            "{fp}"
        );
        // 32 bytes of SHA-256 in base64 without padding.
        let b64 = fp.split(':').nth(1).unwrap().split(' ').next().unwrap();
        assert_eq!(b64.len(), 43, "{fp}");
    }
}
