//! Orders and refunds, with their line, tax, shipping, fee and coupon items.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{
    ALLOW_GET_DELETE, ALLOW_ITEM, Ctx, Links, Obj, gmt, line_price, local, meta_list, money,
    opt_gmt, opt_local, php_number,
};
use crate::woo::model::{
    Address, CouponLine, FeeLine, ItemMeta, ItemTax, LineItem, Order, OrderStatus, Refund,
    ShippingLine, Store, TaxLine,
};

fn address(a: &Address, with_email: bool) -> Value {
    let mut o = Obj::new()
        .set("first_name", a.first_name.as_str())
        .set("last_name", a.last_name.as_str())
        .set("company", a.company.as_str())
        .set("address_1", a.address_1.as_str())
        .set("address_2", a.address_2.as_str())
        .set("city", a.city.as_str())
        .set("state", a.state.as_str())
        .set("postcode", a.postcode.as_str())
        .set("country", a.country.as_str());
    if with_email {
        o = o.set("email", a.email.as_str());
    }
    o.set("phone", a.phone.as_str()).build()
}

fn item_meta(meta: &[ItemMeta]) -> Value {
    Value::Array(
        meta.iter()
            .map(|m| {
                json!({
                    "id": m.id, "key": m.key, "value": m.value,
                    "display_key": m.display_key, "display_value": m.display_value,
                })
            })
            .collect(),
    )
}

fn taxes(t: &[ItemTax]) -> Value {
    Value::Array(
        t.iter()
            .map(|t| {
                json!({
                    "id": t.rate_id,
                    "total": money(t.total),
                    "subtotal": t.subtotal.map(money).unwrap_or_default(),
                })
            })
            .collect(),
    )
}

/// A product line. SKU, GTIN and image come from the product as it is now,
/// as WooCommerce reads them through `get_product()`.
fn line_item(store: &Store, l: &LineItem) -> Value {
    let variation = (l.variation_id != 0)
        .then(|| store.variations.get(&l.variation_id))
        .flatten();
    let product = store.products.get(&l.product_id);
    let (sku, gtin, image_id, parent_name) = match (variation, product) {
        (Some(v), p) => (
            Value::from(v.sku.as_str()),
            v.global_unique_id.as_str(),
            json!(0),
            p.map_or(Value::Null, |p| Value::from(p.name.as_str())),
        ),
        (None, Some(p)) if l.variation_id == 0 => (
            Value::from(p.sku.as_str()),
            p.global_unique_id.as_str(),
            json!(""),
            Value::Null,
        ),
        _ => (Value::Null, "", json!(0), Value::Null),
    };
    Obj::new()
        .set("id", l.id)
        .set("name", l.name.as_str())
        .set("product_id", l.product_id)
        .set("variation_id", l.variation_id)
        .set("quantity", l.quantity)
        .set("tax_class", l.tax_class.as_str())
        .set("subtotal", money(l.subtotal))
        .set("subtotal_tax", money(l.subtotal_tax))
        .set("total", money(l.total))
        .set("total_tax", money(l.total_tax))
        .set("taxes", taxes(&l.taxes))
        .set("meta_data", item_meta(&l.meta))
        .set("sku", sku)
        .set("global_unique_id", gtin)
        .set("price", line_price(l.total, l.quantity))
        .set("image", json!({ "id": image_id, "src": "" }))
        .set("parent_name", parent_name)
        .build()
}

fn tax_line(t: &TaxLine) -> Value {
    Obj::new()
        .set("id", t.id)
        .set("rate_code", t.rate_code.as_str())
        .set("rate_id", t.rate_id)
        .set("label", t.label.as_str())
        .set("compound", t.compound)
        .set("tax_total", money(t.tax_total))
        .set("shipping_tax_total", money(t.shipping_tax_total))
        .set("rate_percent", php_number(t.rate_percent))
        .set("meta_data", json!([]))
        .build()
}

fn shipping_line(s: &ShippingLine) -> Value {
    Obj::new()
        .set("id", s.id)
        .set("method_title", s.method_title.as_str())
        .set("method_id", s.method_id.as_str())
        .set("instance_id", s.instance_id.as_str())
        .set("total", money(s.total))
        .set("total_tax", money(s.total_tax))
        .set("taxes", taxes(&s.taxes))
        .set("tax_status", "taxable")
        .set("meta_data", json!([]))
        .build()
}

fn fee_line(f: &FeeLine) -> Value {
    Obj::new()
        .set("id", f.id)
        .set("name", f.name.as_str())
        .set("tax_class", "")
        .set("tax_status", "none")
        .set("amount", "")
        .set("total", money(f.total))
        .set("total_tax", "0.00")
        .set("taxes", json!([]))
        .set("meta_data", json!([]))
        .build()
}

fn coupon_line(c: &CouponLine) -> Value {
    Obj::new()
        .set("id", c.id)
        .set("code", c.code.as_str())
        .set("discount", money(c.discount))
        .set("discount_tax", money(c.discount_tax))
        .set("meta_data", item_meta(&c.meta))
        .set("discount_type", c.discount_type)
        .set("nominal_amount", php_number(c.nominal_amount))
        .set("free_shipping", false)
        .build()
}

