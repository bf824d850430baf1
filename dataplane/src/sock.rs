//! Control-plane sockets: UDP for BFD, raw IP for VRRP, packet sockets for frames sent from a
//! virtual MAC and for ARP. Thin, typed wrappers over the socket calls the protocol engines need
//! (TTL on send, TTL/interface/destination on receive, binding to a netdev); everything is
//! non-blocking and meant to be driven by [`crate::poll`].

use std::ffi::CString;
use std::io;
use std::mem;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The netdev index of `name`, or None when it does not exist.
pub fn ifindex(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}

pub(crate) fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn cvt_size(r: libc::ssize_t) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

pub(crate) fn new_socket(
    domain: libc::c_int,
    ty: libc::c_int,
    proto: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; the flags make the fd non-blocking and close-on-exec.
    let fd =
        cvt(unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, proto) })?;
    // SAFETY: `fd` was just returned by socket() and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(crate) fn setsockopt<T>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` points to a live T of the size passed; the kernel only reads it.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            mem::size_of::<T>() as libc::socklen_t,
        )
    })
    .map(drop)
}

fn bind_to_device(fd: RawFd, device: &str) -> io::Result<()> {
    let name = device.as_bytes();
    // SAFETY: `name` is valid for `name.len()` bytes; the kernel copies at most that many.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Asks the routing of the namespace it was made in for path MTUs.
#[derive(Debug)]
pub struct MtuProbe {
    fd: OwnedFd,
}

impl MtuProbe {
    /// A UDP socket in the calling thread's network namespace; it never sends.
    pub fn new() -> io::Result<MtuProbe> {
        Ok(MtuProbe {
            fd: new_socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?,
        })
    }

    /// The MTU of the path toward `dst` (the route's interface MTU, or a smaller path MTU
    /// learned): the socket connected to it, asked for IP_MTU.
    pub fn path_mtu(&self, dst: Ipv4Addr) -> io::Result<usize> {
        path_mtu(&self.fd, dst)
    }
}

fn path_mtu(fd: &OwnedFd, dst: Ipv4Addr) -> io::Result<usize> {
    let sa = sockaddr_in(SocketAddrV4::new(dst, 9));
    // SAFETY: `sa` is a valid sockaddr_in for the length given.
    cvt(unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_in).cast(),
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })?;
    let mut mtu: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `mtu`/`len` describe a writable c_int.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MTU,
            (&mut mtu as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    Ok(mtu.max(0) as usize)
}

/// A message header over one address, one buffer and a control buffer (its whole length;
/// a sender sets the length it uses). The pointers are to the arguments, which must outlive
/// the header's use.
fn msghdr(sa: &mut libc::sockaddr_in, iov: &mut libc::iovec, control: &mut [u64]) -> libc::msghdr {
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = (sa as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = mem::size_of_val(control);
    msg
}

fn sockaddr_in(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

/// What came with a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    pub len: usize,
    pub src: SocketAddrV4,
    /// Destination address (IP_PKTINFO).
    pub dst: Option<Ipv4Addr>,
    /// Receiving interface (IP_PKTINFO).
    pub ifindex: Option<u32>,
    /// IP TTL of the datagram (IP_RECVTTL).
    pub ttl: Option<u8>,
    /// When the kernel received it, CLOCK_REALTIME ns (SO_TIMESTAMPNS, once
    /// [`Ipv4Socket::enable_rx_timestamps`]): the clock the receive rings stamp frames with.
    pub ts_ns: Option<u64>,
}

/// An IPv4 datagram socket (UDP, or raw IP for one protocol).
#[derive(Debug)]
pub struct Ipv4Socket {
    fd: OwnedFd,
}

impl AsFd for Ipv4Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Ipv4Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// How to open a UDP socket.
#[derive(Debug, Clone)]
pub struct UdpOptions<'a> {
    pub bind: SocketAddrV4,
    pub device: Option<&'a str>,
    /// Unicast TTL for what is sent.
    pub ttl: Option<u8>,
    /// Report TTL, destination and interface on receive.
    pub recv_meta: bool,
    pub reuse_addr: bool,
}

