//! The simulated stores' listener: a TCP listener whose connections can
//! be cut from inside a handler (a fault) or all at once (the shop's network
//! is down), as a real outage looks to a client: no HTTP answer at all.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A shop's network switch, shared by the listener and whoever flips it.
#[derive(Clone, Default)]
pub struct NetworkSwitch(pub(crate) Arc<AtomicBool>);

impl NetworkSwitch {
    pub fn set_offline(&self, offline: bool) {
        self.0.store(offline, Ordering::SeqCst);
    }

    pub fn is_offline(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A TCP listener whose connections can be dropped from inside a handler.
pub(crate) struct SimListener {
    pub listener: TcpListener,
    /// The shop's network is down: new connections are closed at once and
    /// open ones fail, before any request reaches the store.
    pub offline: Arc<AtomicBool>,
}

/// An accepted connection with a kill switch: once set, every read and
/// write fails, so hyper abandons the connection without a response.
pub(crate) struct SimIo {
    stream: TcpStream,
    kill: Arc<AtomicBool>,
    offline: Arc<AtomicBool>,
}

impl SimIo {
    fn cut(&self) -> bool {
        self.kill.load(Ordering::SeqCst) || self.offline.load(Ordering::SeqCst)
    }
}

/// The kill switch of the connection a request came in on.
#[derive(Clone, Debug)]
pub(crate) struct ConnKill(Arc<AtomicBool>);

impl ConnKill {
    pub(crate) fn kill(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl axum::serve::Listener for SimListener {
    type Io = SimIo;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.listener.accept().await {
                // Offline: the connection is closed before a byte is read.
                Ok((stream, _)) if self.offline.load(Ordering::SeqCst) => drop(stream),
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let io = SimIo {
                        stream,
                        kill: Arc::new(AtomicBool::new(false)),
                        offline: self.offline.clone(),
                    };
                    return (io, addr);
                }
                // Too many open files and the like: back off briefly, as
                // axum's own listener does, instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

impl Connected<IncomingStream<'_, SimListener>> for ConnKill {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        ConnKill(stream.io().kill.clone())
    }
}

fn killed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection dropped by fault injection",
    )
}

impl AsyncRead for SimIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.cut() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.cut() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.cut() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
