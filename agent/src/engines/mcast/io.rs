//! The multicast engine's I/O, on the protocol thread's side: the IGMP/PIM control sockets of
//! the multicast interfaces, the forwarder and the routing table reader. The engine
//! ([`Multicast`]) decodes what arrives and says what to do as [`Effect`]s; [`McIo`] carries
//! them out and reads what its descriptors report back into the engine.

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use std::net::{Ipv4Addr, SocketAddrV4};

use dataplane::sock::{Ipv4Socket, PacketSocket};
use tracing::{debug, error};

use super::forwarding::Forwarding;
use super::{Effect, Multicast};
use crate::engines::pim::packet::IPPROTO_PIM;
use crate::engines::rib_loader::RibLoader;

/// Upcalls handled per pass of the protocol thread.
const UPCALLS_PER_PASS: usize = 512;
/// Frames read from one control socket per pass.
const FRAMES_PER_PASS: usize = 256;

/// What a descriptor of [`McIo::fds`] is, for [`McIo::readable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McFd {
    /// Data upcalls from the forwarder.
    Upcalls,
    /// A copy of the routing table is ready.
    Rib,
    /// The control socket of this interface.
    Control(String),
    /// The raw PIM socket: Registers and Register-Stops unicast to us.
    UnicastPim,
}

/// The sockets and threads the multicast engine works through.
pub struct McIo {
    pub ctl: ControlSockets,
    pub fwd: Forwarding,
    /// Reads the routing table on its own thread (started on first use).
    loader: Option<RibLoader>,
    /// Raw IPPROTO_PIM socket for Registers and Register-Stops, open while the forwarder
    /// runs (and its presence keeps the kernel from answering Registers with ICMP
    /// protocol-unreachable).
    pim: Option<Ipv4Socket>,
    buf: Vec<u8>,
    effects: Vec<Effect>,
}

impl McIo {
    /// The I/O of `mc` (the forwarder shares its table).
    pub fn new(mc: &Multicast) -> McIo {
        McIo {
            ctl: ControlSockets::default(),
            fwd: Forwarding::new(std::sync::Arc::clone(mc.mfib())),
            loader: None,
            pim: None,
            buf: vec![0; 65536],
            effects: Vec::new(),
        }
    }

    /// Descriptors to poll, with a tag for [`McIo::readable`].
    pub fn fds(&self) -> Vec<(RawFd, McFd)> {
        let mut v = Vec::new();
        if let Some(u) = self.fwd.upcall_fd() {
            v.push((u, McFd::Upcalls));
        }
        if let Some(l) = &self.loader {
            v.push((l.fd(), McFd::Rib));
        }
        if let Some(p) = &self.pim {
            v.push((p.as_raw_fd(), McFd::UnicastPim));
        }
        v.extend(
            self.ctl
                .fds()
                .into_iter()
                .map(|(fd, name)| (fd, McFd::Control(name))),
        );
        v
    }

    /// Read what `tag`'s descriptor has into the engine (bounded per pass, so a flood of new
    /// flows or control frames cannot hold the protocol thread and the BFD and VRRP timers
    /// behind it; the rest waits for the next pass).
    pub fn readable(&mut self, tag: &McFd, mc: &mut Multicast) {
        match tag {
            McFd::Upcalls => {
                for _ in 0..UPCALLS_PER_PASS {
                    let Some(upcall) = self.fwd.next_upcall() else {
                        break;
                    };
                    if let Some((s, g, ifindex)) = upcall {
                        mc.upcall(s, g, ifindex, Instant::now());
                    }
                }
            }
            McFd::Rib => {
                if let Some(r) = self.loader.as_ref().and_then(RibLoader::take) {
                    mc.rib_loaded(r, Instant::now());
                }
            }
            McFd::UnicastPim => {
                for _ in 0..FRAMES_PER_PASS {
                    let Some(sock) = &self.pim else { break };
                    let meta = match sock.recv(&mut self.buf) {
                        Ok(Some(m)) => m,
                        Ok(None) => break,
                        Err(e) => {
                            debug!(error = %e, "raw PIM socket");
                            break;
                        }
                    };
                    // A raw socket hands over the IPv4 header too.
                    let ip = &self.buf[..meta.len];
                    let Some((ihl, total)) = dataplane::wire::ipv4_bounds(ip) else {
                        continue;
                    };
                    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
                    mc.unicast_pim(
                        *meta.src.ip(),
                        dst,
                        meta.ifindex,
                        meta.ts_ns,
                        &ip[ihl..total],
                        Instant::now(),
                    );
                }
            }
            McFd::Control(name) => {
                for _ in 0..FRAMES_PER_PASS {
                    let Some(n) = self.ctl.recv(name, &mut self.buf) else {
                        break;
                    };
                    mc.control_frame(name, &self.buf[..n], Instant::now());
                }
            }
        }
    }

