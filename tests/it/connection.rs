//! "Test connection" (`upstream::woo::probe::test_connection`) against the
//! simulated shop over loopback, and the two connection failures retrying
//! cannot fix: a refused TLS certificate and a name that does not resolve,
//! from the client up to `possync sync --full`.
//!
//! Every test asserts the failure's class and sentence, and that the shop's
//! data is the same afterwards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use possync::config::StoreConfig;
use possync::upstream::woo::client::WooClient;
use possync::upstream::woo::probe::{ConnectionFailure, ConnectionReport, test_connection};
use possync::upstream::{Upstream, UpstreamError};
use possync_sim::woo::{FaultKind, FaultRule, KeyPermissions, Sim, SimCounts, SimHandle};
use tokio_rustls::rustls;
use url::Url;

use crate::cli::possync;
use crate::common::small_sim;

/// Short enough for a test, long enough for a loaded machine.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Nothing here may take longer than this, whatever the resolver does.
const GUARD: Duration = Duration::from_secs(20);

fn store(url: &str, key: &str, secret: &str) -> StoreConfig {
    let mut s = StoreConfig::oauth1(Url::parse(url).unwrap(), key, secret);
    s.timeout = TIMEOUT;
    s
}

async fn test(store: &StoreConfig) -> ConnectionReport {
    tokio::time::timeout(GUARD, test_connection(store))
        .await
        .expect("test_connection answers within its timeout")
}

/// What the sim holds, and that no request changed it: every write the
/// test made was refused before a handler ran.
fn assert_unchanged(sim: &SimHandle, before: &SimCounts) {
    assert_eq!(&sim.counts(), before, "the shop's data changed");
    for r in sim.requests_with_method("POST") {
        assert!(
            matches!(r.status, 401 | 404) || r.fault.is_some(),
            "a write went through: {r:?}"
        );
    }
}

fn assert_failure(report: &ConnectionReport, failure: ConnectionFailure) {
    assert!(!report.ok, "{report:?}");
    assert_eq!(report.failure, Some(failure), "{report:?}");
    assert_eq!(report.message.as_deref(), Some(failure.sentence()));
    let json = serde_json::to_value(report).unwrap();
    assert_eq!(json["message"], failure.sentence());
}

#[tokio::test]
async fn right_keys_give_name_version_currency_read_and_write() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let before = sim.counts();
    let report = test(&store(
        &sim.url(),
        sim.consumer_key(),
        sim.consumer_secret(),
    ))
    .await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.failure, None);
    assert_eq!(report.message, None);
    assert_eq!(report.shop_name.as_deref(), Some(sim.shop_name()));
    assert_eq!(report.woocommerce_version.as_deref(), Some("11.0.1"));
    assert_eq!(report.currency.as_deref(), Some("GBP"));
    assert_eq!(
        (report.can_read, report.can_write),
        (Some(true), Some(true))
    );
    assert!(report.elapsed_ms < TIMEOUT.as_millis() as u64);
    // The write check ended at routing: no handler ran.
    let posts = sim.requests_with_method("POST");
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].status, 404);
    assert_unchanged(&sim, &before);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_read_only_key_reads_but_cannot_write() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let (key, secret) = sim.add_key(KeyPermissions::Read);
    let before = sim.counts();
    let report = test(&store(&sim.url(), &key, &secret)).await;
    assert_failure(&report, ConnectionFailure::ReadOnlyKey);
    assert_eq!(
        (report.can_read, report.can_write),
        (Some(true), Some(false))
    );
    // Version and currency are readable with a read key too.
    assert_eq!(report.currency.as_deref(), Some("GBP"));
    assert_eq!(report.woocommerce_version.as_deref(), Some("11.0.1"));
    assert_eq!(report.shop_name.as_deref(), Some(sim.shop_name()));
    assert!(
        report
            .detail
            .unwrap()
            .contains("does not have write permissions")
    );
    assert_unchanged(&sim, &before);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_write_only_key_writes_but_cannot_read() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let (key, secret) = sim.add_key(KeyPermissions::Write);
    let before = sim.counts();
    let report = test(&store(&sim.url(), &key, &secret)).await;
    assert_failure(&report, ConnectionFailure::WriteOnlyKey);
    assert_eq!(
        (report.can_read, report.can_write),
        (Some(false), Some(true))
    );
    assert_unchanged(&sim, &before);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_key_and_a_wrong_secret_are_told_apart() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let before = sim.counts();
    let wrong_key = test(&store(
        &sim.url(),
        "ck_ffffffffffffffffffffffffffffffffffffffff",
        sim.consumer_secret(),
    ))
    .await;
    assert_failure(&wrong_key, ConnectionFailure::WrongKey);
    assert!(
        wrong_key
            .detail
            .as_deref()
            .unwrap()
            .contains("Consumer key is invalid.")
    );
    let wrong_secret = test(&store(
        &sim.url(),
        sim.consumer_key(),
        "cs_ffffffffffffffffffffffffffffffffffffffff",
    ))
    .await;
    assert_failure(&wrong_secret, ConnectionFailure::WrongSecret);
    assert!(
        wrong_secret
            .detail
            .as_deref()
            .unwrap()
            .contains("provided signature does not match")
    );
    for r in [&wrong_key, &wrong_secret] {
        assert_eq!(r.can_read, None);
        // Still public: the index names the shop.
        assert_eq!(r.shop_name.as_deref(), Some(sim.shop_name()));
    }
    assert_unchanged(&sim, &before);
    sim.shutdown().await;
}

