//! First run without a store: the agent starts, lookups answer from the
//! empty replica, and the page opens on the set-up form, whose test says
//! what it found or why not, and whose save starts the first pull.

use possync::upstream::woo::probe::ConnectionFailure;
use possync_sim::woo::Sim;

use super::{Shop, data_dir, mirrored_products, sources};
use crate::common::small_sim;

#[tokio::test]
async fn a_new_till_starts_without_a_store_and_is_set_up_from_the_page() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path(), "", &[]);
    let shop = Shop::start(sim, dir, src).await;
    let saved = data_dir(shop.dir.path()).join("settings.toml");

    // Lookups answer from the empty replica.
    let res = shop
        .till
        .get(shop.url("/api/products?q=mug"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, page) = shop.page("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("Set up this till"), "{page}");
    assert!(page.contains("Not set up."), "{page}");
    for label in [
        "for=\"url\"",
        "for=\"consumer_key\"",
        "for=\"consumer_secret\"",
        "for=\"auth\"",
        "for=\"verify_tls\"",
        "for=\"home_url\"",
    ] {
        assert!(page.contains(label), "no label {label}");
    }

    let url = shop.sim.url().to_owned();
    let key = shop.sim.consumer_key().to_owned();
    let secret = shop.sim.consumer_secret().to_owned();
    // A wrong secret: the shop owner's sentence, nothing saved.
    let (status, page) = shop
        .post_form(
            "/setup",
            &[
                ("action", "test"),
                ("url", &url),
                ("consumer_key", &key),
                ("consumer_secret", "cs_wrong"),
                ("auth", "auto"),
                ("verify_tls", "yes"),
                ("home_url", ""),
            ],
        )
        .await;
    assert_eq!(status, 422, "{page}");
    let sentence = ConnectionFailure::WrongSecret.sentence();
    assert!(
        page.contains(&sentence.replace('\'', "&#39;")),
        "no wrong-secret sentence in {page}"
    );
    assert!(!page.contains("cs_wrong"), "the typed secret came back");
    assert!(!saved.exists());

    // A bad URL gets the file's message.
    let (status, page) = shop
        .post_form(
            "/setup",
            &[
                ("action", "test"),
                ("url", "shop.example.com"),
                ("consumer_key", "ck"),
                ("consumer_secret", "cs"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("store.url must be a URL such as https://shop.example.com"),
        "{page}"
    );

    // The right keys: what the test found, still nothing saved.
    let (status, page) = shop
        .post_form(
            "/setup",
            &[
                ("action", "test"),
                ("url", &url),
                ("consumer_key", &key),
                ("consumer_secret", &secret),
                ("auth", "auto"),
                ("verify_tls", "yes"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Connection works"), "{page}");
    assert!(page.contains(shop.sim.shop_name()), "{page}");
    assert!(page.contains("id=\"found-write\">yes<"), "{page}");
    assert!(
        !page.contains(&secret) && !page.contains(&key),
        "a key came back"
    );
    assert!(!saved.exists());

    // Save without typing the keys again: those of the test are kept.
    let (status, page) = shop
        .post_form(
            "/setup",
            &[
                ("action", "save"),
                ("url", &url),
                ("auth", "auto"),
                ("verify_tls", "yes"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{page}");
    assert!(page.contains("The first pull has started"), "{page}");
    assert!(page.contains("<strong>Active"), "{page}");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains(&url), "{text}");
    shop.pulled().await;
    let mirrored = mirrored_products(shop.app.store()).await;
    let mut published = shop.sim.product_ids(Some("publish"));
    published.sort_unstable();
    assert_eq!(mirrored, published);

    // After a restart the store is still set up and the page shows status.
    let shop = shop.restart().await;
    let (_, page) = shop.page("/").await;
    assert!(!page.contains("Set up this till"), "{page}");
    assert!(page.contains("id=\"deactivate\""), "{page}");
    shop.stop().await;
}

#[tokio::test]
async fn a_pull_started_from_the_page_resumes_after_a_restart_mid_pull() {
    use possync::sync::progress::PullState;
    // Pages that take a while, so the restart lands mid-pull.
    let sim = Sim::spawn(possync_sim::woo::SimConfig {
        faults: possync_sim::woo::FaultConfig {
            latency: std::time::Duration::from_millis(40),
            ..possync_sim::woo::FaultConfig::default()
        },
        ..small_sim()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path(), "", &[]);
    let shop = Shop::start(sim, dir, src).await;
    let url = shop.sim.url().to_owned();
    let key = shop.sim.consumer_key().to_owned();
    let secret = shop.sim.consumer_secret().to_owned();
    let (status, page) = shop
        .post_form(
            "/setup",
            &[
                ("action", "save"),
                ("url", &url),
                ("consumer_key", &key),
                ("consumer_secret", &secret),
            ],
        )
        .await;
    assert_eq!(status, 303, "{page}");
    crate::common::wait_for(
        "the pull to be under way",
        std::time::Duration::from_secs(30),
        || async {
            let p = shop.app.progress().borrow().clone();
            (p.state == PullState::Running && p.resources.iter().any(|r| r.items_done > 0))
                .then_some(())
        },
    )
    .await;
    let shop = shop.restart().await;
    // The page after the restart shows the resumed pull, then its end.
    shop.pulled().await;
    let (_, page) = shop.page("/").await;
    assert!(page.contains("id=\"pull-state\""), "{page}");
    let mirrored = mirrored_products(shop.app.store()).await;
    let mut published = shop.sim.product_ids(Some("publish"));
    published.sort_unstable();
    assert_eq!(mirrored, published);
    shop.stop().await;
}
