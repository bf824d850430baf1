//! `poll(2)` over a handful of descriptors, for the protocol thread's event loop.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Wait until one of `fds` is readable or `timeout` passes; `ready[i]` tells which are.
/// Returns the number of readable descriptors (0 on timeout). An interrupted wait counts as a
/// timeout.
pub fn wait_readable(fds: &[RawFd], ready: &mut Vec<bool>, timeout: Duration) -> io::Result<usize> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // Round up so a deadline 0.3 ms away does not spin.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `pfds` is a live array of `pfds.len()` pollfd structs.
    let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    ready.clear();
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            ready.resize(fds.len(), false);
            return Ok(0);
        }
        return Err(e);
    }
    ready.extend(
        pfds.iter()
            .map(|p| p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0),
    );
    Ok(r as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn reports_the_readable_descriptor() {
        let (a, b) = UnixDatagram::pair().unwrap();
        let (c, _d) = UnixDatagram::pair().unwrap();
        let mut ready = Vec::new();
        let n = wait_readable(
            &[a.as_raw_fd(), c.as_raw_fd()],
            &mut ready,
            Duration::from_millis(1),
        )
        .unwrap();
        assert_eq!((n, ready.clone()), (0, vec![false, false]));
        b.send(b"x").unwrap();
        let n = wait_readable(
            &[a.as_raw_fd(), c.as_raw_fd()],
            &mut ready,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!((n, ready), (1, vec![true, false]));
    }
}
