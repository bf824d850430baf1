//! The forwarder threads that read the multicast engine's forwarding table (started again,
//! make-before-break, when the set of multicast interfaces changes, and retried with a growing
//! wait when their rings cannot be opened), and the channel their upcalls come back on. Owned
//! by the protocol thread (through `io.rs`); the engine only says on which interfaces it must
//! run ([`super::Effect::Forward`]). With `kernel-bypass` (the default) each interface the
//! forwarder runs on also gets the tc ingress filter of [`dataplane::ingress`], so the kernel
//! does not run its own receive path on the data the forwarder takes; the filters follow the
//! forwarder's interfaces, go when it stops or fails and on exit, and those an earlier run
//! left behind are removed at the first start. They are set on a thread of their own
//! ([`Bypass`]): a tc change waits for the kernel's RTNL lock, which a forwarder attaching or
//! detaching the fast path holds across an RCU grace period, and the protocol thread must not
//! wait that long.

use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dataplane::forward::{decode_upcall, Forwarder, FwdConfig, FwdIf, FwdStats};
use dataplane::mfib::Mfib;
use dataplane::netlink::Handle;
use tracing::{debug, error, info, warn};

/// The first wait before a forwarder that could not open its rings is started again; it
/// doubles on every failure with the same interfaces, up to [`RETRY_MAX`].
const RETRY_MIN: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// The forwarder running the engine's forwarding table.
pub struct Forwarding {
    mfib: Arc<Mfib>,
    /// The interfaces asked for last (a retry starts on these).
    wanted: Vec<FwdIf>,
    forwarder: Option<Forwarder>,
    /// A stopped forwarder still closing its rings; the next one starts after it.
    retiring: Option<Forwarder>,
    /// The interfaces (index, MAC) the forwarder runs on.
    set: Vec<(u32, [u8; 6])>,
    /// The forwarder for these interfaces failed (its rings could not be opened): it is started
    /// again at `retry_at`, after `wait`.
    failed: Vec<(u32, [u8; 6])>,
    retry_at: Option<Instant>,
    wait: Duration,
    upcall_rx: Option<UnixDatagram>,
    upcall_tx: Option<UnixDatagram>,
    /// The ingress filters, set by their own thread.
    bypass: Bypass,
    /// Late wake-ups of the protocol thread and late BFD packets, which the fast path's load
    /// shedding reads.
    control_late: Arc<AtomicU64>,
}

/// The tc ingress filters on the forwarder's interfaces (`multicast/kernel-bypass`), as the
/// protocol thread asks for them: a thread of their own puts them where they were last asked
/// for. Measured before it had one: the protocol thread's filter change for an interface
/// joining multicast waited 15 ms for RTNL, in 1 of 4 runs of the lab's forwarder-restart
/// check, while the new forwarder attached the fast path there.
struct Bypass {
    /// `multicast/kernel-bypass`.
    wanted: bool,
    /// To the thread (started at the first request); dropping it takes every filter off and
    /// ends the thread.
    requests: Option<Sender<Vec<u32>>>,
    thread: Option<JoinHandle<()>>,
}

impl Bypass {
    /// Filters on exactly `ifindexes` when wanted, else on none (applied asynchronously). Each
    /// request is sent, the same as the last one too: the thread does nothing for a set it
    /// has, and tries again where a filter could not be put.
    fn set(&mut self, ifindexes: &[u32]) {
        let want = if self.wanted {
            ifindexes.to_vec()
        } else {
            Vec::new()
        };
        if self.requests.is_none() {
            if want.is_empty() {
                return;
            }
            self.start();
        }
        if let Some(tx) = &self.requests {
            if tx.send(want).is_err() {
                error!("kernel bypass thread ended; filters left as they are");
                self.requests = None;
            }
        }
    }

    fn start(&mut self) {
        let (tx, rx) = mpsc::channel::<Vec<u32>>();
        let spawned = std::thread::Builder::new()
            .name("ne-bypass".into())
            .spawn(move || {
                // Started by the protocol thread, whose real-time priority it would inherit.
                let _ = dataplane::sock::set_normal();
                let mut filters = KernelBypass {
                    on: Vec::new(),
                    netlink: None,
                    swept: false,
                };
                while let Ok(mut want) = rx.recv() {
                    // Only the latest request matters.
                    while let Ok(w) = rx.try_recv() {
                        want = w;
                    }
                    filters.sync(&want);
                }
                filters.sync(&[]);
            });
        match spawned {
            Ok(t) => {
                self.requests = Some(tx);
                self.thread = Some(t);
            }
            Err(e) => error!(error = %e, "no kernel bypass thread: no ingress filters"),
        }
    }

