//! The back-office page as a shop owner uses it, over real HTTP against the
//! simulated store: the agent started from a file (as `possync run` is),
//! settings saved on the page and in force, where each value comes from,
//! activation, and the two store profiles.

pub mod browser;
mod browser_ops;
mod browser_queue;
mod browser_report;
mod dashboard;
mod demo;
mod operations;
mod queue;
mod report;
mod settings;
mod setup;

use std::path::{Path, PathBuf};
use std::time::Duration;

use possync::api::security::password;
use possync::config::Sources;
use possync::store::access;
use possync::sync::engine::InitialPull;
use possync::{App, AppOptions, RunningApp};
use possync_sim::woo::{Sim, SimConfig, SimHandle};

use crate::common::{any_port, client_with_token, create_token, small_sim, wait_for};
use crate::security::{PASSWORD, Session, bare_client, login_at};

/// An agent started from a `possync.toml` (and an environment), as
/// `possync run` starts, with an admin password and a logged-in manager.
pub struct Shop {
    pub app: RunningApp,
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
    pub sources: Sources,
    pub session: Session,
    /// No cookies kept, no redirects followed.
    pub http: reqwest::Client,
    pub till: reqwest::Client,
}

/// The `[store]` section for `sim`, polling every second.
pub fn store_section(section: &str, sim: &SimHandle) -> String {
    format!(
        "[{section}]\nurl = \"{}\"\nconsumer_key = \"{}\"\nconsumer_secret = \"{}\"\ntimeout_secs = 10\n",
        sim.url(),
        sim.consumer_key(),
        sim.consumer_secret()
    )
}

/// A config file in `dir` holding `text`, with the data directory beside it.
pub fn sources(dir: &Path, text: &str, env: &[(&str, &str)]) -> Sources {
    let file = dir.join("possync.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n[sync]\npage_size = 20\norder_window_days = 0\n[schedule]\nproducts_secs = 1\nvariations_secs = 1\norders_secs = 1\ncustomers_secs = 1\n{text}",
            data_dir(dir).display()
        ),
    )
    .unwrap();
    Sources {
        file: Some(file),
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        flags: Vec::new(),
    }
}

pub fn data_dir(dir: &Path) -> PathBuf {
    dir.join("data")
}

/// The id of the first product in the replica of `store` (the first simple
/// one when `simple`: a sale of it needs no variation).
pub async fn first_product(store: &possync::store::Store, simple: bool) -> i64 {
    let sql = if simple {
        "SELECT id FROM products WHERE type = 'simple' ORDER BY id LIMIT 1"
    } else {
        "SELECT id FROM products ORDER BY id LIMIT 1"
    };
    store
        .read(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}

/// The product ids mirrored in the replica of `store`, ascending.
pub async fn mirrored_products(store: &possync::store::Store) -> Vec<i64> {
    let mut ids: Vec<i64> = store
        .read(|c| possync::store::dump::raw_rows(c, possync::domain::Resource::Products))
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k.parse().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

impl Shop {
    /// A cash sale of the first simple product, through the till's API.
    pub async fn sell(&self) -> serde_json::Value {
        let id = first_product(self.app.store(), true).await;
        let res = self
            .till
            .post(self.url("/api/orders"))
            .json(&serde_json::json!({"lines": [{"product_id": id, "quantity": 1}], "payment_method": "cash"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }

    /// A small simulated shop and an agent set up for it in the file.
    pub async fn spawn(env: &[(&str, &str)]) -> Shop {
        let sim = Sim::spawn(small_sim()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let sources = sources(dir.path(), &store_section("store", &sim), env);
        Shop::start(sim, dir, sources).await
    }

    pub async fn start(sim: SimHandle, dir: tempfile::TempDir, sources: Sources) -> Shop {
        let app = App::spawn_from(
            sources.clone(),
            AppOptions {
                initial_pull: InitialPull::IfNeeded,
            },
        )
        .await
        .unwrap();
        let phc = password::hash(PASSWORD);
        app.store()
            .write(move |tx| access::set_admin_password(tx, &phc, 1))
            .await
            .unwrap();
        let http = bare_client();
        let session = login_at(&http, &app.url()).await;
        let name = format!("till-{}", possync::domain::time::unix_millis_now());
        let token = create_token(&app, &name).await;
        Shop {
            app,
            sim,
            dir,
            sources,
            session,
            http,
            till: client_with_token(&token),
        }
    }

    /// Stops the agent and starts it again from the same file and data
    /// directory (the page's saved settings included).
    pub async fn restart(self) -> Shop {
        let Shop {
            app,
            sim,
            dir,
            sources,
            ..
        } = self;
        app.shutdown().await;
        Shop::start(sim, dir, sources).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.url())
    }

    /// The page at `path` as the manager sees it.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let res = self
            .http
            .get(self.url(path))
            .header("cookie", &self.session.cookie)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// Posts a back-office form with the session's CSRF token; returns the
    /// status, the redirect target and the page (following one redirect,
    /// as a browser does, with the flash cookie).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", self.session.csrf.as_str())];
        form.extend_from_slice(fields);
        let res = self
            .http
            .post(self.url(path))
            .header("cookie", &self.session.cookie)
            .header("origin", self.app.url())
            .header("sec-fetch-site", "same-origin")
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        if status != 303 {
            return (status, res.text().await.unwrap());
        }
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        let flash = crate::security::set_cookie(&res, "possync_flash")
            .map(|c| crate::security::pair(&c))
            .unwrap_or_default();
        let page = self
            .http
            .get(self.url(&to))
            .header("cookie", format!("{}; {flash}", self.session.cookie))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        (303, page)
    }

    /// Waits for the first pull to end complete.
    pub async fn pulled(&self) {
        let p = wait_for("the pull to finish", Duration::from_secs(60), || async {
            let p = self.app.progress().borrow().clone();
            matches!(
                p.state,
                possync::sync::progress::PullState::Completed
                    | possync::sync::progress::PullState::Failed
            )
            .then_some(p)
        })
        .await;
        crate::common::assert_completed(&p);
    }

    /// GET requests the shop has received so far.
    pub fn shop_gets(&self) -> usize {
        self.sim.requests_with_method("GET").len()
    }

    pub async fn stop(self) {
        self.app.shutdown().await;
        self.sim.shutdown().await;
    }
}

/// A second, different simulated shop (the staging copy).
pub async fn staging_sim() -> SimHandle {
    Sim::spawn(SimConfig {
        listen: any_port(),
        seed: 99,
        products: 12,
        customers: 3,
        orders: 2,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}
