//! The same attacks from a real browser (headless Chromium through
//! chromedriver): a page on a second loopback origin tries cross-origin
//! writes and reads, a page whose name "rebinds" to the agent tries to read
//! it, and the manager logs in through the real page. Screenshots go to
//! `target/test-artifacts/security/`. Without Chromium the tests say so and
//! pass (`.ci/browser-deps.sh` installs it for CI).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{Guarded, PASSWORD};
use crate::common::wait_for;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The name the "rebinding" page is served under.
const REBIND_HOST: &str = "rebind.test";
const WITHIN: Duration = Duration::from_secs(30);

/// A headless Chromium session, ended (with its driver) on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a fresh Chromium, or `None` (with a visible
    /// skip line) when they are not installed.
    pub async fn start(test: &str, extra_args: &[String]) -> Option<Browser> {
        if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
            println!(
                "SKIPPED {test}: {CHROMIUM} or {CHROMEDRIVER} is not installed (run .ci/browser-deps.sh)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--no-proxy-server",
            "--window-size=1200,900",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra_args.iter().cloned());
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver answers once it listens; connect retries until then.
        let client = wait_for("chromedriver and chromium", WITHIN, || {
            let caps = caps.clone();
            let url = url.clone();
            async move {
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps)
                    .connect(&url)
                    .await
                    .ok()
            }
        })
        .await;
        Some(Browser {
            client,
            driver,
            _profile: profile,
        })
    }

    /// Saves a screenshot as `target/test-artifacts/security/NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        self.screenshot_in(&artifacts_dir(), name).await
    }

    /// Saves a screenshot as `DIR/NAME.png`.
    pub async fn screenshot_in(&self, dir: &Path, name: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

pub fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/security")
}

/// A hostile site on 127.0.0.2 at the agent's port: it serves its pages
/// until told to "rebind", then relays every new connection to the agent,
/// as a DNS name re-pointed at 127.0.0.1 would.
struct Evil {
    relay: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Evil {
    async fn spawn(agent: SocketAddr) -> Evil {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 2], agent.port())))
            .await
            .expect("127.0.0.2 at the agent's port");
        let relay = Arc::new(AtomicBool::new(false));
        let flag = relay.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let flag = flag.clone();
                tokio::spawn(async move {
                    let _ = serve(conn, agent, &flag).await;
                });
            }
        });
        Evil { relay, task }
    }

    fn url(&self, agent: SocketAddr, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", agent.port())
    }
}

impl Drop for Evil {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One connection: decided at its first request, not when it was opened
/// (a browser opens spare connections ahead of time).
async fn serve(mut conn: TcpStream, agent: SocketAddr, relay: &AtomicBool) -> std::io::Result<()> {
    let mut buf = vec![0u8; 8192];
    let n = conn.read(&mut buf).await?;
    if relay.load(Ordering::SeqCst) {
        let mut upstream = TcpStream::connect(agent).await?;
        upstream.write_all(&buf[..n]).await?;
        tokio::io::copy_bidirectional(&mut conn, &mut upstream).await?;
        return Ok(());
    }
    serve_page(conn, agent, &buf[..n]).await
}

/// The hostile pages, one request per connection.
async fn serve_page(mut conn: TcpStream, agent: SocketAddr, request: &[u8]) -> std::io::Result<()> {
    let head = String::from_utf8_lossy(request);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let agent_url = format!("http://127.0.0.1:{}", agent.port());
    let body = match path {
        "/xorigin" => XORIGIN_PAGE.replace("AGENT", &agent_url),
        _ => "<!doctype html><title>rebind</title><p id=out>waiting</p>".to_owned(),
    };
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(answer.as_bytes()).await?;
    conn.shutdown().await
}

/// Writes a sale-like customer three ways a web page can: a no-cors fetch
/// with a text/plain JSON body, a JSON fetch (which needs a preflight), a
/// read of the customers; then a classic form post, navigating the page.
const XORIGIN_PAGE: &str = r#"<!doctype html>
<title>not your shop</title>
<form id="f" method="post" action="AGENT/api/customers" enctype="text/plain">
<input type="hidden" name='{"first_name":"Eve","last_name":"Form","email":"eve@example.com","x":"' value='"}'>
</form>
<p id="out">running</p>
<script>
(async () => {
  const body = JSON.stringify({first_name: "Eve", last_name: "Fetch", email: "eve@example.com"});
  const results = [];
  try {
    await fetch("AGENT/api/customers", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body});
    results.push("nocors-sent");
  } catch (e) { results.push("nocors-error"); }
  try {
    const r = await fetch("AGENT/api/customers", {method: "POST", headers: {"Content-Type": "application/json"}, body});
    results.push("json-" + r.status);
  } catch (e) { results.push("json-blocked"); }
  try {
    const r = await fetch("AGENT/api/products");
    results.push("read-" + r.status + "-" + (await r.text()).length);
  } catch (e) { results.push("read-blocked"); }
  document.getElementById("out").textContent = results.join(" ");
  document.title = "done";
})();
</script>"#;