    /// Take every filter off and wait until they are.
    fn stop(&mut self) {
        self.requests = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The tc ingress filters as they are, on the [`Bypass`] thread.
struct KernelBypass {
    /// Interfaces (ifindex) that carry the filter now.
    on: Vec<u32>,
    /// Opened at first use; None again after an error, so the next sync tries anew.
    netlink: Option<Handle>,
    /// Filters of an earlier run looked for (once, at the first sync).
    swept: bool,
}

impl KernelBypass {
    fn handle(&mut self) -> Option<&mut Handle> {
        if self.netlink.is_none() {
            match Handle::open() {
                Ok(h) => self.netlink = Some(h),
                Err(e) => warn!(error = %e, "kernel bypass: no rtnetlink socket"),
            }
        }
        self.netlink.as_mut()
    }

    /// Remove the filters an earlier run of the agent left (it was killed, or crashed).
    fn sweep(&mut self) {
        self.swept = true;
        let Some(h) = self.handle() else {
            return;
        };
        let links = match h.links() {
            Ok(l) => l,
            Err(e) => {
                warn!(error = %e, "kernel bypass: cannot list interfaces");
                return;
            }
        };
        for l in links {
            if h.has_data_filter(l.index).unwrap_or(false) {
                match h.remove_data_filter(l.index) {
                    Ok(()) => {
                        info!(interface = %l.name, "kernel bypass: removed a leftover filter")
                    }
                    Err(e) => {
                        warn!(interface = %l.name, error = %e, "kernel bypass: cannot remove a leftover filter")
                    }
                }
            }
        }
    }

    /// Put the filter on exactly `ifindexes` (none: take every one off). An interface whose
    /// filter cannot be installed forwards all the same, with the kernel's receive path
    /// running too (said once, at warn).
    fn sync(&mut self, ifindexes: &[u32]) {
        if !self.swept && !ifindexes.is_empty() {
            self.sweep();
        }
        let want = ifindexes.to_vec();
        if want == self.on {
            return;
        }
        if self.handle().is_none() {
            return;
        }
        let had = std::mem::take(&mut self.on);
        let Some(h) = self.netlink.as_mut() else {
            return;
        };
        let mut failed = false;
        for &ifindex in had.iter().filter(|i| !want.contains(i)) {
            if let Err(e) = h.remove_data_filter(ifindex) {
                warn!(ifindex, error = %e, "kernel bypass: cannot remove the ingress filter");
                failed = true;
            }
        }
        let mut on = Vec::new();
        for ifindex in want {
            if had.contains(&ifindex) {
                on.push(ifindex);
                continue;
            }
            match h.install_data_filter(ifindex) {
                Ok(()) => {
                    debug!(ifindex, "kernel bypass: ingress filter installed");
                    on.push(ifindex);
                }
                Err(e) => {
                    warn!(
                        ifindex,
                        error = %e,
                        "kernel bypass unavailable (tc clsact/cls_bpf): the kernel also \
                         receives the forwarded data on this interface"
                    );
                    failed = true;
                }
            }
        }
        self.on = on;
        if failed {
            self.netlink = None;
        }
    }
}

impl Drop for Forwarding {
    /// On exit the filters go with the forwarder.
    fn drop(&mut self) {
        self.bypass.stop();
    }
}

impl Forwarding {
    /// A forwarder (not running yet) for the table `mfib`.
    pub fn new(mfib: Arc<Mfib>) -> Forwarding {
        Forwarding {
            mfib,
            wanted: Vec::new(),
            forwarder: None,
            retiring: None,
            set: Vec::new(),
            failed: Vec::new(),
            retry_at: None,
            wait: Duration::ZERO,
            upcall_rx: None,
            upcall_tx: None,
            bypass: Bypass {
                wanted: true,
                requests: None,
                thread: None,
            },
            control_late: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The protocol thread woke more than [`dataplane::pacing::LATE_NS`] past its time, or a
    /// BFD peer's packet came late: a saturated fast path sheds load on it.
    pub fn control_was_late(&self) {
        self.control_late.fetch_add(1, Ordering::Relaxed);
    }

    pub fn running(&self) -> bool {
        self.forwarder.is_some()
    }

    pub fn counters(&self) -> Option<FwdStats> {
        self.forwarder.as_ref().map(|f| f.counters())
    }

    /// Each ring's counters, by ifindex.
    pub fn ring_stats(&self) -> Vec<(u32, dataplane::ring::RingStats)> {
        self.forwarder
            .as_ref()
            .map(|f| f.ring_stats())
            .unwrap_or_default()
    }

    /// Run the forwarder on `interfaces` (none: stop it), with the kernel bypass filters on
    /// them or not. Nothing happens when the set is the one it runs on.
    pub fn sync(&mut self, interfaces: Vec<FwdIf>, kernel_bypass: bool) {
        self.bypass.wanted = kernel_bypass;
        if let Some(f) = &self.forwarder {
            // The fast path (NE_FAST_PATH) frees what it forwards unless the host wants it.
            f.set_local_delivery(!kernel_bypass);
        }
        self.run_on(interfaces);
        self.sync_filters();
    }

    /// The filters on the interfaces of a running forwarder, none otherwise.
    fn sync_filters(&mut self) {
        let on: Vec<u32> = if self.forwarder.is_some() {
            self.set.iter().map(|&(i, _)| i).collect()
        } else {
            Vec::new()
        };
        self.bypass.set(&on);
    }

    fn run_on(&mut self, mut interfaces: Vec<FwdIf>) {
        interfaces.sort_unstable_by_key(|i| i.ifindex);
        self.wanted.clone_from(&interfaces);
        let set: Vec<(u32, [u8; 6])> = interfaces.iter().map(|i| (i.ifindex, i.mac)).collect();
        if set == self.set {
            return;
        }
        self.set = set.clone();
        self.retry_at = None;
        if set != self.failed {
            self.wait = Duration::ZERO;
        }
        // The old forwarder goes on until the new one has opened its rings and takes over
        // at an instant of arrival (make-before-break, `Forwarder::launch`); with no new one
        // it stops now, and closes its rings on its own time.
        let old = self.forwarder.take();
        if set.is_empty() {
            if let Some(f) = old {
                debug!(forwarded = f.counters().forwarded, "forwarder stopping");
                self.retiring = Some(f.retire());
            }
            return;
        }
        if self.upcall_rx.is_none() {
            match UnixDatagram::pair() {
                Ok((tx, rx)) => {
                    let _ = tx.set_nonblocking(true);
                    let _ = rx.set_nonblocking(true);
                    self.upcall_tx = Some(tx);
                    self.upcall_rx = Some(rx);
                }
                Err(e) => error!(error = %e, "no upcall socket"),
            }
        }
        let up = self.upcall_tx.as_ref().and_then(|t| t.try_clone().ok());
        let n = interfaces.len();
        let after = old.or_else(|| self.retiring.take());
        // The in-kernel fast path for the routes it can take, the rings for the rest (and for
        // everything where the kernel cannot load or attach its programs); NE_FAST_PATH=0:
        // the rings alone. A forwarder that replaces this one takes its fast path over.
        let cfg = FwdConfig {
            fast_path: std::env::var("NE_FAST_PATH").as_deref() != Ok("0"),
            fast_path_local_delivery: !self.bypass.wanted,
            // NE_FAST_PATH_PACING=0: no load shedding (for measuring what it protects).
            fast_path_pacing: std::env::var("NE_FAST_PATH_PACING").as_deref() != Ok("0"),
            control_late: Some(Arc::clone(&self.control_late)),
            // NE_FORWARDING_CPUS: the forwarding thread's CPUs (with NE_PROTOCOL_CPUS, the
            // control plane and the data plane each on CPUs of their own).
            cpus: std::env::var("NE_FORWARDING_CPUS")
                .ok()
                .and_then(|s| crate::engines::thread::parse_cpu_list(&s)),
            ..FwdConfig::default()
        };
        match Forwarder::launch(interfaces, Arc::clone(&self.mfib), cfg, up, after) {
            Ok(f) => {
                info!(interfaces = n, "multicast forwarder started");
                self.forwarder = Some(f);
            }
            Err(e) => {
                error!(error = %e, "cannot start the multicast forwarder");
                self.failed(Instant::now());
            }
        }
    }

    /// The forwarder could not start or open its rings (an interface went away between the
    /// check and the open, memory for the rings, a limit): start it again later, waiting
    /// longer each time the same interfaces fail.
    fn failed(&mut self, now: Instant) {
        self.forwarder = None;
        self.failed = std::mem::take(&mut self.set);
        self.wait = (self.wait * 2).clamp(RETRY_MIN, RETRY_MAX);
        self.retry_at = Some(now + self.wait);
        warn!(
            retry_in_s = self.wait.as_secs(),
            "multicast forwarder down; retrying"
        );
        self.sync_filters();
    }

    /// A forwarder that failed after its launch (checked once per pass).
    pub fn check(&mut self, now: Instant) {
        if let Some(why) = self.forwarder.as_ref().and_then(Forwarder::failure) {
            error!(error = %why, "cannot start the multicast forwarder");
            self.failed(now);
        }
    }

    /// When a failed forwarder is tried again.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Start a failed forwarder again on the interfaces asked for last, if its wait is over.
    pub fn on_timer(&mut self, now: Instant) {
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            self.sync(self.wanted.clone(), self.bypass.wanted);
        }
    }

    pub fn upcall_fd(&self) -> Option<RawFd> {
        self.upcall_rx.as_ref().map(|u| u.as_raw_fd())
    }

    /// The next upcall waiting: (source, group, arrival ifindex). None when there is none.
    pub fn next_upcall(&self) -> Option<Option<(std::net::Ipv4Addr, std::net::Ipv4Addr, u32)>> {
        let mut b = [0u8; 64];
        let n = self.upcall_rx.as_ref()?.recv(&mut b).ok()?;
        Some(decode_upcall(&b[..n]))
    }

    pub fn stop(&mut self) {
        if let Some(f) = self.forwarder.take() {
            let _ = f.stop();
        }
        self.retiring = None;
        self.bypass.stop();
    }
}