fn list<T>(items: &[T], f: impl Fn(&T) -> Value) -> Value {
    Value::Array(items.iter().map(f).collect())
}

pub(crate) fn order(ctx: &Ctx<'_>, store: &Store, o: &Order) -> Value {
    let refunds: Vec<Value> = o
        .refund_ids
        .iter()
        .filter_map(|id| store.refunds.get(id))
        .map(|r| {
            json!({
                "id": r.id,
                "reason": r.reason,
                "total": format!("-{}", money(r.amount)),
                "total_tax": money(r.total_tax),
            })
        })
        .collect();
    let needs_payment =
        matches!(o.status, OrderStatus::Pending | OrderStatus::Failed) && o.total > Decimal::ZERO;
    let mut links = Links::new()
        .self_(ctx.rest(&format!("wc/v3/orders/{}", o.id)), ALLOW_ITEM)
        .link("collection", ctx.rest("wc/v3/orders"))
        .embeddable(
            "email_templates",
            ctx.rest(&format!("wc/v3/orders/{}/actions/email_templates", o.id)),
        );
    if o.customer_id != 0 {
        links = links.link(
            "customer",
            ctx.rest(&format!("wc/v3/customers/{}", o.customer_id)),
        );
    }
    if o.parent_id != 0 {
        links = links.link("up", ctx.rest(&format!("wc/v3/orders/{}", o.parent_id)));
    }
    Obj::new()
        .set("id", o.id)
        .set("parent_id", o.parent_id)
        .set("status", o.status.as_str())
        .set("currency", o.currency.as_str())
        .set("version", "11.0.1")
        .set("prices_include_tax", store.settings.prices_include_tax)
        .set("date_created", local(o.created))
        .set("date_modified", local(o.modified))
        .set("discount_total", money(o.discount_total))
        .set("discount_tax", money(o.discount_tax))
        .set("shipping_total", money(o.shipping_total))
        .set("shipping_tax", money(o.shipping_tax))
        .set("cart_tax", money(o.cart_tax))
        .set("total", money(o.total))
        .set("total_tax", money(o.total_tax))
        .set("customer_id", o.customer_id)
        .set("order_key", o.order_key.as_str())
        .set("billing", address(&o.billing, true))
        .set("shipping", address(&o.shipping, false))
        .set("payment_method", o.payment_method.as_str())
        .set("payment_method_title", o.payment_method_title.as_str())
        .set("transaction_id", o.transaction_id.as_str())
        .set("customer_ip_address", o.customer_ip_address.as_str())
        .set("customer_user_agent", o.customer_user_agent.as_str())
        .set("created_via", o.created_via.as_str())
        .set("customer_note", o.customer_note.as_str())
        .set("date_completed", opt_local(o.completed))
        .set("date_paid", opt_local(o.paid))
        .set("cart_hash", o.cart_hash.as_str())
        .set("number", o.id.to_string())
        .set("meta_data", meta_list(&o.meta))
        .set("line_items", list(&o.line_items, |l| line_item(store, l)))
        .set("tax_lines", list(&o.tax_lines, tax_line))
        .set("shipping_lines", list(&o.shipping_lines, shipping_line))
        .set("fee_lines", list(&o.fee_lines, fee_line))
        .set("coupon_lines", list(&o.coupon_lines, coupon_line))
        .set("refunds", refunds)
        .set(
            "payment_url",
            format!(
                "{}/checkout/order-pay/{}/?pay_for_order=true&key={}",
                ctx.home, o.id, o.order_key
            ),
        )
        .set("is_editable", o.status.is_editable())
        .set("needs_payment", needs_payment)
        .set("needs_processing", true)
        .set("date_created_gmt", gmt(o.created))
        .set("date_modified_gmt", gmt(o.modified))
        .set("date_completed_gmt", opt_gmt(o.completed))
        .set("date_paid_gmt", opt_gmt(o.paid))
        .set("currency_symbol", store.settings.currency_symbol.as_str())
        .set("_links", links.build())
        .build()
}

/// A refund; the flat `/refunds` list adds `parent_id` after `id`.
pub(crate) fn refund(ctx: &Ctx<'_>, store: &Store, r: &Refund, with_parent: bool) -> Value {
    let mut o = Obj::new().set("id", r.id);
    if with_parent {
        o = o.set("parent_id", r.parent_id);
    }
    let base = format!("wc/v3/orders/{}", r.parent_id);
    o.set("date_created", local(r.created))
        .set("date_created_gmt", gmt(r.created))
        .set("amount", money(r.amount))
        .set("reason", r.reason.as_str())
        .set("refunded_by", r.refunded_by)
        .set("refunded_payment", r.refunded_payment)
        .set("meta_data", meta_list(&r.meta))
        .set("line_items", list(&r.line_items, |l| line_item(store, l)))
        .set("shipping_lines", json!([]))
        .set("tax_lines", list(&r.tax_lines, tax_line))
        .set("fee_lines", json!([]))
        .set(
            "_links",
            Links::new()
                .self_(
                    ctx.rest(&format!("{base}/refunds/{}", r.id)),
                    ALLOW_GET_DELETE,
                )
                .link("collection", ctx.rest(&format!("{base}/refunds")))
                .link("up", ctx.rest(&base))
                .build(),
        )
        .build()
}