/// The text of the element `css` selects, once the page has one.
async fn element_text(b: &Browser, css: &str) -> Option<String> {
    b.client
        .find(Locator::Css(css))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_from_another_origin_cannot_write_or_read_and_a_rebound_name_is_refused() {
    let g = Guarded::spawn(|_| {}).await;
    let agent = g.app.addr();
    let rules = format!("--host-resolver-rules=MAP {REBIND_HOST} 127.0.0.2");
    let Some(b) = Browser::start(
        "a_page_from_another_origin_cannot_write_or_read_and_a_rebound_name_is_refused",
        &[rules],
    )
    .await
    else {
        return;
    };
    let evil = Evil::spawn(agent).await;
    let before = g.digest().await;

    // Cross-origin writes and reads from http://127.0.0.2:PORT.
    b.client
        .goto(&evil.url(agent, "127.0.0.2", "/xorigin"))
        .await
        .unwrap();
    let results = wait_for("the page's attempts", WITHIN, || async {
        element_text(&b, "#out").await.filter(|t| t != "running")
    })
    .await;
    b.screenshot("cross-origin-attempts").await;
    assert_eq!(
        results, "nocors-sent json-blocked read-blocked",
        "no-cors is sent blind, the preflighted write and the read are blocked"
    );
    assert_eq!(g.digest().await, before, "nothing was written");

    // The form post navigates to the agent's answer, which the driver reads.
    b.client
        .execute("document.getElementById('f').submit()", vec![])
        .await
        .unwrap();
    let answer = wait_for("the form's answer", WITHIN, || async {
        let src = b.client.source().await.ok()?;
        src.contains("error").then_some(src)
    })
    .await;
    b.screenshot("cross-origin-form-refused").await;
    assert!(answer.contains("cross_origin"), "{answer}");
    assert_eq!(g.digest().await, before, "nothing was written");

    // Rebinding: a page loaded from rebind.test, whose name then points at
    // the agent, reads "its own" origin.
    b.client
        .goto(&evil.url(agent, REBIND_HOST, "/rebind"))
        .await
        .unwrap();
    assert_eq!(element_text(&b, "#out").await.as_deref(), Some("waiting"));
    evil.relay.store(true, Ordering::SeqCst);
    let read = b
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               Promise.all(["/api/products", "/api/customers", "/healthz"].map(p =>
                 fetch(p, {cache: "no-store"}).then(async r => p + " " + r.status + " " + await r.text())
               )).then(all => { document.getElementById("out").textContent = all.join("\n"); done(all); },
                       e => done(["error " + e]));"#,
            vec![],
        )
        .await
        .unwrap();
    b.screenshot("rebinding-refused").await;
    let read: Vec<String> = serde_json::from_value(read).unwrap();
    assert_eq!(read.len(), 3, "{read:?}");
    for line in &read {
        assert!(
            line.contains(" 421 ") && line.contains("misdirected_request"),
            "{read:?}"
        );
    }
    assert_eq!(g.digest().await, before);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_sets_the_password_logs_out_and_logs_in_through_the_real_page() {
    let g = Guarded::fresh(|_| {}).await;
    let Some(b) = Browser::start(
        "the_manager_sets_the_password_logs_out_and_logs_in_through_the_real_page",
        &[],
    )
    .await
    else {
        return;
    };
    let type_in = |css: &'static str, text: &'static str| {
        let b = &b;
        async move {
            b.client
                .find(Locator::Css(css))
                .await
                .unwrap()
                .send_keys(text)
                .await
                .unwrap();
        }
    };
    let click = |css: &'static str| {
        let b = &b;
        async move {
            b.client
                .find(Locator::Css(css))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
    };
    let status_page_loaded = || async {
        let b = &b;
        b.client
            .wait()
            .at_most(WITHIN)
            .for_element(Locator::Css("#logout"))
            .await
            .unwrap();
        wait_for("the status page with its data", WITHIN, || async move {
            // The script filled the footer from /api/sync/status.
            element_text(b, "#agent").await.filter(|t| !t.is_empty())
        })
        .await
    };

    b.client.goto(&g.url("/")).await.unwrap();
    b.screenshot("first-visit").await;
    type_in("#password", PASSWORD).await;
    type_in("#confirm", PASSWORD).await;
    click("#submit").await;
    let footer = status_page_loaded().await;
    assert!(footer.contains("possync"), "{footer}");
    b.screenshot("status-after-first-visit").await;

    click("#logout").await;
    b.client
        .wait()
        .at_most(WITHIN)
        .for_element(Locator::Css("form[action='/login']"))
        .await
        .unwrap();
    type_in("#password", "not the password").await;
    click("#submit").await;
    let error = wait_for("the wrong-password message", WITHIN, || async {
        element_text(&b, "#error").await.filter(|t| !t.is_empty())
    })
    .await;
    assert_eq!(error, "Wrong password.");
    b.screenshot("wrong-password").await;

    type_in("#password", PASSWORD).await;
    click("#submit").await;
    status_page_loaded().await;
    b.screenshot("status-after-login").await;

    // The page ran under its CSP: the status JSON came with the session.
    let cookies = b.client.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "possync_session")
        .expect("a session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
    b.stop().await;
}