#[rstest::rstest]
#[case::html_page(FaultKind::HtmlPage, ConnectionFailure::HtmlPage)]
#[case::no_rest_api(FaultKind::RestApiNotFound, ConnectionFailure::NoRestApi)]
#[tokio::test]
async fn a_page_in_front_of_the_rest_api_is_named(
    #[case] fault: FaultKind,
    #[case] expected: ConnectionFailure,
) {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    sim.inject(FaultRule::new(fault).path("/wp-json").times(100));
    let before = sim.counts();
    let report = test(&store(
        &sim.url(),
        sim.consumer_key(),
        sim.consumer_secret(),
    ))
    .await;
    assert_failure(&report, expected);
    assert_eq!(report.shop_name, None);
    assert_unchanged(&sim, &before);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let report = test(&store(&format!("http://127.0.0.1:{port}"), "ck_x", "cs_x")).await;
    assert_failure(&report, ConnectionFailure::Unreachable);
    assert_eq!((report.can_read, report.can_write), (None, None));
}

/// A shop on loopback whose TLS certificate is self-signed; counts the
/// connections it accepts. It never gets as far as HTTP.
struct SelfSignedShop {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl SelfSignedShop {
    async fn spawn() -> SelfSignedShop {
        let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .unwrap();
        let key = rustls::pki_types::PrivatePkcs8KeyDer::from(signing_key.serialize_der());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key.into())
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                // The client refuses the certificate and closes.
                tokio::spawn(async move {
                    let _ = acceptor.accept(stream).await;
                });
            }
        });
        SelfSignedShop {
            addr,
            connections,
            task,
        }
    }

    fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for SelfSignedShop {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const TLS_SENTENCE: &str = "the shop's TLS certificate was refused (self-signed or expired): install a valid certificate, or set store.verify_tls = false for a test shop";
const NAME_SENTENCE: &str = "the shop's name does not resolve: check the store URL";

#[tokio::test]
async fn a_self_signed_certificate_is_the_tls_class_and_not_retried() {
    let shop = SelfSignedShop::spawn().await;
    let client = WooClient::new(&store(&shop.url(), "ck_x", "cs_x")).unwrap();
    let e = tokio::time::timeout(GUARD, client.probe())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, UpstreamError::Tls { .. }), "{e:?}");
    assert!(e.to_string().starts_with(TLS_SENTENCE), "{e}");
    assert!(e.needs_fix() && !e.is_transient() && e.never_sent());
    // The probe's three route checks, asked together, each tried once
    // (retries would make twelve); the first refusal ends the others.
    assert_eq!(client.requests_sent(), 3);
    assert!(
        (1..=3).contains(&shop.connections()),
        "{}",
        shop.connections()
    );

    let report = test(&store(&shop.url(), "ck_x", "cs_x")).await;
    assert_failure(&report, ConnectionFailure::TlsRefused);
    assert_eq!(ConnectionFailure::TlsRefused.sentence(), TLS_SENTENCE);

    // verify_tls = false is the way round it for a test shop: the handshake
    // then succeeds (and this shop just closes).
    let mut lax = store(&shop.url(), "ck_x", "cs_x");
    lax.verify_tls = false;
    let report = test(&lax).await;
    assert_ne!(
        report.failure,
        Some(ConnectionFailure::TlsRefused),
        "{report:?}"
    );
}

