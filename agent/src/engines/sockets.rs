//! The protocol sockets of the device: BFD's two receive sockets and each session's transmit
//! socket, VRRP's sockets per interface. A commit reserves what it needs in its prepare phase
//! ([`Sockets::reserve`]: a socket that cannot be opened, or a missing capability, vetoes the
//! commit before anything changed) and hands it over at apply ([`Sockets::take`]).

use std::collections::{BTreeMap, HashMap};

use dataplane::netlink::{Addr, Link};
use dataplane::sock::Ipv4Socket;
use tracing::error;

use super::bfd::io as bfd_io;
use super::bfd::sessions::Sessions;
use super::checks;
use super::config::{Config, Delta};
use super::ifconfig;
use super::vrrp::io::VrrpIo;

/// Effective capabilities of this process (CapEff in /proc/self/status).
fn has_capability(bit: u32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << bit) != 0)
}
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

/// The sockets in use.
#[derive(Default)]
pub struct Sockets {
    pub rx_single: Option<Ipv4Socket>,
    pub rx_multi: Option<Ipv4Socket>,
    /// Each BFD session's transmit socket, by session name.
    pub bfd_tx: HashMap<String, Ipv4Socket>,
    pub vrrp_io: HashMap<String, VrrpIo>,
}

/// What a commit's prepare phase opened for it.
#[derive(Default)]
pub struct Reserved {
    rx_single: Option<Ipv4Socket>,
    rx_multi: Option<Ipv4Socket>,
    bfd_tx: HashMap<String, Ipv4Socket>,
    vrrp_io: HashMap<String, VrrpIo>,
}

impl Sockets {
    /// Check that `delta` can be applied over `cfg` and open the sockets it needs: changing an
    /// existing netdev needs CAP_NET_ADMIN; BFD needs its receive sockets, unique local
    /// discriminators and a transmit socket per new or re-addressed session; VRRP needs its
    /// sockets on each interface that exists (CAP_NET_RAW).
    pub fn reserve(
        &self,
        cfg: &Config,
        delta: &Delta,
        links: &BTreeMap<String, Link>,
        addrs: &[Addr],
        sessions: &Sessions,
    ) -> Result<Reserved, String> {
        let mut r = Reserved::default();
        let ifs = delta.interfaces_after();
        for (name, parts) in &ifs {
            let (Some(parts), Some(link)) = (parts, links.get(name)) else {
                continue;
            };
            let changes = !ifconfig::plan(link, addrs, Some(&parts.interface), None).is_empty();
            if changes && !has_capability(CAP_NET_ADMIN) {
                return Err(format!(
                    "configuring interface {name} needs CAP_NET_ADMIN, which the agent does not have"
                ));
            }
        }
        let single = delta.bfd_after(cfg).any(|(_, s)| s.interface.is_some());
        let multi = delta.bfd_after(cfg).any(|(_, s)| s.interface.is_none());
        if single && self.rx_single.is_none() {
            r.rx_single = Some(bfd_io::open_rx(bfd_io::SINGLE_HOP_PORT)?);
        }
        if multi && self.rx_multi.is_none() {
            r.rx_multi = Some(bfd_io::open_rx(bfd_io::MULTI_HOP_PORT)?);
        }
        let sessions_after = delta.sessions_after();
        let set: Vec<_> = sessions_after
            .iter()
            .filter_map(|(n, s)| s.as_ref().map(|s| (n, s)))
            .collect();
        checks::bfd_discriminators(
            set.iter().map(|(n, s)| (n.as_str(), s.local_disc)),
            |d| sessions.holder_of(d).map(|h| h.name.as_str()),
            |h| delta.full.is_none() && !delta.bfd.contains_key(h),
        )?;
        for (name, s) in set {
            let same_transport = sessions.by_name(name).is_some_and(|o| {
                self.bfd_tx.contains_key(name)
                    && o.cfg.interface == s.interface
                    && o.cfg.source == s.source
                    && o.cfg.peer == s.peer
            });
            let present = s.interface.as_ref().is_none_or(|i| links.contains_key(i));
            if !same_transport && present {
                r.bfd_tx.insert(name.clone(), bfd_io::open_tx(s)?);
            }
        }
        for (ifname, parts) in &ifs {
            let Some(parts) = parts else { continue };
            if parts.vrrp.is_empty() || self.vrrp_io.contains_key(ifname) {
                continue;
            }
            match links.get(ifname) {
                Some(l) => {
                    r.vrrp_io
                        .insert(ifname.clone(), VrrpIo::open(ifname, l.index)?);
                }
                None if !has_capability(CAP_NET_RAW) => {
                    return Err(format!(
                        "VRRP on {ifname} needs CAP_NET_RAW, which the agent does not have"
                    ))
                }
                None => {}
            }
        }
        Ok(r)
    }

    /// Take what a commit reserved; the names of the BFD sessions with a new transmit socket.
    pub fn take(&mut self, r: Reserved) -> Vec<String> {
        if r.rx_single.is_some() {
            self.rx_single = r.rx_single;
        }
        if r.rx_multi.is_some() {
            self.rx_multi = r.rx_multi;
        }
        self.vrrp_io.extend(r.vrrp_io);
        let names = r.bfd_tx.keys().cloned().collect();
        self.bfd_tx.extend(r.bfd_tx);
        names
    }

    /// The netdev `name` (index `index`) appeared: open the transmit sockets of the BFD
    /// sessions bound to it and VRRP's sockets if `cfg` runs VRRP there.
    pub fn link_appeared(&mut self, name: &str, index: u32, cfg: &Config, sessions: &Sessions) {
        for (_, e) in sessions.iter() {
            if self.bfd_tx.contains_key(&e.name) || e.cfg.interface.as_deref() != Some(name) {
                continue;
            }
            match bfd_io::open_tx(&e.cfg) {
                Ok(s) => {
                    self.bfd_tx.insert(e.name.clone(), s);
                }
                Err(err) => error!(session = %e.name, error = %err, "BFD session cannot start"),
            }
        }
        let has_vrrp = cfg.vrrp.keys().any(|(i, _)| i == name);
        if has_vrrp && !self.vrrp_io.contains_key(name) {
            match VrrpIo::open(name, index) {
                Ok(io) => {
                    self.vrrp_io.insert(name.to_string(), io);
                }
                Err(err) => error!(interface = %name, error = %err, "VRRP cannot start"),
            }
        }
    }

    /// The netdev `name` went away: so did the sockets bound to it.
    pub fn link_removed(&mut self, name: &str, sessions: &Sessions) {
        self.vrrp_io.remove(name);
        for (_, e) in sessions.iter() {
            if e.cfg.interface.as_deref() == Some(name) {
                self.bfd_tx.remove(&e.name);
            }
        }
    }

    /// Close the receive sockets no session of `cfg` needs.
    pub fn prune(&mut self, cfg: &Config) {
        if !cfg.bfd.values().any(|s| s.interface.is_some()) {
            self.rx_single = None;
        }
        if !cfg.bfd.values().any(|s| s.interface.is_none()) {
            self.rx_multi = None;
        }
    }
}
