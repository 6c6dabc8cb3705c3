//! Webhook subscriptions as `GET /webhooks` prints them (`webhook_single`,
//! `webhooks_list`): no secret, the hooks behind the topic.

use serde_json::Value;

use super::{ALLOW_ITEM, Ctx, Links, Obj, gmt, local, opt_gmt, opt_local};
use crate::woo::model::Webhook;

/// The WordPress actions a topic listens to (`get_default_topic_hooks`).
pub(crate) fn topic_hooks(topic: &str) -> Vec<&'static str> {
    match topic {
        "product.created" => vec![
            "woocommerce_process_product_meta",
            "woocommerce_new_product",
            "woocommerce_new_product_variation",
        ],
        "product.updated" => vec![
            "woocommerce_process_product_meta",
            "woocommerce_update_product",
            "woocommerce_update_product_variation",
        ],
        "product.deleted" | "coupon.deleted" => vec!["wp_trash_post"],
        "product.restored" | "coupon.restored" => vec!["untrashed_post"],
        "order.created" => vec!["woocommerce_new_order"],
        "order.updated" => vec!["woocommerce_update_order", "woocommerce_order_refunded"],
        "order.deleted" => vec!["wp_trash_post", "woocommerce_trash_order"],
        "order.restored" => vec!["untrashed_post", "woocommerce_untrash_order"],
        "customer.created" => vec![
            "user_register",
            "woocommerce_created_customer",
            "woocommerce_new_customer",
        ],
        "customer.updated" => vec!["profile_update", "woocommerce_update_customer"],
        "customer.deleted" => vec!["delete_user"],
        "coupon.created" => vec![
            "woocommerce_process_shop_coupon_meta",
            "woocommerce_new_coupon",
        ],
        "coupon.updated" => vec![
            "woocommerce_process_shop_coupon_meta",
            "woocommerce_update_coupon",
        ],
        _ => vec![],
    }
}

pub(crate) fn webhook(ctx: &Ctx<'_>, w: &Webhook) -> Value {
    let (resource, event) = w.topic.split_once('.').unwrap_or((w.topic.as_str(), ""));
    Obj::new()
        .set("id", w.id)
        .set("name", w.name.as_str())
        .set("status", w.status.as_str())
        .set("topic", w.topic.as_str())
        .set("resource", resource)
        .set("event", event)
        .set("hooks", topic_hooks(&w.topic))
        .set("delivery_url", w.delivery_url.as_str())
        .set("date_created", local(w.created))
        .set("date_created_gmt", gmt(w.created))
        .set("date_modified", opt_local(w.modified))
        .set("date_modified_gmt", opt_gmt(w.modified))
        .set(
            "_links",
            Links::new()
                .self_(ctx.rest(&format!("wc/v3/webhooks/{}", w.id)), ALLOW_ITEM)
                .link("collection", ctx.rest("wc/v3/webhooks"))
                .build(),
        )
        .build()
}