impl Ipv4Socket {
    /// A UDP socket bound as `opts` says.
    pub fn udp(opts: &UdpOptions<'_>) -> io::Result<Ipv4Socket> {
        let fd = new_socket(libc::AF_INET, libc::SOCK_DGRAM, libc::IPPROTO_UDP)?;
        let raw = fd.as_raw_fd();
        if opts.reuse_addr {
            setsockopt(
                raw,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                &1 as &libc::c_int,
            )?;
        }
        if let Some(dev) = opts.device {
            bind_to_device(raw, dev)?;
        }
        if let Some(ttl) = opts.ttl {
            setsockopt(raw, libc::IPPROTO_IP, libc::IP_TTL, &libc::c_int::from(ttl))?;
        }
        let s = Ipv4Socket { fd };
        if opts.recv_meta {
            s.enable_recv_meta()?;
        }
        let sa = sockaddr_in(opts.bind);
        // SAFETY: `sa` is a valid sockaddr_in and the length matches it.
        cvt(unsafe {
            libc::bind(
                raw,
                (&sa as *const libc::sockaddr_in).cast(),
                mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        })?;
        Ok(s)
    }

    /// A raw IPv4 socket for `protocol` (the kernel builds the IP header on send; what is
    /// received starts with the IP header), optionally bound to `device`.
    pub fn raw(protocol: u8, device: Option<&str>) -> io::Result<Ipv4Socket> {
        let fd = new_socket(libc::AF_INET, libc::SOCK_RAW, libc::c_int::from(protocol))?;
        if let Some(dev) = device {
            bind_to_device(fd.as_raw_fd(), dev)?;
        }
        let s = Ipv4Socket { fd };
        s.enable_recv_meta()?;
        Ok(s)
    }

    /// A send-only raw IPv4 socket (IPPROTO_RAW, which implies IP_HDRINCL: the caller writes
    /// the IPv4 header; the kernel fills a zero source, identification and the checksum). The
    /// kernel never queues received packets on it.
    pub fn raw_send_only(protocol: u8) -> io::Result<Ipv4Socket> {
        let fd = new_socket(libc::AF_INET, libc::SOCK_RAW, libc::c_int::from(protocol))?;
        Ok(Ipv4Socket { fd })
    }

    fn enable_recv_meta(&self) -> io::Result<()> {
        let raw = self.fd.as_raw_fd();
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_PKTINFO, &1 as &libc::c_int)?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_RECVTTL, &1 as &libc::c_int)
    }

    /// Report when each datagram was received ([`RecvMeta::ts_ns`]).
    pub fn enable_rx_timestamps(&self) -> io::Result<()> {
        setsockopt(
            self.fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            &1 as &libc::c_int,
        )
    }

    /// Join `group` on the interface `ifindex`.
    pub fn join_multicast(&self, group: Ipv4Addr, ifindex: u32) -> io::Result<()> {
        self.membership(libc::IP_ADD_MEMBERSHIP, group, ifindex)
    }

    /// Leave `group` on the interface `ifindex` (undoes [`Ipv4Socket::join_multicast`]).
    pub fn leave_multicast(&self, group: Ipv4Addr, ifindex: u32) -> io::Result<()> {
        self.membership(libc::IP_DROP_MEMBERSHIP, group, ifindex)
    }

    /// IP_ADD_MEMBERSHIP or IP_DROP_MEMBERSHIP of `group` on `ifindex`.
    fn membership(&self, option: libc::c_int, group: Ipv4Addr, ifindex: u32) -> io::Result<()> {
        let m = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr {
                s_addr: u32::from(group).to_be(),
            },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: ifindex as libc::c_int,
        };
        setsockopt(self.fd.as_raw_fd(), libc::IPPROTO_IP, option, &m)
    }

    /// A receive queue of `bytes` (SO_RCVBUFFORCE, which needs CAP_NET_ADMIN; SO_RCVBUF,
    /// capped by net.core.rmem_max, otherwise).
    pub fn set_recv_buffer(&self, bytes: usize) -> io::Result<()> {
        let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        let raw = self.fd.as_raw_fd();
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size)
            .or_else(|_| setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, &size))
    }

    /// Join `group` for traffic from `source` only (an IGMPv3 INCLUDE record), on the
    /// interface whose address is `local`.
    pub fn join_source(
        &self,
        group: Ipv4Addr,
        source: Ipv4Addr,
        local: Ipv4Addr,
    ) -> io::Result<()> {
        let addr = |a: Ipv4Addr| libc::in_addr {
            s_addr: u32::from(a).to_be(),
        };
        let m = libc::ip_mreq_source {
            imr_multiaddr: addr(group),
            imr_interface: addr(local),
            imr_sourceaddr: addr(source),
        };
        setsockopt(
            self.fd.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_ADD_SOURCE_MEMBERSHIP,
            &m,
        )
    }

    /// Multicast TTL and interface for what is sent to a group; no loopback to ourselves.
    pub fn multicast_out(&self, ifindex: u32, ttl: u8) -> io::Result<()> {
        let raw = self.fd.as_raw_fd();
        let m = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr { s_addr: 0 },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: ifindex as libc::c_int,
        };
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &m)?;
        setsockopt(
            raw,
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_TTL,
            &libc::c_int::from(ttl),
        )?;
        setsockopt(
            raw,
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_LOOP,
            &0 as &libc::c_int,
        )
    }

    /// The bound local address.
    pub fn local_addr(&self) -> io::Result<SocketAddrV4> {
        // SAFETY: an all-zero sockaddr_in is a valid value.
        let mut sa: libc::sockaddr_in = unsafe { mem::zeroed() };
        let mut len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: `sa`/`len` describe a writable buffer of the right size.
        cvt(unsafe {
            libc::getsockname(
                self.fd.as_raw_fd(),
                (&mut sa as *mut libc::sockaddr_in).cast(),
                &mut len,
            )
        })?;
        Ok(SocketAddrV4::new(
            Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)),
            u16::from_be(sa.sin_port),
        ))
    }

    pub fn send_to(&self, buf: &[u8], dst: SocketAddrV4) -> io::Result<usize> {
        let sa = sockaddr_in(dst);
        // SAFETY: `buf` and `sa` are valid for the lengths given.
        cvt_size(unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                0,
                (&sa as *const libc::sockaddr_in).cast(),
                mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        })
    }

    /// Send `buf` to `dst` with `src` (a local address) as its source address, whatever
    /// interface the route to `dst` leaves by (IP_PKTINFO's `ipi_spec_dst`).
    pub fn send_from(&self, buf: &[u8], src: Ipv4Addr, dst: SocketAddrV4) -> io::Result<usize> {
        let mut sa = sockaddr_in(dst);
        let mut iov = libc::iovec {
            iov_base: buf.as_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        let info = libc::in_pktinfo {
            ipi_ifindex: 0,
            ipi_spec_dst: libc::in_addr {
                s_addr: u32::from(src).to_be(),
            },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        let mut control = [0u64; 8];
        let mut msg = msghdr(&mut sa, &mut iov, &mut control);
        // SAFETY: CMSG_SPACE only computes a size.
        msg.msg_controllen =
            unsafe { libc::CMSG_SPACE(mem::size_of::<libc::in_pktinfo>() as u32) } as usize;
        debug_assert!(msg.msg_controllen <= mem::size_of_val(&control));
        // SAFETY: the control buffer (64 bytes, 8-aligned) holds one in_pktinfo message
        // (CMSG_SPACE of it is 32 bytes); CMSG_FIRSTHDR points into it and the data is written
        // unaligned-safe. sendmsg reads only what `msg` describes; `buf` is not written.
        cvt_size(unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::IPPROTO_IP;
            (*c).cmsg_type = libc::IP_PKTINFO;
            (*c).cmsg_len = libc::CMSG_LEN(mem::size_of::<libc::in_pktinfo>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), info);
            libc::sendmsg(self.fd.as_raw_fd(), &msg, 0)
        })
    }

    /// Receive one datagram; `Ok(None)` when nothing is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<RecvMeta>> {
        // SAFETY: all-zero is a valid sockaddr_in.
        let mut sa: libc::sockaddr_in = unsafe { mem::zeroed() };
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut control = [0u64; 16];
        let mut msg = msghdr(&mut sa, &mut iov, &mut control);
        // SAFETY: every pointer in `msg` refers to a live local buffer of the stated size.
        let r = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(None),
                _ => Err(e),
            };
        }
        let mut meta = RecvMeta {
            len: r as usize,
            src: SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)),
                u16::from_be(sa.sin_port),
            ),
            dst: None,
            ifindex: None,
            ttl: None,
            ts_ns: None,
        };
        // SAFETY: `msg` was filled by recvmsg; the CMSG macros walk its control buffer, which
        // lives in `control`, and each data pointer is read with read_unaligned for its type.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let h = &*c;
                if h.cmsg_level == libc::IPPROTO_IP && h.cmsg_type == libc::IP_TTL {
                    let ttl: libc::c_int = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    meta.ttl = Some(ttl as u8);
                } else if h.cmsg_level == libc::IPPROTO_IP && h.cmsg_type == libc::IP_PKTINFO {
                    let pi: libc::in_pktinfo = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    meta.ifindex = Some(pi.ipi_ifindex as u32);
                    meta.dst = Some(Ipv4Addr::from(u32::from_be(pi.ipi_addr.s_addr)));
                } else if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    meta.ts_ns = Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Ok(Some(meta))
    }
}

