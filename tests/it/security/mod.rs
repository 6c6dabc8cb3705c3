//! The local API's trust boundary over real HTTP: every route × every way a
//! caller can be wrong (table), the admin login, tokens from the command
//! line, a LAN bind, and the same attacks from a real browser.

pub mod browser;
mod fuzz;
mod login;
mod table;

use std::time::Duration;

use possync::api::security::password;
use possync::config::Config;
use possync::store::{access, dump};
use possync::sync::engine::InitialPull;
use possync::{App, AppOptions, RunningApp};

use crate::common::{any_port, client_with_token, create_token};

/// The password the tests log in with.
pub const PASSWORD: &str = "till-manager-secret";

/// An agent without a shop (nothing syncs in the background, so the
/// replica moves only when a request writes), with a token, a revoked
/// token and an admin password.
pub struct Guarded {
    pub app: RunningApp,
    pub dir: tempfile::TempDir,
    pub token: String,
    pub revoked: String,
    /// No credentials, no cookies, no redirects followed.
    pub bare: reqwest::Client,
}

impl Guarded {
    pub async fn spawn(tweak: impl FnOnce(&mut Config)) -> Guarded {
        let g = Guarded::fresh(tweak).await;
        let phc = password::hash(PASSWORD);
        g.app
            .store()
            .write(move |tx| access::set_admin_password(tx, &phc, 1))
            .await
            .unwrap();
        g
    }

    /// The same without an admin password (a first visit).
    pub async fn fresh(tweak: impl FnOnce(&mut Config)) -> Guarded {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(any_port(), dir.path().to_path_buf(), None);
        tweak(&mut config);
        let app = App::spawn(
            config,
            AppOptions {
                initial_pull: InitialPull::Never,
            },
        )
        .await
        .unwrap();
        let token = create_token(&app, "till-1").await;
        let revoked = create_token(&app, "old-till").await;
        assert!(
            app.store()
                .write(|tx| access::revoke_token(tx, "old-till"))
                .await
                .unwrap()
        );
        Guarded {
            app,
            dir,
            token,
            revoked,
            bare: bare_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.url())
    }

    pub fn with_token(&self) -> reqwest::Client {
        client_with_token(&self.token)
    }

    /// Row counts and content digest of the replica and outbox.
    pub async fn digest(&self) -> dump::Digest {
        self.app.store().read(dump::digest).await.unwrap()
    }

    /// Logs in through the forms as a browser would; returns the session.
    pub async fn login(&self) -> Session {
        login_at(&self.bare, &self.app.url()).await
    }
}

/// Logs in to the agent at `base` (whose password is [`PASSWORD`]) through
/// its forms, as a browser would.
pub async fn login_at(http: &reqwest::Client, base: &str) -> Session {
    {
        let form = LoginForm::get(http, &format!("{base}/")).await;
        let res = http
            .post(format!("{base}/login"))
            .header("cookie", form.cookie.clone())
            .form(&[("csrf_token", form.csrf.as_str()), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "logged in");
        let cookie = set_cookie(&res, "possync_session").expect("a session cookie");
        Session::read(http, &format!("{base}/"), cookie).await
    }
}

/// A client that keeps nothing between requests and follows no redirects.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `name=value` of the `Set-Cookie` for `name`, and the whole header.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The `name=value` pair of a `Set-Cookie` value.
pub fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// The value of the page's hidden `csrf_token` field (or meta tag).
pub fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .map(|i| i + "name=\"csrf_token\" value=\"".len())
        .expect("a csrf_token field");
    html[at..].split('"').next().unwrap().to_owned()
}

/// The login form as served: its pre-login cookie and token.
pub struct LoginForm {
    pub cookie: String,
    pub csrf: String,
    pub html: String,
}

impl LoginForm {
    pub async fn get(http: &reqwest::Client, url: &str) -> LoginForm {
        let res = http.get(url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let cookie = pair(&set_cookie(&res, "possync_login").expect("a login cookie"));
        let html = res.text().await.unwrap();
        LoginForm {
            cookie,
            csrf: csrf_in(&html),
            html,
        }
    }
}

/// A logged-in session: its cookie and CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub set_cookie: String,
}

impl Session {
    async fn read(http: &reqwest::Client, url: &str, set_cookie: String) -> Session {
        let cookie = pair(&set_cookie);
        let page = http
            .get(url)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        Session {
            csrf: csrf_in(&page),
            cookie,
            set_cookie,
        }
    }
}
