//! The CLI on an SSH channel: a `shell` request with a terminal (pty) runs it interactively,
//! one without reads command lines from the client's standard input, an `exec` request runs
//! its command. The channel's exit status is 0, or 1 when a command line failed. The session
//! ends with the channel, with its idle timeout, or when killed (kill-session); its
//! uncommitted changes go with it.

use std::sync::Arc;

use russh::server::Msg;
use russh::{Channel, ChannelMsg};
use tracing::{info, warn};

use super::shell::{Cli, Printed};
use crate::netconf::server::{Server, Transport};

/// How the client asked for the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A shell with a terminal: prompts, echo, line editing.
    Interactive,
    /// A shell without one: command lines on standard input.
    Batch,
    /// An exec request: its command (lines separated by newlines); `terminal` when the
    /// client asked for one too (`ssh -t`: its output then needs CR LF).
    Exec { command: String, terminal: bool },
}

/// Run a CLI session on `channel` to its end.
pub async fn run(
    mut channel: Channel<Msg>,
    server: Arc<Server>,
    user: String,
    source: String,
    mode: Mode,
) {
    let Some(mut guard) = server.register_as(Transport::CliSsh, &user, &source) else {
        warn!(%user, "cli session refused: session limit reached");
        let _ = channel
            .extended_data_bytes(
                1,
                &b"Error: The maximum number of sessions is reached.\n"[..],
            )
            .await;
        finish(&channel, 1).await;
        return;
    };
    let id = guard.id;
    info!(session = id, %user, ?mode, "cli session started");
    // External NACM groups: read again if the file changed since (one stat per login).
    server.access.groups.refresh();
    let idle = server.limits.idle_timeout;
    let mut cli = Cli::new(Arc::clone(&server), &user, id, &source);
    let mut status = None;
    if let Mode::Exec { command, terminal } = &mode {
        let mut printed = Printed::default();
        let s = cli
            .batch(command.as_bytes(), &mut printed)
            .unwrap_or_else(|| cli.batch_end(&mut printed));
        if *terminal {
            printed.stdout = crlf(&printed.stdout);
            printed.stderr = crlf(&printed.stderr);
        }
        send(&channel, printed).await;
        status = Some(s);
    }
    if mode == Mode::Interactive {
        let _ = channel.data_bytes(cli.greeting()).await;
    }
    while status.is_none() {
        let msg = tokio::select! {
            m = tokio::time::timeout(idle, channel.wait()) => match m {
                Ok(m) => m,
                Err(_) => {
                    guard.reason = "timeout";
                    info!(session = id, "cli session timed out");
                    if mode == Mode::Interactive {
                        let _ = channel.data_bytes(&b"\r\nInfo: The session timed out.\r\n"[..]).await;
                    }
                    status = Some(0);
                    break;
                }
            },
            _ = guard.killed.changed() => {
                guard.reason = "killed";
                info!(session = id, "cli session killed");
                status = Some(1);
                break;
            }
        };
        match (msg, &mode) {
            (Some(ChannelMsg::Data { data }), Mode::Interactive) => {
                let mut out = Vec::new();
                status = cli.typed(&data, &mut out);
                if status.is_some() {
                    out.extend_from_slice(b"\r\n");
                }
                let _ = channel.data_bytes(out).await;
            }
            (Some(ChannelMsg::Data { data }), _) => {
                let mut printed = Printed::default();
                status = cli.batch(&data, &mut printed);
                send(&channel, printed).await;
            }
            (Some(ChannelMsg::Eof), Mode::Interactive) => status = Some(0),
            (Some(ChannelMsg::Eof), _) => {
                let mut printed = Printed::default();
                status = Some(cli.batch_end(&mut printed));
                send(&channel, printed).await;
            }
            // The client is gone: nothing to report to.
            (None | Some(ChannelMsg::Close), _) => break,
            // Window changes, signals, ...: nothing the CLI uses.
            _ => {}
        }
    }
    if let Some(s) = status {
        guard.reason = "closed";
        finish(&channel, s).await;
    }
    info!(
        session = id,
        status = ?status,
        uncommitted = cli.session().has_changes(),
        "cli session ended"
    );
}

/// Newlines as a terminal wants them.
fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 32);
    for &b in text {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

async fn send(channel: &Channel<Msg>, printed: Printed) {
    if !printed.stdout.is_empty() {
        let _ = channel.data_bytes(printed.stdout).await;
    }
    if !printed.stderr.is_empty() {
        let _ = channel.extended_data_bytes(1, printed.stderr).await;
    }
}

/// Exit status, then end of data and close, as a command's end (OpenSSH's `ssh` exits with
/// the status).
async fn finish(channel: &Channel<Msg>, status: u32) {
    let _ = channel.exit_status(status).await;
    let _ = channel.eof().await;
    let _ = channel.close().await;
}