/// An AF_PACKET socket bound to one interface: sends whole Ethernet frames (used to send from a
/// virtual MAC) and, when opened with a protocol, receives frames of that EtherType. Dropping
/// it does not wait for the close (see `close_later`).
#[derive(Debug)]
pub struct PacketSocket {
    fd: Option<OwnedFd>,
    ifindex: u32,
}

impl Drop for PacketSocket {
    fn drop(&mut self) {
        if let Some(fd) = self.fd.take() {
            close_later(fd);
        }
    }
}

/// Configure a new packet socket; if that fails, close it off the caller's thread as a dropped
/// [`PacketSocket`] is (a bound one costs a grace period to close).
fn set_up(fd: OwnedFd, f: impl FnOnce(&OwnedFd) -> io::Result<()>) -> io::Result<OwnedFd> {
    match f(&fd) {
        Ok(()) => Ok(fd),
        Err(e) => {
            close_later(fd);
            Err(e)
        }
    }
}

/// Close `fd` on a background thread. Closing a bound packet socket waits for an RCU grace
/// period in the kernel (`synchronize_net`: 10-30 ms, more under load), and the protocol
/// thread that drops one (an interface leaving the configuration) must not stop sending BFD
/// for that long. Falls back to closing here if the thread cannot be started.
fn close_later(fd: OwnedFd) {
    use std::sync::{mpsc, OnceLock};
    static CLOSER: OnceLock<Option<mpsc::Sender<OwnedFd>>> = OnceLock::new();
    let closer = CLOSER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<OwnedFd>();
        std::thread::Builder::new()
            .name("ne-close".into())
            .spawn(move || {
                // Started by whichever thread first drops a socket, often the real-time
                // protocol thread: closes need no such priority.
                let _ = set_normal();
                rx.into_iter().for_each(drop)
            })
            .ok()
            .map(|_| tx)
    });
    // A send that fails hands the descriptor back in its error, which closes it here.
    match closer {
        Some(tx) => drop(tx.send(fd)),
        None => drop(fd),
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}