#[tokio::test]
async fn sync_full_against_a_self_signed_shop_fails_once_with_the_sentence() {
    let shop = SelfSignedShop::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("possync.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n\n[store]\nurl = \"{}\"\nconsumer_key = \"ck_x\"\nconsumer_secret = \"cs_x\"\ntimeout_secs = 5\n\n[sync]\n# One request at a time: the first refusal is the only connection.\nconcurrency = 1\n",
            dir.path().join("data").display(),
            shop.url()
        ),
    )
    .unwrap();
    let out = tokio::time::timeout(
        GUARD,
        tokio::task::spawn_blocking(move || {
            possync()
                .args(["sync", "--full", "--quiet", "--config"])
                .arg(&config)
                .output()
                .unwrap()
        }),
    )
    .await
    .expect("sync --full ends")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains(TLS_SENTENCE), "{stderr}");
    assert!(
        !stdout.contains("pulled"),
        "no summary of a failed pull:\n{stdout}"
    );
    assert_eq!(shop.connections(), 1, "tried once");
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_the_name_class() {
    // `.invalid` never resolves (RFC 2606): the local resolver answers at
    // once; the guard keeps a broken resolver from hanging the test.
    let url = "http://nonexistent.invalid";
    let client = WooClient::new(&store(url, "ck_x", "cs_x")).unwrap();
    let e = tokio::time::timeout(GUARD, client.probe())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, UpstreamError::NameNotResolved { .. }),
        "{e:?} (a resolver that cannot answer at all says so: that is Transient)"
    );
    assert!(e.to_string().starts_with(NAME_SENTENCE), "{e}");
    assert!(e.needs_fix() && !e.is_transient() && e.never_sent());
    assert_eq!(client.requests_sent(), 3, "not retried");

    let report = test(&store(url, "ck_x", "cs_x")).await;
    assert_failure(&report, ConnectionFailure::NameNotResolved);
    assert_eq!(ConnectionFailure::NameNotResolved.sentence(), NAME_SENTENCE);
}

#[tokio::test]
async fn possync_check_prints_the_same_findings() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = crate::cli::write_config(&sim, dir.path(), "");
    let check = |config: std::path::PathBuf| async move {
        let out = tokio::time::timeout(
            GUARD,
            tokio::task::spawn_blocking(move || {
                possync()
                    .arg("--config")
                    .arg(&config)
                    .arg("check")
                    .output()
                    .unwrap()
            }),
        )
        .await
        .expect("check ends")
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), stdout)
    };
    let (code, stdout) = check(config.clone()).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "shop: {} (WooCommerce 11.0.1, GBP)",
            sim.shop_name()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("key: read yes, write yes"), "{stdout}");

    let (key, secret) = sim.add_key(KeyPermissions::Read);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(sim.consumer_key(), &key)
        .replace(sim.consumer_secret(), &secret);
    std::fs::write(&config, text).unwrap();
    let (code, stdout) = check(config).await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("key: read yes, write no"), "{stdout}");
    assert!(
        stdout.contains(ConnectionFailure::ReadOnlyKey.sentence()),
        "{stdout}"
    );
    sim.shutdown().await;
}