    /// Carry out what the engine asked for, in order. Some answers go straight back (a table
    /// reader that cannot start).
    pub fn carry_out(&mut self, mc: &mut Multicast) {
        let mut effects = std::mem::take(&mut self.effects);
        effects.extend(mc.effects());
        for e in effects.drain(..) {
            match e {
                Effect::Frame { interface, frame } => self.ctl.send(&interface, &frame),
                Effect::Forward(interfaces) => {
                    self.pim_socket(!interfaces.is_empty());
                    self.fwd.sync(interfaces, mc.cfg.kernel_bypass);
                }
                Effect::Unicast { to, from, pim } => match &self.pim {
                    Some(s) => {
                        let dst = SocketAddrV4::new(to, 0);
                        let sent = match from {
                            Some(src) => s.send_from(&pim, src, dst),
                            None => s.send_to(&pim, dst),
                        };
                        if let Err(e) = sent {
                            debug!(to = %to, from = ?from, error = %e, "cannot send a unicast PIM message");
                        }
                    }
                    None => debug!(to = %to, "no raw PIM socket: unicast PIM message dropped"),
                },
                Effect::ReadRib => {
                    if !self.read_rib() {
                        mc.rib_unavailable();
                    }
                }
                Effect::FreeRib(old) => {
                    if let Some(l) = &self.loader {
                        l.free(old);
                    }
                }
            }
        }
        self.effects = effects;
    }

    /// Open (or close) the raw PIM socket.
    fn pim_socket(&mut self, open: bool) {
        if !open {
            self.pim = None;
            return;
        }
        if self.pim.is_some() {
            return;
        }
        match Ipv4Socket::raw(IPPROTO_PIM, None) {
            Ok(s) => {
                if let Err(e) = s.enable_rx_timestamps() {
                    error!(error = %e, "raw PIM socket: no receive timestamps");
                }
                self.pim = Some(s)
            }
            Err(e) => error!(error = %e, "cannot open the raw PIM socket: no Registers"),
        }
    }

    /// Ask the reader for a fresh copy of the routing table, starting it if need be. `false`:
    /// no reader could be started.
    fn read_rib(&mut self) -> bool {
        if let Some(l) = &self.loader {
            if l.request() {
                return true;
            }
            error!("the routing table reader ended; starting a new one");
        }
        self.loader = RibLoader::start()
            .map_err(|e| error!(error = %e, "cannot start the routing table reader"))
            .ok();
        self.loader.as_ref().is_some_and(RibLoader::request)
    }

    /// When a failed forwarder is tried again.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.fwd.next_deadline()
    }

    pub fn on_timer(&mut self, now: Instant) {
        self.fwd.on_timer(now);
    }

    /// Once per pass: a forwarder that failed after its launch is noticed.
    pub fn check(&mut self, now: Instant) {
        self.fwd.check(now);
    }

    pub fn stop(&mut self) {
        self.fwd.stop();
    }
}

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
