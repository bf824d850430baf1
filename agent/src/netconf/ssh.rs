//! The SSH transport: russh server, `netconf` subsystem (RFC 6242 §3), password and public-key
//! authentication, a host key generated once and kept in the data directory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::{Algorithm, PrivateKey, PublicKey};
use russh::server::{
    Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Server as _, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId};
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

use super::server::Server;
use super::session;

/// Who may log in.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
    pub authorized_keys: Vec<PublicKey>,
}

#[derive(Clone)]
struct Listener {
    server: Arc<Server>,
    credentials: Arc<Credentials>,
}

struct Connection {
    server: Arc<Server>,
    credentials: Arc<Credentials>,
    peer: Option<SocketAddr>,
    user: Option<String>,
    channels: HashMap<ChannelId, Channel<Msg>>,
}

impl russh::server::Server for Listener {
    type Handler = Connection;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> Connection {
        Connection {
            server: Arc::clone(&self.server),
            credentials: Arc::clone(&self.credentials),
            peer,
            user: None,
            channels: HashMap::new(),
        }
    }
}

fn reject() -> Auth {
    Auth::Reject {
        proceed_with_methods: None,
        partial_success: false,
    }
}

impl Connection {
    fn is_authorized(&self, key: &PublicKey) -> bool {
        self.credentials
            .authorized_keys
            .iter()
            .any(|k| k.key_data() == key.key_data())
    }
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if user == self.credentials.user && password == self.credentials.password {
            info!(%user, peer = ?self.peer, "password authentication accepted");
            self.user = Some(user.to_string());
            Ok(Auth::Accept)
        } else {
            // Never log the password.
            warn!(%user, peer = ?self.peer, "password authentication refused");
            Ok(reject())
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if user == self.credentials.user && self.is_authorized(offer.public_key) {
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
        let known = self.is_authorized(key.public_key);
        if user == self.credentials.user && known {
            info!(%user, peer = ?self.peer, "public-key authentication accepted");
            self.user = Some(user.to_string());
            Ok(Auth::Accept)
        } else {
            warn!(%user, peer = ?self.peer, "public-key authentication refused");
            Ok(reject())
        }
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
                let user = self.user.clone().unwrap_or_default();
                let source = self.peer.map(|p| p.ip().to_string()).unwrap_or_default();
                tokio::spawn(session::run(channel.into_stream(), server, user, source));
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
/// wrapped in [`QuickAck`](super::tcp::QuickAck), and a failed `accept` (e.g. out of file
/// descriptors) is logged and retried instead of ending the server.
pub async fn serve(
    listener: TcpListener,
    server: Arc<Server>,
    credentials: Credentials,
    host_keys: Vec<PrivateKey>,
) -> std::io::Result<()> {
    let config = Arc::new(russh::server::Config {
        auth_rejection_time: Duration::from_millis(500),
        auth_rejection_time_initial: Some(Duration::from_millis(0)),
        keys: host_keys,
        inactivity_timeout: None,
        ..Default::default()
    });
    let mut l = Listener {
        server,
        credentials: Arc::new(credentials),
    };
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!(error = %e, "accepting an SSH connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let handler = l.new_client(Some(peer));
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            let stream = super::tcp::QuickAck::new(stream);
            match russh::server::run_stream(config, stream, handler).await {
                Ok(session) => {
                    if let Err(e) = session.await {
                        debug!(%peer, error = %e, "SSH connection ended with an error");
                    }
                }
                Err(e) => debug!(%peer, error = %e, "SSH connection set-up failed"),
            }
        });
    }
}
