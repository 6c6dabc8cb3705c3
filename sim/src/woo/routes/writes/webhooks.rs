//! `/webhooks`: subscriptions created, listed, changed and removed over
//! REST (the v3 webhooks controller). Creating an active webhook queues
//! the unsigned ping.

use serde_json::{Map, Value};

use super::batch::{self, BatchOps};
use super::schema::{self, Route};
use super::{WriteCall, WriteOut};
use crate::woo::clock::fmt_gmt;
use crate::woo::model::{Ids, Webhook, WebhookStatus};
use crate::woo::mutate::input::Input;
use crate::woo::render;
use crate::woo::routes::list::{CONTEXT, OFFSET, ORDER, PAGE, PER_PAGE, Paging, descending};
use crate::woo::routes::params::{Arg, Check, arg};
use crate::woo::routes::{ApiError, Call, Out};

pub(crate) const WEBHOOK_ARGS: &[Arg] = &[
    CONTEXT,
    PAGE,
    PER_PAGE,
    arg("search", Check::Str),
    arg("after", Check::Date),
    arg("before", Check::Date),
    arg("exclude", Check::None),
    arg("include", Check::None),
    OFFSET,
    ORDER,
    arg("orderby", Check::Enum(&["date", "id", "title"])),
    arg(
        "status",
        Check::Enum(&["all", "active", "paused", "disabled"]),
    ),
];

fn invalid_id(status: u16) -> ApiError {
    ApiError::new(
        status,
        "woocommerce_rest_shop_webhook_invalid_id",
        "Invalid ID.".to_owned(),
    )
}

/// `GET /webhooks`: newest first by default.
pub(crate) fn list_webhooks(c: &Call<'_>) -> Result<Out, ApiError> {
    let p = c.params;
    let status = p.str("status").unwrap_or("all");
    let include = p.ids("include");
    let exclude = p.ids("exclude");
    let mut rows: Vec<&Webhook> = c
        .store
        .webhooks
        .values()
        .filter(|w| status == "all" || w.status.as_str() == status)
        .filter(|w| include.is_empty() || include.contains(&w.id))
        .filter(|w| !exclude.contains(&w.id))
        .collect();
    rows.sort_by_key(|w| (w.created, w.id));
    if descending(p, true) {
        rows.reverse();
    }
    Ok(Out::List(
        Paging::from(p).cut(rows, |w| render::webhook(&c.ctx, w)),
    ))
}

/// `GET /webhooks/{id}`.
pub(crate) fn get_webhook(c: &Call<'_>) -> Result<Out, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(0);
    let w = c.store.webhooks.get(&id).ok_or_else(|| invalid_id(404))?;
    Ok(Out::Json(render::webhook(&c.ctx, w)))
}

/// The topics `WC_Webhook::get_default_topic_hooks()` wires to a delivery
/// hook (WooCommerce 11.0.1).
const DEFAULT_TOPICS: &[&str] = &[
    "coupon.created",
    "coupon.updated",
    "coupon.deleted",
    "coupon.restored",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "product.created",
    "product.updated",
    "product.deleted",
    "product.restored",
    "product.published",
];

/// `wc_is_webhook_valid_topic` (WooCommerce 11): a default resource with a
/// default event is valid only when a hook delivers it, so
/// `customer.restored` and `order.published` are refused.
fn valid_topic(topic: &str) -> bool {
    const INVALID: &[&str] = &[
        "action.woocommerce_login_credentials",
        "action.woocommerce_product_csv_importer_check_import_file_path",
        "action.woocommerce_webhook_should_deliver",
    ];
    if INVALID.contains(&topic) {
        return false;
    }
    if topic.starts_with("action.woocommerce_") || topic.starts_with("action.wc_") {
        return true;
    }
    DEFAULT_TOPICS.contains(&topic)
}

fn valid_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// `wp_generate_password( 50, true, true )`, derived from the id and time
/// (the sim has no secret RNG, and need none).
fn generated_secret(id: i64, now: i64) -> String {
    use sha2::{Digest, Sha256};
    const CHARS: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|";
    let mut out = String::new();
    let mut round = 0u32;
    while out.len() < 50 {
        let d = Sha256::digest(format!("{id}:{now}:{round}").as_bytes());
        out.extend(d.iter().map(|b| CHARS[*b as usize % CHARS.len()] as char));
        round += 1;
    }
    out.truncate(50);
    out
}

