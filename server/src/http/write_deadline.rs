//! A write deadline for connections: a client that stops reading its response must not hold
//! its connection (and a slot of `MAX_CONNECTIONS`) forever.
//!
//! [`WriteDeadline`] wraps the socket: when a write (or flush) cannot make progress — the
//! client's receive window and our send buffer are full — for longer than the deadline, it
//! fails with `TimedOut`, and hyper closes the connection. Any progress restarts the clock, so
//! a slow but live download is never cut; one that reads nothing (or a byte now and then, which
//! TCP's window rules turn into no progress at all) is.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

pin_project! {
    pub struct WriteDeadline<T> {
        #[pin]
        inner: T,
        deadline: Duration,
        // Made at the first stall and reused (reset, not reallocated) at the next ones.
        timer: Option<Pin<Box<Sleep>>>,
        // Whether the timer runs for the current stall; any progress disarms it.
        armed: bool,
    }
}

impl<T> WriteDeadline<T> {
    pub fn new(inner: T, deadline: Duration) -> Self {
        WriteDeadline {
            inner,
            deadline,
            timer: None,
            armed: false,
        }
    }
}

/// What a write returned, with the deadline applied to `Pending`.
fn with_deadline<R>(
    polled: Poll<io::Result<R>>,
    timer: &mut Option<Pin<Box<Sleep>>>,
    armed: &mut bool,
    deadline: Duration,
    cx: &mut Context<'_>,
) -> Poll<io::Result<R>> {
    match polled {
        Poll::Ready(result) => {
            *armed = false;
            Poll::Ready(result)
        }
        Poll::Pending => {
            let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(deadline)));
            if !*armed {
                timer.as_mut().reset(tokio::time::Instant::now() + deadline);
                *armed = true;
            }
            match timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the client read nothing for {deadline:?}"),
                ))),
                Poll::Pending => Poll::Pending,
            }
        }
    }
}

impl<T: AsyncRead> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().inner.poll_read(cx, buf)
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.inner.poll_write(cx, buf);
        with_deadline(polled, this.timer, this.armed, *this.deadline, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.inner.poll_write_vectored(cx, bufs);
        with_deadline(polled, this.timer, this.armed, *this.deadline, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let polled = this.inner.poll_flush(cx);
        with_deadline(polled, this.timer, this.armed, *this.deadline, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}
