//! Customers (WordPress users as WooCommerce prints them).

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{ALLOW_ITEM, Ctx, Links, Obj, gmt, local, meta_list};
use crate::woo::model::{Address, Customer};

/// The customers endpoint orders address fields differently from orders:
/// `city, postcode, country, state`.
fn address(a: &Address, with_email: bool) -> Value {
    let mut o = Obj::new()
        .set("first_name", a.first_name.as_str())
        .set("last_name", a.last_name.as_str())
        .set("company", a.company.as_str())
        .set("address_1", a.address_1.as_str())
        .set("address_2", a.address_2.as_str())
        .set("city", a.city.as_str())
        .set("postcode", a.postcode.as_str())
        .set("country", a.country.as_str())
        .set("state", a.state.as_str());
    if with_email {
        o = o.set("email", a.email.as_str());
    }
    o.set("phone", a.phone.as_str()).build()
}

/// Gravatar URL: SHA-256 of the trimmed, lower-cased e-mail (WordPress 6.8+).
fn avatar_url(email: &str) -> String {
    let hash = Sha256::digest(email.trim().to_lowercase().as_bytes());
    format!(
        "https://secure.gravatar.com/avatar/{}?s=96&d=mm&r=g",
        hex::encode(hash)
    )
}

pub(crate) fn customer(ctx: &Ctx<'_>, c: &Customer) -> Value {
    Obj::new()
        .set("id", c.id)
        .set("date_created", local(c.created))
        .set("date_created_gmt", gmt(c.created))
        .set("date_modified", local(c.modified))
        .set("date_modified_gmt", gmt(c.modified))
        .set("email", c.email.as_str())
        .set("first_name", c.first_name.as_str())
        .set("last_name", c.last_name.as_str())
        .set("role", c.role)
        .set("username", c.username.as_str())
        .set("billing", address(&c.billing, true))
        .set("shipping", address(&c.shipping, false))
        .set("is_paying_customer", c.is_paying_customer)
        .set("avatar_url", avatar_url(&c.email))
        .set("meta_data", meta_list(&c.meta))
        .set(
            "_links",
            Links::new()
                .self_(ctx.rest(&format!("wc/v3/customers/{}", c.id)), ALLOW_ITEM)
                .link("collection", ctx.rest("wc/v3/customers"))
                .build(),
        )
        .build()
}