impl PacketSocket {
    /// The descriptor (`-1` only inside `drop`).
    fn raw(&self) -> RawFd {
        self.fd.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }
}

/// EtherType of ARP.
pub const ETH_P_ARP: u16 = 0x0806;

impl PacketSocket {
    /// `ethertype` None: send only (no frames are queued for receive).
    pub fn open(ifindex: u32, ethertype: Option<u16>) -> io::Result<PacketSocket> {
        let proto = ethertype.unwrap_or(0).to_be();
        // Protocol 0 until bind: see `bind_packet`.
        let fd = set_up(new_socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?, |fd| {
            bind_packet(fd, ifindex, proto)?;
            if ethertype.is_some() {
                ignore_outgoing(fd)?;
            }
            Ok(())
        })?;
        Ok(PacketSocket {
            fd: Some(fd),
            ifindex,
        })
    }

    /// A receive socket for the multicast control protocols on one interface: IPv4 frames
    /// carrying IGMP or PIM (a classic BPF filter attached before bind, so nothing else is
    /// queued), whatever their destination group (all-multicast membership: an IGMPv2 report
    /// goes to the group it reports, which the host itself has not joined).
    pub fn open_control(ifindex: u32, rcvbuf: usize) -> io::Result<PacketSocket> {
        let proto = 0x0800u16.to_be();
        // Protocol 0 until bind: see `bind_packet`.
        let fd = set_up(new_socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?, |fd| {
            // A burst of reports must not overflow the queue (SO_RCVBUFFORCE needs
            // CAP_NET_ADMIN).
            let size = libc::c_int::try_from(rcvbuf).unwrap_or(libc::c_int::MAX);
            if setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                &size,
            )
            .is_err()
            {
                setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, &size)?;
            }
            let mut prog = crate::ring::control_filter();
            crate::ring::attach_filter(fd.as_raw_fd(), &mut prog)?;
            bind_packet(fd, ifindex, proto)?;
            ignore_outgoing(fd)?;
            let mreq = libc::packet_mreq {
                mr_ifindex: ifindex as libc::c_int,
                mr_type: libc::PACKET_MR_ALLMULTI as libc::c_ushort,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            setsockopt(
                fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                &mreq,
            )
        })?;
        Ok(PacketSocket {
            fd: Some(fd),
            ifindex,
        })
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Send one complete Ethernet frame.
    pub fn send(&self, frame: &[u8]) -> io::Result<usize> {
        // SAFETY: `frame` is valid for its length; the socket is bound to the interface.
        cvt_size(unsafe { libc::send(self.raw(), frame.as_ptr().cast(), frame.len(), 0) })
    }

