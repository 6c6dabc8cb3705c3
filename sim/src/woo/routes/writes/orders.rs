//! Order and refund writes.

use serde_json::{Map, Value};

use super::batch::{self, BatchOps};
use super::schema::{self, Route};
use super::{WriteCall, WriteOut};
use crate::woo::mutate::{self, input::Input};
use crate::woo::render;
use crate::woo::routes::ApiError;

fn render_order(c: &WriteCall<'_, '_>, id: i64) -> Result<Value, ApiError> {
    let o = c.store().orders.get(&id).ok_or_else(|| {
        ApiError::new(
            404,
            "woocommerce_rest_shop_order_invalid_id",
            "Invalid ID.".to_owned(),
        )
    })?;
    Ok(render::order(&c.ctx, c.store(), o))
}

fn create(c: &mut WriteCall<'_, '_>, item: &Map<String, Value>) -> Result<Value, ApiError> {
    let id = mutate::create_order(&mut c.tx, Input(item))?;
    render_order(c, id)
}

fn update(
    c: &mut WriteCall<'_, '_>,
    id: i64,
    item: &Map<String, Value>,
) -> Result<Value, ApiError> {
    mutate::update_order(&mut c.tx, id, Input(item))?;
    render_order(c, id)
}

fn delete(c: &mut WriteCall<'_, '_>, id: i64, force: bool) -> Result<Value, ApiError> {
    let before = render_order(c, id)?;
    if force {
        mutate::delete_order(&mut c.tx, id)?;
    } else {
        mutate::trash_order(&mut c.tx, id)?;
    }
    Ok(before)
}

/// `POST /orders`.
pub(crate) fn orders_collection(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    schema::check(Route::Orders, c.method, &c.input)?;
    let input = c.input.clone();
    let body = create(c, &input)?;
    let id = body["id"].as_i64().unwrap_or(0);
    let location = c.ctx.rest(&format!("wc/v3/orders/{id}"));
    Ok(WriteOut::created(body, location))
}

/// `PUT|PATCH|POST|DELETE /orders/{id}`.
pub(crate) fn order_item(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    let id = c.id(0);
    if c.is_delete() {
        schema::check(Route::Order, c.method, &c.input)?;
        let force = c.force();
        return delete(c, id, force).map(WriteOut::ok);
    }
    schema::check(Route::Order, c.method, &c.input)?;
    let input = c.input.clone();
    update(c, id, &input).map(WriteOut::ok)
}

/// `POST /orders/batch`.
pub(crate) fn orders_batch(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    batch::run(
        c,
        &BatchOps {
            create,
            update,
            delete: |c, id| delete(c, id, true),
        },
    )
}

/// `POST /orders/{id}/refunds`.
pub(crate) fn refunds_collection(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    schema::check(Route::Refunds, c.method, &c.input)?;
    let order_id = c.id(0);
    let input = c.input.clone();
    let id = mutate::create_refund(&mut c.tx, order_id, Input(&input))?;
    let r = &c.store().refunds[&id];
    let body = render::refund(&c.ctx, c.store(), r, false);
    let location = c.ctx.rest(&format!("wc/v3/orders/{order_id}/refunds/{id}"));
    Ok(WriteOut::created(body, location))
}

/// `DELETE /orders/{id}/refunds/{id}`: refunds cannot be trashed; with
/// `force` the refund goes and the order is saved (`order.updated`).
pub(crate) fn refund_item(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    schema::check(Route::Refund, c.method, &c.input)?;
    let (order_id, id) = (c.id(0), c.id(1));
    if !c.force() {
        return Err(ApiError::new(
            501,
            "woocommerce_rest_trash_not_supported",
            "Refunds do not support trashing.".to_owned(),
        ));
    }
    let r = c
        .store()
        .refunds
        .get(&id)
        .filter(|r| r.parent_id == order_id)
        .ok_or_else(|| {
            ApiError::new(
                404,
                "woocommerce_rest_shop_order_refund_invalid_id",
                "Invalid ID.".to_owned(),
            )
        })?;
    let body = render::refund(&c.ctx, c.store(), r, false);
    mutate::delete_refund(&mut c.tx, order_id, id);
    Ok(WriteOut::ok(body))
}
