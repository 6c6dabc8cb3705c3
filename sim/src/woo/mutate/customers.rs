//! `POST/PUT/DELETE /customers`: WordPress users with the `customer` role,
//! unique e-mail addresses, and the messages WooCommerce answers with.

use super::input::{Input, apply_meta};
use super::{HookEvent, HookResource, Tx};
use crate::woo::model::{Address, Customer, Ids, Meta};
use crate::woo::routes::ApiError;
use serde_json::{Map, Value};

fn email_taken(tx: &Tx<'_>, email: &str, except: i64) -> bool {
    tx.store
        .customers
        .values()
        .any(|c| c.id != except && c.email.eq_ignore_ascii_case(email))
}

/// `sanitize_user` of the e-mail's local part, made unique
/// (`wc_create_new_customer_username`).
fn new_username(tx: &Tx<'_>, email: &str) -> String {
    let local = email.split('@').next().unwrap_or("customer");
    let base: String = local
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@'))
        .collect();
    let base = if base.is_empty() {
        "customer".to_owned()
    } else {
        base
    };
    let taken = |u: &str| tx.store.customers.values().any(|c| c.username == u);
    let mut name = base.clone();
    let mut n = 1;
    while taken(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

fn apply_address(a: &mut Address, posted: Option<&Map<String, Value>>) {
    let Some(posted) = posted else { return };
    let p = Input(posted);
    let fields: [(&str, &mut String); 11] = [
        ("first_name", &mut a.first_name),
        ("last_name", &mut a.last_name),
        ("company", &mut a.company),
        ("address_1", &mut a.address_1),
        ("address_2", &mut a.address_2),
        ("city", &mut a.city),
        ("state", &mut a.state),
        ("postcode", &mut a.postcode),
        ("country", &mut a.country),
        ("email", &mut a.email),
        ("phone", &mut a.phone),
    ];
    for (key, slot) in fields {
        if let Some(v) = p.str(key) {
            *slot = v;
        }
    }
}

pub(crate) fn apply_addresses(billing: &mut Address, shipping: &mut Address, inp: Input<'_>) {
    apply_address(billing, inp.object("billing"));
    apply_address(shipping, inp.object("shipping"));
    // The shipping address has no e-mail field.
    shipping.email.clear();
}

fn apply_customer(tx: &mut Tx<'_>, c: &mut Customer, inp: Input<'_>) {
    if let Some(v) = inp.str("first_name") {
        c.first_name = v;
    }
    if let Some(v) = inp.str("last_name") {
        c.last_name = v;
    }
    apply_addresses(&mut c.billing, &mut c.shipping, inp);
    apply_meta(
        &mut c.meta,
        &mut tx.store.ids.user_meta,
        &inp.objects("meta_data"),
    );
    let full = format!("{} {}", c.first_name, c.last_name);
    c.display_name = if full.trim().is_empty() {
        c.username.clone()
    } else {
        full.trim().to_owned()
    };
}

/// `POST /customers`. The e-mail must be new: WooCommerce answers 400
/// `registration-error-email-exists` otherwise (see the refund and
/// customer experiments in the fixtures).
pub(crate) fn create_customer(tx: &mut Tx<'_>, inp: Input<'_>) -> Result<i64, ApiError> {
    let email = inp.str("email").unwrap_or_default().trim().to_owned();
    if email_taken(tx, &email, 0) {
        return Err(ApiError::new(
            400,
            "registration-error-email-exists",
            format!(
                "An account is already registered with {email}. Please log in or use a different email address."
            ),
        ));
    }
    let username = match inp.str("username").filter(|u| !u.is_empty()) {
        Some(u) if tx.store.customers.values().any(|c| c.username == u) => {
            return Err(ApiError::new(
                400,
                "registration-error-username-exists",
                "An account is already registered with that username. Please choose another."
                    .to_owned(),
            ));
        }
        Some(u) => u,
        None => new_username(tx, &email),
    };
    let id = Ids::next(&mut tx.store.ids.user);
    // An account made without a password gets a generated one, and
    // WordPress flags it ("default_password_nag", as in the captures).
    let mut meta = Vec::new();
    if inp.str("password").is_none_or(|p| p.is_empty()) {
        meta.push(Meta {
            id: Ids::next(&mut tx.store.ids.user_meta),
            key: "default_password_nag".to_owned(),
            value: Value::String("1".to_owned()),
        });
    }
    let mut c = Customer {
        id,
        created: tx.now,
        modified: tx.now,
        email,
        first_name: String::new(),
        last_name: String::new(),
        role: "customer",
        username,
        display_name: String::new(),
        billing: Address::default(),
        shipping: Address::default(),
        is_paying_customer: false,
        meta,
    };
    apply_customer(tx, &mut c, inp);
    tx.store.customers.insert(id, c);
    tx.emit(HookResource::Customer, HookEvent::Created, id);
    Ok(id)
}

/// `PUT /customers/{id}`.
pub(crate) fn update_customer(tx: &mut Tx<'_>, id: i64, inp: Input<'_>) -> Result<(), ApiError> {
    let mut c = tx.store.customers.get(&id).cloned().ok_or_else(|| {
        ApiError::new(
            400,
            "woocommerce_rest_invalid_id",
            "Invalid resource ID.".to_owned(),
        )
    })?;
    if let Some(email) = inp.str("email").filter(|e| !e.is_empty()) {
        if email_taken(tx, &email, id) {
            return Err(ApiError::new(
                400,
                "woocommerce_rest_customer_invalid_email",
                "Email address is invalid.".to_owned(),
            ));
        }
        c.email = email;
    }
    if inp
        .str("username")
        .is_some_and(|u| !u.is_empty() && u != c.username)
    {
        return Err(ApiError::new(
            400,
            "woocommerce_rest_customer_invalid_argument",
            "Username isn't editable.".to_owned(),
        ));
    }
    apply_customer(tx, &mut c, inp);
    c.modified = tx.now;
    tx.store.customers.insert(id, c);
    tx.emit(HookResource::Customer, HookEvent::Updated, id);
    Ok(())
}

/// `DELETE /customers/{id}?force=true` (customers cannot be trashed; the
/// route answers 501 without `force`). `customer.deleted` fires
/// (`delete_user`). Their orders keep their `customer_id`.
pub(crate) fn delete_customer(tx: &mut Tx<'_>, id: i64) -> Result<(), ApiError> {
    if tx.store.customers.remove(&id).is_none() {
        return Err(ApiError::new(
            400,
            "woocommerce_rest_invalid_id",
            "Invalid resource id.".to_owned(),
        ));
    }
    tx.emit(HookResource::Customer, HookEvent::Deleted, id);
    Ok(())
}

/// An order named this customer: `customer.updated` fires and the user
/// is touched (as the captured deliveries show).
pub(crate) fn touch_customer(tx: &mut Tx<'_>, id: i64, paid: bool) {
    let now = tx.now;
    if let Some(c) = tx.store.customers.get_mut(&id) {
        c.modified = now;
        c.is_paying_customer |= paid;
        tx.emit(HookResource::Customer, HookEvent::Updated, id);
    }
}
