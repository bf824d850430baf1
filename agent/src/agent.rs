//! `ne-agent run`: models, datastores, the NETCONF/SSH server, timers.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datastore::Datastore;
use tracing::{error, info, warn};
use yang::SchemaBuilder;

use crate::cli::RunArgs;
use crate::netconf::notify;
use crate::netconf::server::{Limits, Server};
use crate::netconf::ssh;
use crate::northbound::users::{Recovery, Users};

pub fn run(args: RunArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = %e, "ne-agent stopped");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: RunArgs) -> Result<(), String> {
    let start = Instant::now();
    let schema = Arc::new(
        SchemaBuilder::new()
            .embedded()
            .build()
            .map_err(|e| format!("embedded models do not compile: {e}"))?,
    );
    info!(
        modules = schema.modules.len(),
        nodes = schema.nodes.len(),
        micros = start.elapsed().as_micros() as u64,
        "models compiled"
    );
    // A bad or busy address fails before anything is written to the data directory (connections
    // wait in the backlog until the server is ready).
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let restconf_listener = match &args.restconf_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr} (RESTCONF): {e}"))?,
        ),
        None => None,
    };
    let dir = &args.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (store, boot) =
        Datastore::open(&dir.join("store"), Arc::clone(&schema)).map_err(|e| e.to_string())?;
    info!(boot = ?boot, generation = store.generation(), "datastores ready");
    let store = Arc::new(store);
    let host_keys = vec![
        ssh::host_key(&dir.join("ssh_host_ed25519_key")).map_err(|e| e.to_string())?,
        ssh::rsa_host_key(&dir.join("ssh_host_rsa_key")).map_err(|e| e.to_string())?,
    ];
    // For the operator to compare with what a client shows on its first connection.
    for key in &host_keys {
        info!(
            fingerprint = %ssh::fingerprint(key.public_key()),
            "SSH host key"
        );
    }
    let running = store.get(datastore::Target::Running).unwrap_or_default();
    let users = Arc::new(Users::start(
        Arc::clone(&schema),
        recovery(&args)?,
        &running,
    ));
    let server = Server::new(Arc::clone(&schema), Arc::clone(&store), Limits::default());
    let _ = server.users.set(Arc::clone(&users));
    if let Some(f) = &args.nacm_groups {
        server
            .access
            .load_groups(f.clone())
            .map_err(|e| format!("--nacm-groups: {e}"))?;
    }
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    info!(
        listen = %bound,
        recovery_user = %args.recovery_user,
        "NETCONF over SSH listening (subsystem \"netconf\")"
    );

    // Protocol engines, started from running; their notifications join the NETCONF stream.
    let (event_tx, event_rx) = std::sync::mpsc::channel::<String>();
    let engines = Arc::new(
        crate::engines::Engines::start(Arc::clone(&schema), &running, event_tx)
            .map_err(|e| format!("cannot start the protocol thread: {e}"))?,
    );
    let _ = server
        .engines
        .set(Arc::clone(&engines) as Arc<dyn crate::northbound::Protocols>);
    let event_server = Arc::clone(&server);
    std::thread::Builder::new()
        .name("protocol-events".into())
        .spawn(move || {
            while let Ok(x) = event_rx.recv() {
                event_server.events.publish(x);
            }
        })
        .map_err(|e| format!("cannot start the event thread: {e}"))?;

    // Confirmed-commit deadlines (re-armed after a restart by the stored state).
    let timer_server = Arc::clone(&server);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            let expired =
                timer_server.with_subscribers(|subs| timer_server.store.expire_confirmed(subs));
            if let Some(r) = expired {
                match r {
                    Ok(out) => {
                        warn!(commit = ?out.id, "confirmed commit not confirmed in time: running reverted");
                        let events = &timer_server.events;
                        events.publish(notify::confirmed_commit("", 0, "timeout", None));
                        if out.id.is_some() {
                            events.publish(notify::config_change("", 0, "", &out.changes));
                        }
                    }
                    Err(e) => error!(error = %e, "confirmed-commit rollback failed"),
                }
            }
        }
    });
    if let Some(listener) = restconf_listener {
        start_restconf(&args, listener, Arc::clone(&server), Arc::clone(&users))?;
    }
    let hardening = ssh::Hardening {
        max_unauthenticated: args.max_unauthenticated,
        login_grace: Duration::from_secs(args.login_grace_s),
        ..ssh::Hardening::default()
    };
    // SIGHUP reads the external NACM groups file again.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| format!("cannot watch SIGHUP: {e}"))?;
    let hup_server = Arc::clone(&server);
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            hup_server.access.groups.reload();
        }
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let r = tokio::select! {
        r = ssh::serve(listener, server, users, host_keys, hardening) => r.map_err(|e| e.to_string()),
        _ = tokio::signal::ctrl_c() => {
            info!("interrupted; stopping");
            Ok(())
        }
        _ = term.recv() => {
            info!("terminated; stopping");
            Ok(())
        }
    };
    engines.stop();
    r
}

