//! The IGMP/PIM control sockets of the multicast interfaces, on the protocol thread's side: the
//! multicast engine only decodes what arrives ([`super::Multicast::control_frame`]) and queues
//! what to send ([`super::Multicast::take_frames`]).

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use dataplane::sock::PacketSocket;
use tracing::{debug, error};

/// How long an interface whose socket could not be opened waits before the next link or
/// address event tries again.
const RETRY: Duration = Duration::from_secs(5);

struct Control {
    index: u32,
    sock: Option<PacketSocket>,
    retry_at: Option<Instant>,
}

/// One control socket per multicast interface that exists.
#[derive(Default)]
pub struct ControlSockets {
    ifs: BTreeMap<String, Control>,
}

impl ControlSockets {
    /// Open sockets on the interfaces `wanted` (name, ifindex) that lack one (or whose index
    /// changed: a new netdev of the same name), retry failed ones after [`RETRY`], close the
    /// rest.
    pub fn sync<'a>(&mut self, wanted: impl Iterator<Item = (&'a str, u32)>, now: Instant) {
        let mut keep = BTreeMap::new();
        for (name, index) in wanted {
            let mut c = match self.ifs.remove(name) {
                Some(c) if c.index == index => c,
                _ => Control {
                    index,
                    sock: None,
                    retry_at: None,
                },
            };
            if c.sock.is_none() && c.retry_at.is_none_or(|t| t <= now) {
                match PacketSocket::open_control(index, 4 << 20) {
                    Ok(s) => {
                        c.sock = Some(s);
                        c.retry_at = None;
                    }
                    Err(err) => {
                        c.retry_at = Some(now + RETRY);
                        error!(interface = %name, error = %err, retry_s = RETRY.as_secs(), "cannot open the IGMP/PIM socket");
                    }
                }
            }
            keep.insert(name.to_string(), c);
        }
        self.ifs = keep;
    }

    /// Descriptors to poll, with their interface.
    pub fn fds(&self) -> Vec<(RawFd, String)> {
        self.ifs
            .iter()
            .filter_map(|(n, c)| c.sock.as_ref().map(|s| (s.as_raw_fd(), n.clone())))
            .collect()
    }

    /// The next frame waiting on `name`'s socket.
    pub fn recv(&self, name: &str, buf: &mut [u8]) -> Option<usize> {
        let s = self.ifs.get(name)?.sock.as_ref()?;
        s.recv(buf).ok().flatten()
    }

    /// Send a frame out of `name` (dropped when it has no socket).
    pub fn send(&self, name: &str, frame: &[u8]) {
        let Some(s) = self.ifs.get(name).and_then(|c| c.sock.as_ref()) else {
            return;
        };
        if let Err(err) = s.send(frame) {
            debug!(interface = %name, error = %err, "cannot send");
        }
    }
}