    /// Receive one frame; `Ok(None)` when nothing is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // SAFETY: `buf` is valid and writable for its length.
        let r = unsafe {
            libc::recv(
                self.raw(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(None),
                _ => Err(e),
            };
        }
        Ok(Some(r as usize))
    }
}

/// Bind a packet socket to one interface and EtherType (network order).
/// Bind a packet socket to one interface and start receiving `proto_be` there. The socket
/// must have been created with protocol 0: one created with a protocol already receives on
/// every interface, and moving it takes the kernel an RCU grace period (`synchronize_net`,
/// tens of milliseconds under load) during which frames of other interfaces may be queued.
pub(crate) fn bind_packet(fd: &OwnedFd, ifindex: u32, proto_be: u16) -> io::Result<()> {
    // SAFETY: all-zero is a valid sockaddr_ll.
    let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto_be;
    sll.sll_ifindex = ifindex as libc::c_int;
    // SAFETY: `sll` is a valid sockaddr_ll and the length matches it.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Frames this socket sends are not handed back to it.
fn ignore_outgoing(fd: &OwnedFd) -> io::Result<()> {
    setsockopt(
        fd.as_raw_fd(),
        libc::SOL_PACKET,
        libc::PACKET_IGNORE_OUTGOING,
        &1 as &libc::c_int,
    )
}

/// Run the calling thread under SCHED_FIFO at `priority` (1..99) so protocol timers keep their
/// deadlines when every core is busy. Needs CAP_SYS_NICE.
pub fn set_realtime(priority: i32) -> io::Result<()> {
    let p = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `p` is a valid sched_param; pid 0 is the calling thread.
    cvt(unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &p) }).map(drop)
}

