//! Network namespaces: run a closure inside a named namespace (`ip netns add NAME`) on a
//! short-lived thread. Sockets created there stay in that namespace after the thread ends,
//! which is how the lab reaches an agent listening on loopback inside a device namespace.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Run `f` on a new thread that has entered `/run/netns/<name>`.
pub fn run_in<T, F>(name: &str, f: F) -> io::Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let path = Path::new("/run/netns").join(name);
    let ns = File::open(&path)?;
    let handle = std::thread::spawn(move || -> io::Result<T> {
        // SAFETY: `ns` is an open namespace file; setns only changes this thread's network
        // namespace, and the thread ends after `f`.
        let r = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(f())
    });
    handle
        .join()
        .map_err(|_| io::Error::other("the namespace thread panicked"))?
}
