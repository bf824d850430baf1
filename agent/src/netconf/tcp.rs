//! The TCP stream under an SSH connection, acknowledging what it reads at once.
//!
//! Clients that leave Nagle's algorithm on (paramiko, hence ncclient and Ansible) stall against a
//! server that delays its ACKs: after a large reply the client sends a small SSH window adjust,
//! and its next request then waits in the client's Nagle buffer until that segment is
//! acknowledged, which Linux delays by about 40 ms when the server has nothing to send. Setting
//! `TCP_QUICKACK` after every read makes the kernel acknowledge at once (the option is not sticky,
//! so it is set again each time). Our own writes go out at once too (`TCP_NODELAY`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub struct QuickAck {
    inner: TcpStream,
}

impl QuickAck {
    pub fn new(inner: TcpStream) -> QuickAck {
        if let Err(e) = inner.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        QuickAck { inner }
    }

    fn ack_now(&self) {
        // Best effort: a socket that refuses the option still works, only slower with such clients.
        let _ = socket2::SockRef::from(&self.inner).set_tcp_quickack(true);
    }
}

impl AsyncRead for QuickAck {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.ack_now();
        }
        r
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
