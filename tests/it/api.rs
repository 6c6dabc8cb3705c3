//! The local HTTP server as the back office and the till see it, and the
//! `possync demo` command end to end.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cli::possync;
use crate::common::{TestApp, assert_completed, small_sim, wait_for};

#[tokio::test]
async fn health_status_page_and_errors() {
    let t = TestApp::spawn(small_sim(), |_| {}).await;
    assert_completed(&t.pulled().await);

    let (status, health) = t.get_json("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert!(health["schema"].as_i64().unwrap() >= 1);

    let (status, body) = t.get_json("/api/sync/status").await;
    assert_eq!(status, 200);
    assert_eq!(body["pull"]["state"], "completed");
    assert_eq!(
        body["replica"]["counts"]["customers"],
        t.sim.customer_ids().len()
    );
    let text = body.to_string();
    assert!(
        !text.contains(t.sim.consumer_secret()) && !text.contains(t.sim.consumer_key()),
        "no key or secret on the status API"
    );
    assert_eq!(body["config"]["consumer_secret_set"], true);

    // The page sits behind the admin login.
    let phc = possync::api::security::password::hash(crate::security::PASSWORD);
    t.store()
        .write(move |tx| possync::store::access::set_admin_password(tx, &phc, 1))
        .await
        .unwrap();
    let bare = crate::security::bare_client();
    let session = crate::security::login_at(&bare, &t.app.url()).await;
    let page = bare
        .get(format!("{}/", t.app.url()))
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    // Its script is a file of its own (the CSP allows no inline code).
    assert!(html.contains("/assets/status.js"), "{html}");
    let script = bare
        .get(format!("{}/assets/status.js", t.app.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        script.contains("/api/sync/status"),
        "the page reads the status API"
    );

    let (status, body) = t.get_json("/no/such/thing").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());

    // Only GET is served on read-only routes.
    let res = t
        .http
        .post(format!("{}/api/sync/status", t.app.url()))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    t.stop().await;
}

#[tokio::test]
async fn demo_pulls_a_simulated_shop_serves_status_and_stops_cleanly_on_ctrl_c() {
    demo_runs_against("woocommerce").await;
}

/// `possync demo --shop <shop>`: the printed addresses work, the replica
/// fills, the demo's till sells and the shop confirms, Ctrl-C ends it.
async fn demo_runs_against(shop: &str) {
    let mut child = possync()
        .args([
            "demo",
            "--shop",
            shop,
            "--listen",
            "127.0.0.1:0",
            "--products",
            "120",
            "--customers",
            "20",
            "--orders",
            "40",
            "--latency-ms",
            "0",
            "--sale-every",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut replica = None;
    let mut url = None;
    let mut try_line = None;
    while try_line.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.recv())
            .await
            .expect("demo prints its addresses")
            .expect("demo keeps running");
        if let Some(p) = line.trim().strip_prefix("replica:") {
            replica = Some(std::path::PathBuf::from(p.trim()));
        }
        if let Some(u) = line.trim().strip_prefix("status page:") {
            url = Some(u.trim().trim_end_matches('/').to_owned());
        }
        if let Some(t) = line.trim().strip_prefix("try:") {
            try_line = Some(t.trim().to_owned());
        }
    }
    let (url, replica) = (url.unwrap(), replica.expect("replica path printed"));
    // The printed line: curl -H 'Authorization: Bearer TOKEN' 'URL'.
    let try_line = try_line.unwrap();
    let quoted: Vec<&str> = try_line.split('\'').skip(1).step_by(2).collect();
    let [auth, try_url] = quoted[..] else {
        panic!("not a curl line: {try_line}")
    };
    assert!(try_line.starts_with("curl -H "), "{try_line}");
    let token = auth.strip_prefix("Authorization: Bearer ").unwrap();
    let http = crate::common::client_with_token(token);
    let tried = reqwest::Client::new()
        .get(try_url)
        .header("authorization", auth.split_once(": ").unwrap().1)
        .send()
        .await
        .unwrap();
    assert_eq!(tried.status(), 200, "the printed curl line works");
    assert!(tried.json::<serde_json::Value>().await.is_ok());
    let status = wait_for("the demo pull", Duration::from_secs(60), || {
        let http = http.clone();
        let url = url.clone();
        async move {
            let body: serde_json::Value = http
                .get(format!("{url}/api/sync/status"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (body["pull"]["state"] == "completed").then_some(body)
        }
    })
    .await;
    assert!(status["replica"]["counts"]["products"].as_i64().unwrap() > 50);
    let health = http.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(replica.exists());
    // The demo's till rings up sales, and they reach the shop.
    let sold = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let line = lines.recv().await.expect("demo keeps running");
            if let Some(rest) = line.strip_prefix("till: sale ") {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
    })
    .await
    .expect("the demo rings up a sale");
    assert!(sold.starts_with("POS1-"), "{sold}");
    wait_for(
        "a demo sale confirmed by the shop",
        Duration::from_secs(30),
        || {
            let http = http.clone();
            let url = url.clone();
            async move {
                let body: serde_json::Value = http
                    .get(format!("{url}/api/outbox?state=confirmed"))
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                (!body["entries"].as_array()?.is_empty()).then_some(())
            }
        },
    )
    .await;

    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "Ctrl-C ends the demo cleanly: {exit:?}");
    assert!(
        !replica.parent().unwrap().exists(),
        "the demo's temporary replica is removed"
    );
}