fn apply(w: &mut Webhook, inp: Input<'_>) -> Result<(), ApiError> {
    if let Some(topic) = inp.str("topic") {
        let topic = topic.to_lowercase();
        if !valid_topic(&topic) {
            return Err(ApiError::new(
                400,
                "woocommerce_rest_shop_webhook_invalid_topic",
                "Webhook topic is required and must be valid.".to_owned(),
            ));
        }
        w.topic = topic;
    }
    if let Some(url) = inp.str("delivery_url") {
        if !valid_url(&url) {
            return Err(ApiError::new(
                400,
                "woocommerce_rest_shop_webhook_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://."
                    .to_owned(),
            ));
        }
        w.delivery_url = url;
    }
    if let Some(name) = inp.str("name") {
        w.name = name;
    }
    if let Some(secret) = inp.str("secret") {
        w.secret = secret;
    }
    if let Some(status) = inp.str("status").and_then(|s| WebhookStatus::parse(&s)) {
        w.status = status;
    }
    Ok(())
}

fn create(c: &mut WriteCall<'_, '_>, item: &Map<String, Value>) -> Result<Value, ApiError> {
    let inp = Input(item);
    if inp.int("id").is_some_and(|id| id != 0) {
        return Err(ApiError::new(
            400,
            "woocommerce_rest_shop_webhook_exists",
            "Cannot create existing shop_webhook.".to_owned(),
        ));
    }
    let now = c.tx.now;
    let mut w = Webhook {
        id: 0,
        name: String::new(),
        status: WebhookStatus::Active,
        topic: String::new(),
        delivery_url: String::new(),
        secret: String::new(),
        created: now,
        modified: None,
        failure_count: 0,
    };
    if inp.str("topic").is_none() {
        // The topic check runs on the empty value and fails.
        apply(
            &mut w,
            Input(&Map::from_iter([("topic".to_owned(), Value::from(""))])),
        )?;
    }
    if inp.str("delivery_url").is_none() {
        apply(
            &mut w,
            Input(&Map::from_iter([(
                "delivery_url".to_owned(),
                Value::from(""),
            )])),
        )?;
    }
    apply(&mut w, inp)?;
    w.id = Ids::next(&mut c.tx.store.ids.webhook);
    if w.name.is_empty() {
        w.name = format!("Webhook created on {}", fmt_gmt(now));
    }
    if w.secret.is_empty() {
        w.secret = generated_secret(w.id, now);
    }
    let id = w.id;
    if w.status == WebhookStatus::Active {
        c.tx.pings.push(id);
    }
    c.tx.store.webhooks.insert(id, w);
    Ok(render::webhook(&c.ctx, &c.tx.store.webhooks[&id]))
}

fn update(
    c: &mut WriteCall<'_, '_>,
    id: i64,
    item: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let now = c.tx.now;
    let mut w =
        c.tx.store
            .webhooks
            .get(&id)
            .cloned()
            .ok_or_else(|| invalid_id(400))?;
    apply(&mut w, Input(item))?;
    w.modified = Some(now);
    c.tx.store.webhooks.insert(id, w);
    Ok(render::webhook(&c.ctx, &c.tx.store.webhooks[&id]))
}

fn delete(c: &mut WriteCall<'_, '_>, id: i64, force: bool) -> Result<Value, ApiError> {
    if !force {
        return Err(ApiError::new(
            501,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.".to_owned(),
        ));
    }
    let w =
        c.tx.store
            .webhooks
            .remove(&id)
            .ok_or_else(|| invalid_id(404))?;
    Ok(render::webhook(&c.ctx, &w))
}

/// `POST /webhooks`.
pub(crate) fn webhooks_collection(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    schema::check(Route::Webhooks, c.method, &c.input)?;
    let input = c.input.clone();
    let body = create(c, &input)?;
    let id = body["id"].as_i64().unwrap_or(0);
    let location = c.ctx.rest(&format!("wc/v3/webhooks/{id}"));
    Ok(WriteOut::created(body, location))
}

/// `PUT|PATCH|POST|DELETE /webhooks/{id}`.
pub(crate) fn webhook_item(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    let id = c.id(0);
    if c.is_delete() {
        schema::check(Route::Webhook, c.method, &c.input)?;
        let force = c.force();
        return delete(c, id, force).map(WriteOut::ok);
    }
    schema::check(Route::Webhook, c.method, &c.input)?;
    let input = c.input.clone();
    update(c, id, &input).map(WriteOut::ok)
}

/// `POST /webhooks/batch`.
pub(crate) fn webhooks_batch(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    batch::run(
        c,
        &BatchOps {
            create,
            update,
            delete: |c, id| delete(c, id, true),
        },
    )
}
