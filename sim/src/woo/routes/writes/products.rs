//! Product and variation writes. Answers are `context=edit` renders, as
//! WooCommerce's CRUD controllers answer creates, updates and deletes
//! (see `event_product_update_response`, `delete_product_*_response`).

use serde_json::{Map, Value};

use super::batch::{self, BatchOps};
use super::schema::{self, Route};
use super::{WriteCall, WriteOut};
use crate::woo::mutate::{self, input::Input};
use crate::woo::render;
use crate::woo::routes::ApiError;

fn invalid_product(status: u16) -> ApiError {
    ApiError::new(
        status,
        "woocommerce_rest_product_invalid_id",
        "Invalid ID.".to_owned(),
    )
}

fn render_product(c: &WriteCall<'_, '_>, id: i64) -> Result<Value, ApiError> {
    let p = c
        .store()
        .products
        .get(&id)
        .ok_or_else(|| invalid_product(404))?;
    Ok(render::product_edit(&c.ctx, c.store(), p))
}

fn render_variation(c: &WriteCall<'_, '_>, id: i64) -> Result<Value, ApiError> {
    let v = c.store().variations.get(&id).ok_or_else(|| {
        ApiError::new(
            404,
            "woocommerce_rest_product_variation_invalid_id",
            "Invalid ID.".to_owned(),
        )
    })?;
    Ok(render::variation(&c.ctx, c.store(), v))
}

fn create_product(c: &mut WriteCall<'_, '_>, item: &Map<String, Value>) -> Result<Value, ApiError> {
    if Input(item).int("id").is_some_and(|id| id != 0) {
        return Err(ApiError::new(
            400,
            "woocommerce_rest_product_exists",
            "Cannot create existing product.".to_owned(),
        ));
    }
    let id = mutate::create_product(&mut c.tx, Input(item))?;
    render_product(c, id)
}

fn update_product(
    c: &mut WriteCall<'_, '_>,
    id: i64,
    item: &Map<String, Value>,
) -> Result<Value, ApiError> {
    mutate::update_product(&mut c.tx, id, Input(item))?;
    render_product(c, id)
}

/// Trash (410 when already trashed) or, with `force`, delete; the answer
/// is the product as it was.
fn delete_product(c: &mut WriteCall<'_, '_>, id: i64, force: bool) -> Result<Value, ApiError> {
    let before = render_product(c, id)?;
    if force {
        mutate::delete_product(&mut c.tx, id);
    } else if !mutate::trash_product(&mut c.tx, id) {
        return Err(ApiError::new(
            410,
            "woocommerce_rest_already_trashed",
            "The product has already been deleted.".to_owned(),
        ));
    }
    Ok(before)
}

fn location(c: &WriteCall<'_, '_>, route: &str) -> String {
    c.ctx.rest(route)
}

/// `POST /products`.
pub(crate) fn products_collection(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    schema::check(Route::Products, c.method, &c.input)?;
    let input = c.input.clone();
    let body = create_product(c, &input)?;
    let id = body["id"].as_i64().unwrap_or(0);
    Ok(WriteOut::created(
        body,
        location(c, &format!("wc/v3/products/{id}")),
    ))
}

/// `PUT|PATCH|POST|DELETE /products/{id}`.
pub(crate) fn product_item(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    let id = c.id(0);
    if c.is_delete() {
        schema::check(Route::Product, c.method, &c.input)?;
        let force = c.force();
        return delete_product(c, id, force).map(WriteOut::ok);
    }
    schema::check(Route::Product, c.method, &c.input)?;
    let input = c.input.clone();
    update_product(c, id, &input).map(WriteOut::ok)
}

/// `POST /products/batch`.
pub(crate) fn products_batch(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    batch::run(
        c,
        &BatchOps {
            create: create_product,
            update: update_product,
            delete: |c, id| delete_product(c, id, true),
        },
    )
}

fn create_variation(
    c: &mut WriteCall<'_, '_>,
    item: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let parent = c.id(0);
    let id = mutate::create_variation(&mut c.tx, parent, Input(item))?;
    render_variation(c, id)
}

fn update_variation(
    c: &mut WriteCall<'_, '_>,
    id: i64,
    item: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let parent = c.id(0);
    mutate::update_variation(&mut c.tx, parent, id, Input(item))?;
    render_variation(c, id)
}

fn delete_variation(c: &mut WriteCall<'_, '_>, id: i64, force: bool) -> Result<Value, ApiError> {
    let parent = c.id(0);
    let before = render_variation(c, id);
    mutate::delete_variation(&mut c.tx, parent, id, force)?;
    before
}

/// `POST /products/{id}/variations`.
pub(crate) fn variations_collection(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    schema::check(Route::Variations, c.method, &c.input)?;
    let input = c.input.clone();
    let body = create_variation(c, &input)?;
    let (parent, id) = (c.id(0), body["id"].as_i64().unwrap_or(0));
    Ok(WriteOut::created(
        body,
        location(c, &format!("wc/v3/products/{parent}/variations/{id}")),
    ))
}

/// `PUT|PATCH|POST|DELETE /products/{id}/variations/{id}`.
pub(crate) fn variation_item(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    let id = c.id(1);
    if c.is_delete() {
        schema::check(Route::Variation, c.method, &c.input)?;
        let force = c.force();
        return delete_variation(c, id, force).map(WriteOut::ok);
    }
    schema::check(Route::Variation, c.method, &c.input)?;
    let input = c.input.clone();
    update_variation(c, id, &input).map(WriteOut::ok)
}

/// `POST /products/{id}/variations/batch`.
pub(crate) fn variations_batch(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    batch::run(
        c,
        &BatchOps {
            create: create_variation,
            update: update_variation,
            delete: |c, id| delete_variation(c, id, true),
        },
    )
}
