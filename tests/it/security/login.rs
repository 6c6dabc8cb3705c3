//! The back-office login as a manager meets it: the first visit sets the
//! password, the session cookie, logout, slowed-down guessing, a reset
//! from the command line; tokens from the command line; a LAN bind.

use std::io::Write;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use possync::config::Config;
use possync::store::access;
use possync::sync::engine::InitialPull;
use possync::{App, AppOptions};

use super::{Guarded, LoginForm, PASSWORD, pair, set_cookie};
use crate::cli::possync;
use crate::common::{any_port, client_with_token};

#[tokio::test]
async fn the_first_visit_sets_the_admin_password_and_logs_in() {
    let g = Guarded::fresh(|_| {}).await;
    let form = LoginForm::get(&g.bare, &g.url("/")).await;
    assert!(
        form.html.contains("set the admin password"),
        "{}",
        form.html
    );
    let post = |fields: Vec<(&'static str, String)>| {
        g.bare
            .post(g.url("/set-password"))
            .header("cookie", &form.cookie)
            .form(&fields)
            .send()
    };
    let csrf = || ("csrf_token", form.csrf.clone());
    let differ = post(vec![
        csrf(),
        ("password", "a long enough one".into()),
        ("confirm", "another long one".into()),
    ])
    .await
    .unwrap();
    assert_eq!(differ.status(), 422);
    assert!(
        differ
            .text()
            .await
            .unwrap()
            .contains("the two passwords differ")
    );
    let short = post(vec![
        csrf(),
        ("password", "short".into()),
        ("confirm", "short".into()),
    ])
    .await
    .unwrap();
    assert_eq!(short.status(), 422);
    assert!(
        g.app
            .store()
            .read(access::admin_password)
            .await
            .unwrap()
            .is_none()
    );

    let set = post(vec![
        csrf(),
        ("password", PASSWORD.into()),
        ("confirm", PASSWORD.into()),
    ])
    .await
    .unwrap();
    assert_eq!(set.status(), 303);
    let cookie = set_cookie(&set, "possync_session").expect("logged in at once");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "no TLS here: {cookie}");
    let page = g
        .bare
        .get(g.url("/"))
        .header("cookie", pair(&cookie))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("/assets/status.js") && page.contains("Log out"),
        "{page}"
    );

    let (phc, _) = g
        .app
        .store()
        .read(access::admin_password)
        .await
        .unwrap()
        .unwrap();
    assert!(
        phc.starts_with("$argon2id$") && !phc.contains(PASSWORD),
        "{phc}"
    );

    // A second first visit cannot replace it.
    let again = LoginForm::get(&g.bare, &g.url("/")).await;
    assert!(again.html.contains("Log in"), "the login form now");
    let res = g
        .bare
        .post(g.url("/set-password"))
        .header("cookie", &again.cookie)
        .form(&[
            ("csrf_token", again.csrf.as_str()),
            ("password", "an intruder's choice"),
            ("confirm", "an intruder's choice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let (still, _) = g
        .app
        .store()
        .read(access::admin_password)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still, phc);
}

#[tokio::test]
async fn secure_cookies_when_configured_for_tls() {
    let g = Guarded::spawn(|c| c.api.secure_cookies = true).await;
    let s = g.login().await;
    assert!(s.set_cookie.contains("; Secure"), "{}", s.set_cookie);
}

#[tokio::test]
async fn the_status_json_needs_the_session_or_a_token_and_logout_ends_the_session() {
    let g = Guarded::spawn(|_| {}).await;
    let url = g.url("/api/sync/status");
    assert_eq!(g.bare.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(g.with_token().get(&url).send().await.unwrap().status(), 200);
    let s = g.login().await;
    let with_session = g
        .bare
        .get(&url)
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(with_session.status(), 200);

    // Logout needs the session's CSRF token, too.
    let forged = g
        .bare
        .post(g.url("/logout"))
        .header("cookie", &s.cookie)
        .form(&[("csrf_token", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let out = g
        .bare
        .post(g.url("/logout"))
        .header("cookie", &s.cookie)
        .form(&[("csrf_token", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let cleared = set_cookie(&out, "possync_session").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = g
        .bare
        .get(&url)
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

/// A log writer the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread: the handlers log on the thread the subscriber is set on.
#[tokio::test(flavor = "current_thread")]
async fn failed_logins_slow_down_after_five_and_are_logged_without_the_password() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let g = Guarded::spawn(|_| {}).await;
    let attempt = |password: &'static str| async {
        let form = LoginForm::get(&g.bare, &g.url("/")).await;
        let res = g
            .bare
            .post(g.url("/login"))
            .header("cookie", &form.cookie)
            .form(&[("csrf_token", form.csrf.as_str()), ("password", password)])
            .send()
            .await
            .unwrap();
        (
            res.status().as_u16(),
            res.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
        )
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong-guess-1234").await, (401, None));
    }
    // After the fifth failure the next attempt waits: even the right
    // password is not checked yet.
    let (status, retry) = attempt(PASSWORD).await;
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("1"));

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("back-office login failed"), "{text}");
    assert!(text.contains("failures=5"), "{text}");
    assert!(text.contains("too many failed attempts"), "{text}");
    assert!(
        !text.contains("wrong-guess-1234") && !text.contains(PASSWORD),
        "{text}"
    );
}

#[tokio::test]
async fn a_login_without_the_forms_token_is_refused() {
    let g = Guarded::spawn(|_| {}).await;
    let form = LoginForm::get(&g.bare, &g.url("/")).await;
    // Another visitor's token (a forged form) does not match the cookie.
    let other = LoginForm::get(&g.bare, &g.url("/")).await;
    let res = g
        .bare
        .post(g.url("/login"))
        .header("cookie", &form.cookie)
        .form(&[("csrf_token", other.csrf.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(set_cookie(&res, "possync_session").is_none());
}

#[tokio::test]
async fn a_password_reset_from_the_command_line_ends_the_old_sessions() {
    let g = Guarded::spawn(|_| {}).await;
    let s = g.login().await;
    let mut child = possync()
        .args(["admin", "set-password", "--data-dir"])
        .arg(g.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a brand new password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = g
        .bare
        .get(g.url("/api/sync/status"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 401, "the old session ended");
    let (phc, _) = g
        .app
        .store()
        .read(access::admin_password)
        .await
        .unwrap()
        .unwrap();
    assert!(possync::api::security::password::verify(
        "a brand new password",
        &phc
    ));

    // Too short: refused, nothing changed.
    let mut child = possync()
        .args(["admin", "set-password", "--data-dir"])
        .arg(g.dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let (same, _) = g
        .app
        .store()
        .read(access::admin_password)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same, phc);
}

fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    possync()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap()
}

#[tokio::test]
async fn tokens_from_the_command_line_are_shown_once_listed_by_name_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let made = cli(dir.path(), &["tokens", "create", "--name", "till-7"]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let token = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("pst_"), "{token}");
    let again = cli(dir.path(), &["tokens", "create", "--name", "till-7"]);
    assert_eq!(again.status.code(), Some(2));
    let listed = String::from_utf8(cli(dir.path(), &["tokens", "list"]).stdout).unwrap();
    assert!(
        listed.contains("till-7") && !listed.contains(&token),
        "{listed}"
    );

    let app = App::spawn(
        Config::new(any_port(), dir.path().to_path_buf(), None),
        AppOptions {
            initial_pull: InitialPull::Never,
        },
    )
    .await
    .unwrap();
    let http = client_with_token(&token);
    let url = format!("{}/api/customers", app.url());
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    let revoked = cli(dir.path(), &["tokens", "revoke", "till-7"]);
    assert!(revoked.status.success());
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    let none = cli(dir.path(), &["tokens", "revoke", "till-7"]);
    assert_eq!(none.status.code(), Some(2));
    app.shutdown().await;
}

#[tokio::test]
async fn an_agent_listening_beyond_loopback_refuses_to_start_unless_tokens_are_required() {
    let dir = tempfile::tempdir().unwrap();
    let lan: std::net::SocketAddr = "0.0.0.0:0".parse().unwrap();
    let err = App::spawn(
        Config::new(lan, dir.path().to_path_buf(), None),
        AppOptions::default(),
    )
    .await
    .err()
    .expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("beyond loopback: set api.require_tokens = true"),
        "{text}"
    );
    assert!(!text.contains('\n'), "one line: {text}");

    let out = possync()
        .args(["run", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .env("POSSYNC_STORE_URL", "http://127.0.0.1:9")
        .env("POSSYNC_STORE_CONSUMER_KEY", "ck_x")
        .env("POSSYNC_STORE_CONSUMER_SECRET", "cs_x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("api.require_tokens"), "{stderr}");

    let mut config = Config::new(lan, dir.path().to_path_buf(), None);
    config.api.require_tokens = true;
    let app = App::spawn(config, AppOptions::default()).await.unwrap();
    app.shutdown().await;
}

#[tokio::test]
async fn the_settings_page_shows_the_settings_in_force_to_the_manager_only() {
    let g = Guarded::spawn(|c| c.till.settings.till_id = "front-desk-7".to_owned()).await;
    let url = g.url("/settings?tab=till");
    let anonymous = g.bare.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let s = g.login().await;
    let get = |url: String| {
        let (bare, cookie) = (&g.bare, &s.cookie);
        async move {
            let res = bare
                .get(&url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
            res.text().await.unwrap()
        }
    };
    let body = get(url).await;
    assert!(body.contains("<h2>Settings</h2>"), "{body}");
    assert!(body.contains(r#"value="front-desk-7""#), "{body}");
    assert!(
        body.contains(r#"id="tab-settings" aria-current="page""#),
        "{body}"
    );
    // No store yet: the banner says so, and no secret is set.
    assert!(body.contains("Not set up."), "{body}");
    let store_tab = get(g.url("/settings?tab=store")).await;
    assert!(
        store_tab.contains("<span class=\"secret-state\">not set.</span>"),
        "{store_tab}"
    );
    assert!(
        store_tab.contains(&format!(r#"value="{}""#, s.csrf)),
        "{store_tab}"
    );
}
