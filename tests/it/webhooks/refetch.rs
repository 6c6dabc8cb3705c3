//! A delivery built after its object was force-deleted is the shop's REST
//! error without an id: the agent asks the shop which objects still exist
//! and removes the one that is gone.

use std::time::Duration;

use possync::domain::Resource;
use secrecy::SecretString;

use super::{HAND_SECRET, PATH, signed_headers};
use crate::common::{TestApp, assert_completed, small_sim, wait_for};

#[tokio::test]
async fn an_object_gone_before_delivery_is_found_by_id_and_removed() {
    let t = TestApp::spawn(small_sim(), |c| {
        c.webhooks.secret = Some(SecretString::from(HAND_SECRET.to_owned()));
    })
    .await;
    assert_completed(&t.pulled().await);
    let victim = t.replica_ids(Resource::Products).await[3];
    let before = t.replica_ids(Resource::Products).await.len();
    // Deleted for good: WooCommerce sends no deletion for this.
    t.sim.delete_product(victim);

    let body = br#"{"code":"woocommerce_rest_product_invalid_id","message":"Invalid ID.","data":{"status":404}}"#;
    let mut req = t.http.post(format!("{}{PATH}", t.app.url()));
    for (k, v) in signed_headers("product.updated", body, HAND_SECRET) {
        req = req.header(k, v);
    }
    assert_eq!(req.body(body.to_vec()).send().await.unwrap().status(), 200);

    let store = t.store().clone();
    let stats = wait_for("the refetch to settle", Duration::from_secs(20), || {
        let store = store.clone();
        async move {
            let s = store.inbox().stats(5).await.unwrap();
            (s.refetched == 1 && s.awaiting_refetch == 0).then_some(s)
        }
    })
    .await;
    assert_eq!(stats.failed, 0, "an error payload is not a parse failure");
    let after = t.replica_ids(Resource::Products).await;
    assert!(!after.contains(&victim));
    assert_eq!(after.len(), before - 1, "only the gone product is removed");
    // Asked by id, as the shop answers 404 for it.
    assert!(
        t.sim
            .requests()
            .iter()
            .any(|r| r.path.ends_with(&format!("/products/{victim}"))),
        "re-fetched by id"
    );
    t.stop().await;
}
