//! VRRP sockets of one interface: protocol 112 in, frames from the virtual MAC out, and ARP
//! requests for the virtual IPs.

use std::net::Ipv4Addr;

use dataplane::sock::{self, Ipv4Socket, PacketSocket};
use tracing::debug;

use super::packet as vpkt;

/// Sockets for VRRP on one interface.
pub struct VrrpIo {
    pub raw: Ipv4Socket,
    pub tx: PacketSocket,
    pub arp: PacketSocket,
}

impl VrrpIo {
    pub fn open(ifname: &str, ifindex: u32) -> Result<VrrpIo, String> {
        let why = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                format!("VRRP on {ifname} needs CAP_NET_RAW: {e}")
            } else {
                format!("cannot open the VRRP sockets on {ifname}: {e}")
            }
        };
        let raw = Ipv4Socket::raw(vpkt::IPPROTO_VRRP, Some(ifname)).map_err(why)?;
        raw.join_multicast(vpkt::VRRP_MCAST_V4, ifindex)
            .map_err(why)?;
        let tx = PacketSocket::open(ifindex, None).map_err(why)?;
        let arp = PacketSocket::open(ifindex, Some(sock::ETH_P_ARP)).map_err(why)?;
        Ok(VrrpIo { raw, tx, arp })
    }

    /// Send an advertisement (VRRP payload) of `vrid` from `src`.
    pub fn advert(&self, ifname: &str, vrid: u8, src: Ipv4Addr, payload: &[u8]) {
        let frame = vpkt::advert_frame(vrid, src, payload);
        if let Err(err) = self.tx.send(&frame) {
            debug!(interface = %ifname, error = %err, "cannot send VRRP advert");
        }
    }

    /// Gratuitous ARPs for the virtual IPs of `vrid`.
    pub fn garp(&self, vrid: u8, vips: &[Ipv4Addr]) {
        for vip in vips {
            let _ = self.tx.send(&vpkt::garp(vpkt::virtual_mac(vrid), *vip));
        }
    }

    /// Answer an ARP request from (`mac`, `ip`) for `target`, owned by `vrid`.
    pub fn arp_reply(&self, vrid: u8, target: Ipv4Addr, mac: [u8; 6], ip: Ipv4Addr) {
        let frame = vpkt::arp_reply(vpkt::virtual_mac(vrid), target, mac, ip);
        if let Err(err) = self.tx.send(&frame) {
            debug!(error = %err, "cannot send ARP reply");
        }
    }
}