/// Keep the calling thread on these CPUs (their numbers as the kernel counts them). An empty
/// list, or a CPU number past the set's size, is refused (EINVAL).
pub fn set_cpu_affinity(cpus: &[usize]) -> io::Result<()> {
    // SAFETY: all-zero is a valid (empty) cpu_set_t.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    let max = 8 * mem::size_of::<libc::cpu_set_t>();
    if cpus.is_empty() || cpus.iter().any(|&c| c >= max) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    for &c in cpus {
        // SAFETY: `c` is below the set's size, checked above.
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size given; pid 0 is the calling thread.
    cvt(unsafe { libc::sched_setaffinity(0, mem::size_of::<libc::cpu_set_t>(), &set) }).map(drop)
}

/// Run the calling thread under the default policy (SCHED_OTHER), for helper threads that a
/// real-time thread starts and that must not inherit its priority.
pub fn set_normal() -> io::Result<()> {
    let p = libc::sched_param { sched_priority: 0 };
    // SAFETY: `p` is a valid sched_param; pid 0 is the calling thread.
    cvt(unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &p) }).map(drop)
}

/// Run the calling thread at a low priority (SCHED_OTHER, nice 10) for background work
/// (reading a large routing table): below the agent's other normal threads, but not starved by
/// a busy machine as SCHED_IDLE would be (a table that never arrives leaves RPF without
/// routes). The real-time threads are above it either way.
pub fn set_background() -> io::Result<()> {
    set_normal()?;
    // SAFETY: plain syscall; on Linux `who` 0 with PRIO_PROCESS is the calling thread.
    cvt(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_udp_reports_ttl_and_destination() {
        let rx = Ipv4Socket::udp(&UdpOptions {
            bind: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0),
            device: None,
            ttl: None,
            recv_meta: true,
            reuse_addr: false,
        })
        .unwrap();
        let to = rx.local_addr().unwrap();
        let tx = Ipv4Socket::udp(&UdpOptions {
            bind: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0),
            device: None,
            ttl: Some(255),
            recv_meta: false,
            reuse_addr: false,
        })
        .unwrap();
        tx.send_to(b"hello", to).unwrap();
        let mut buf = [0u8; 64];
        let mut got = None;
        for _ in 0..100 {
            if let Some(m) = rx.recv(&mut buf).unwrap() {
                got = Some(m);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let m = got.expect("datagram on loopback");
        assert_eq!(&buf[..m.len], b"hello");
        assert_eq!(m.ttl, Some(255));
        assert_eq!(m.dst, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(m.ifindex, ifindex("lo"));
        assert_eq!(m.src, tx.local_addr().unwrap());
    }

    /// A raw socket's datagram leaves with the source address asked for, not the one the
    /// route would choose (loopback, an experimental protocol number).
    #[test]
    fn send_from_sets_the_source_address() {
        const PROTO: u8 = 253;
        let (Ok(rx), Ok(tx)) = (Ipv4Socket::raw(PROTO, None), Ipv4Socket::raw(PROTO, None)) else {
            eprintln!("no raw sockets here (not root): skipped");
            return;
        };
        let from = Ipv4Addr::new(127, 0, 0, 53);
        let payload = b"send-from-probe";
        tx.send_from(payload, from, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
            .unwrap();
        let mut buf = [0u8; 256];
        let mut seen = Vec::new();
        for _ in 0..100 {
            match rx.recv(&mut buf).unwrap() {
                // Raw IPv4 sockets hand over the header: the payload follows it.
                Some(m) if buf[20..m.len].ends_with(payload) => {
                    assert_eq!(*m.src.ip(), from);
                    assert_eq!(&buf[12..16], &from.octets());
                    return;
                }
                Some(m) => seen.push(m.src),
                None => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        panic!("the probe did not arrive; saw datagrams from {seen:?}");
    }

    #[test]
    fn unknown_interface_has_no_index() {
        assert_eq!(ifindex("ne-no-such-if"), None);
        assert!(ifindex("lo").is_some());
    }
}
