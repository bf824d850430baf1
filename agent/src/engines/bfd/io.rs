//! BFD sockets: the receive sockets of the two ports and each session's transmit socket.

use std::net::{Ipv4Addr, SocketAddrV4};

use dataplane::sock::{Ipv4Socket, UdpOptions};

use super::packet::ControlPacket;
use super::sessions::Sent;
use crate::engines::config;

pub const SINGLE_HOP_PORT: u16 = 3784;
pub const MULTI_HOP_PORT: u16 = 4784;

/// The transport of a BFD session: UDP from a port of 49152..65535 unique on this system,
/// TTL 255 (RFC 5881 §4/§5, RFC 5883 §2), bound to the interface for single-hop sessions.
pub fn open_tx(c: &config::BfdSession) -> Result<Ipv4Socket, String> {
    let ip = c.source.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let mut last = None;
    for port in 49152..=65535u16 {
        match Ipv4Socket::udp(&UdpOptions {
            bind: SocketAddrV4::new(ip, port),
            device: c.interface.as_deref(),
            ttl: Some(255),
            recv_meta: false,
            reuse_addr: false,
        }) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => {
                return Err(match c.interface.as_deref() {
                    Some(i) => format!("cannot open the BFD socket on {i} from {ip}: {e}"),
                    None => format!("cannot open the BFD socket from {ip}: {e}"),
                })
            }
        }
    }
    Err(format!(
        "no free BFD source port in 49152..65535: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    ))
}

/// A receive socket for one of the two ports (with TTL and interface of each packet).
pub fn open_rx(port: u16) -> Result<Ipv4Socket, String> {
    Ipv4Socket::udp(&UdpOptions {
        bind: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port),
        device: None,
        ttl: None,
        recv_meta: true,
        reuse_addr: true,
    })
    .map_err(|e| format!("cannot listen for BFD on UDP port {port}: {e}"))
}

/// Send one control packet of the session configured as `c` on `tx`. `resolved`: the peer's
/// link-layer address is known, so a packet the kernel takes leaves at once; otherwise it
/// waits for resolution.
pub fn send(
    tx: Option<&Ipv4Socket>,
    c: &config::BfdSession,
    p: &ControlPacket,
    resolved: bool,
) -> Sent {
    let Some(tx) = tx else {
        return Sent::Failed(match &c.interface {
            Some(i) => format!("no socket: interface {i} is not present"),
            None => "no socket for multi-hop packets".to_string(),
        });
    };
    let port = if c.interface.is_some() {
        SINGLE_HOP_PORT
    } else {
        MULTI_HOP_PORT
    };
    match tx.send_to(&p.encode(), SocketAddrV4::new(c.peer, port)) {
        Ok(_) if !resolved => Sent::Queued,
        Ok(_) => Sent::Left,
        Err(err) => Sent::Failed(format!("the kernel refused the packet: {err}")),
    }
}
