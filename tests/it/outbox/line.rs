//! A line between the agent and a shop whose answers can be held back: a
//! TCP relay on loopback. A request goes through at once (the shop commits
//! it at once); when it is one of those to be held, the shop's answer
//! reaches the agent only after a delay, as on a slow or congested line.
//! Everything else passes as it is, including a connection the shop drops.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct Holds {
    /// Requests containing this text are held...
    needle: Vec<u8>,
    /// ...this many more times...
    left: usize,
    /// ...their answers this late.
    delay: Duration,
}

pub struct SlowLine {
    addr: SocketAddr,
    holds: Arc<Mutex<Holds>>,
    accept: JoinHandle<()>,
}

impl SlowLine {
    /// A line to the shop at `target` (`http://127.0.0.1:PORT`).
    pub async fn start(target: &str) -> SlowLine {
        let target: SocketAddr = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("a loopback address");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let holds = Arc::new(Mutex::new(Holds::default()));
        let h = holds.clone();
        let accept = tokio::spawn(async move {
            while let Ok((agent, _)) = listener.accept().await {
                let holds = h.clone();
                tokio::spawn(async move {
                    if let Ok(shop) = TcpStream::connect(target).await {
                        relay(agent, shop, holds).await;
                    }
                });
            }
        });
        SlowLine {
            addr,
            holds,
            accept,
        }
    }

    /// `http://127.0.0.1:PORT`, where the agent reaches the shop.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The answers to the next `times` requests containing `needle`
    /// reach the agent `delay` after the shop sent them.
    pub fn hold_answers(&self, needle: &str, times: usize, delay: Duration) {
        let mut h = self.holds.lock().unwrap();
        *h = Holds {
            needle: needle.as_bytes().to_vec(),
            left: times,
            delay,
        };
    }
}

impl Drop for SlowLine {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Copies both ways until either side closes. A held request marks the
/// connection, and the next bytes of answer wait out the delay (HTTP/1.1:
/// the next answer on a connection is the one to the last request).
async fn relay(agent: TcpStream, shop: TcpStream, holds: Arc<Mutex<Holds>>) {
    let _ = agent.set_nodelay(true);
    let _ = shop.set_nodelay(true);
    let (mut agent_rx, mut agent_tx) = agent.into_split();
    let (mut shop_rx, mut shop_tx) = shop.into_split();
    let pending: Arc<Mutex<Option<Duration>>> = Arc::default();
    let mark = pending.clone();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        // The end of the last chunk, so a needle split across two reads
        // is still seen.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = match agent_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut seen = std::mem::take(&mut tail);
            seen.extend_from_slice(&buf[..n]);
            {
                let mut h = holds.lock().unwrap();
                if h.left > 0
                    && !h.needle.is_empty()
                    && seen
                        .windows(h.needle.len())
                        .any(|w| w == h.needle.as_slice())
                {
                    h.left -= 1;
                    *mark.lock().unwrap() = Some(h.delay);
                }
                let keep = h.needle.len().saturating_sub(1).min(seen.len());
                tail = seen[seen.len() - keep..].to_vec();
            }
            if shop_tx.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = shop_tx.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match shop_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let held = pending.lock().unwrap().take();
            if let Some(delay) = held {
                tokio::time::sleep(delay).await;
            }
            if agent_tx.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = agent_tx.shutdown().await;
    };
    // A side that ends closes the other only through its own shutdown, so
    // a dropped answer stays a dropped connection.
    tokio::join!(up, down);
}