/// RESTCONF over HTTPS (or plain HTTP on loopback, when asked) on its own task.
fn start_restconf(
    args: &RunArgs,
    listener: tokio::net::TcpListener,
    server: Arc<Server>,
    users: Arc<Users>,
) -> Result<(), String> {
    use crate::restconf::{api::Api, auth::Authenticator, server as https, tls};
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the RESTCONF address: {e}"))?;
    let acceptor = if args.restconf_http {
        if !bound.ip().is_loopback() {
            return Err(format!(
                "--restconf-http serves plain HTTP only on a loopback address, not {bound}"
            ));
        }
        warn!(https = %bound, "RESTCONF over plain HTTP (loopback only)");
        None
    } else {
        let given = args.tls_cert.as_deref().zip(args.tls_key.as_deref());
        let (chain, key) = tls::identity(&args.data_dir, given).map_err(|e| e.to_string())?;
        // For the operator to compare with what a client shows on its first connection.
        info!(fingerprint = %tls::fingerprint(&chain[0]), "RESTCONF certificate (SHA-256)");
        let config = tls::server_config(chain, key).map_err(|e| e.to_string())?;
        Some(tokio_rustls::TlsAcceptor::from(config))
    };
    let ctx = Arc::new(https::Context {
        api: Api::new(server),
        auth: Authenticator::new(users, Default::default()),
        limits: https::Limits {
            header_timeout: Duration::from_secs(args.restconf_header_timeout_s),
            ..https::Limits::default()
        },
    });
    info!(https = %bound, tls = acceptor.is_some(), "RESTCONF listening (root /restconf)");
    tokio::spawn(async move {
        if let Err(e) = https::serve(listener, acceptor, ctx).await {
            error!(error = %e, "the RESTCONF server stopped");
        }
    });
    Ok(())
}

/// The recovery user: `--recovery-user`, with the generated or `--password-file` password and
/// the `--authorized-keys` keys.
fn recovery(args: &RunArgs) -> Result<Recovery, String> {
    let password = match &args.password_file {
        Some(f) => std::fs::read_to_string(f)
            .map_err(|e| format!("{}: {e}", f.display()))?
            .trim_end_matches(['\n', '\r'])
            .to_string(),
        None => initial_password(&args.data_dir.join("initial-admin-password"))?,
    };
    if password.is_empty() {
        return Err("the recovery user's password is empty".into());
    }
    let mut authorized_keys = Vec::new();
    if let Some(f) = &args.authorized_keys {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match russh::keys::PublicKey::from_openssh(line) {
                Ok(k) => authorized_keys.push(k),
                Err(e) => {
                    warn!(file = %f.display(), line = n + 1, error = %e, "skipping an unreadable public key")
                }
            }
        }
    }
    Ok(Recovery::new(
        args.recovery_user.clone(),
        &password,
        authorized_keys,
    ))
}

/// The generated admin password: created once (mode 0600), then reused.
fn initial_password(path: &Path) -> Result<String, String> {
    if let Ok(p) = std::fs::read_to_string(path) {
        return Ok(p.trim().to_string());
    }
    use rand::RngExt as _;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let password: String = (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    ssh::write_private(path, format!("{password}\n").as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    info!(path = %path.display(), "generated the initial admin password (mode 0600 file)");
    Ok(password)
}

/// The engines as the front ends see them.
impl crate::northbound::Protocols for crate::engines::Engines {
    fn state(&self) -> Option<yang::data::DataTree> {
        crate::engines::Engines::state(self)
    }

    fn state_of(&self, ns: Option<&str>) -> Option<yang::data::DataTree> {
        let scope = ns.map_or_else(
            crate::engines::state::Scope::all,
            crate::engines::state::Scope::module,
        );
        crate::engines::Engines::state_of(self, &scope)
    }

    fn state_rows(&self, ns: Option<&str>) -> Option<yang::data::TreeWithRows> {
        let scope = ns.map_or_else(
            crate::engines::state::Scope::all,
            crate::engines::state::Scope::module,
        );
        crate::engines::Engines::state_parts(self, &scope)
    }

    fn subscriber(&self) -> Box<dyn datastore::Subscriber + '_> {
        Box::new(crate::engines::Engines::subscriber(self))
    }
}
