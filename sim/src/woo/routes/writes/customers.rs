//! Customer writes. Customers cannot be trashed: `DELETE` needs `force`
//! (`delete_customer_noforce_error`).

use serde_json::{Map, Value};

use super::batch::{self, BatchOps};
use super::schema::{self, Route};
use super::{WriteCall, WriteOut};
use crate::woo::mutate::{self, input::Input};
use crate::woo::render;
use crate::woo::routes::ApiError;

fn render_customer(c: &WriteCall<'_, '_>, id: i64) -> Result<Value, ApiError> {
    let u = c.store().customers.get(&id).ok_or_else(|| {
        ApiError::new(
            400,
            "woocommerce_rest_invalid_id",
            "Invalid resource id.".to_owned(),
        )
    })?;
    Ok(render::customer(&c.ctx, u))
}

fn create(c: &mut WriteCall<'_, '_>, item: &Map<String, Value>) -> Result<Value, ApiError> {
    if Input(item).int("id").is_some_and(|id| id != 0) {
        return Err(ApiError::new(
            400,
            "woocommerce_rest_customer_exists",
            "Cannot create existing resource.".to_owned(),
        ));
    }
    let id = mutate::create_customer(&mut c.tx, Input(item))?;
    render_customer(c, id)
}

fn update(
    c: &mut WriteCall<'_, '_>,
    id: i64,
    item: &Map<String, Value>,
) -> Result<Value, ApiError> {
    mutate::update_customer(&mut c.tx, id, Input(item))?;
    render_customer(c, id)
}

fn delete(c: &mut WriteCall<'_, '_>, id: i64, force: bool) -> Result<Value, ApiError> {
    if !force {
        return Err(ApiError::new(
            501,
            "woocommerce_rest_trash_not_supported",
            "Customers do not support trashing.".to_owned(),
        ));
    }
    let before = render_customer(c, id)?;
    mutate::delete_customer(&mut c.tx, id)?;
    Ok(before)
}

/// `POST /customers`.
pub(crate) fn customers_collection(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    schema::check(Route::Customers, c.method, &c.input)?;
    let input = c.input.clone();
    let body = create(c, &input)?;
    let id = body["id"].as_i64().unwrap_or(0);
    let location = c.ctx.rest(&format!("wc/v3/customers/{id}"));
    Ok(WriteOut::created(body, location))
}

/// `PUT|PATCH|POST|DELETE /customers/{id}`.
pub(crate) fn customer_item(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    let id = c.id(0);
    // The item routes' permission check looks the user up first
    // (`Users::get_user_in_current_site`): an unknown id is a 404 before
    // anything else is read. Batch items skip that check.
    if !c.store().customers.contains_key(&id) {
        return Err(crate::woo::routes::people::unknown_user());
    }
    if c.is_delete() {
        schema::check(Route::Customer, c.method, &c.input)?;
        let force = c.force();
        return delete(c, id, force).map(WriteOut::ok);
    }
    schema::check(Route::Customer, c.method, &c.input)?;
    let input = c.input.clone();
    update(c, id, &input).map(WriteOut::ok)
}

/// `POST /customers/batch`.
pub(crate) fn customers_batch(c: &mut WriteCall<'_, '_>) -> Result<WriteOut, ApiError> {
    batch::run(
        c,
        &BatchOps {
            create,
            update,
            delete: |c, id| delete(c, id, true),
        },
    )
}
