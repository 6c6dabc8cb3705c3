//! Products, variations, categories, tags, attributes and terms.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{
    ALLOW_ITEM, Ctx, Links, Obj, amount_html, gmt, local, meta_list, money, opt_gmt, opt_local,
    price,
};
use crate::woo::model::{
    Attribute, PostStatus, Pricing, Product, ProductType, Stock, Store, Term, Variation,
};
use crate::woo::pricing::round;

fn permalink(ctx: &Ctx<'_>, p: &Product) -> String {
    match p.status {
        PostStatus::Publish | PostStatus::Private => format!("{}/product/{}/", ctx.home, p.slug),
        _ => format!("{}/?post_type=product&p={}", ctx.home, p.id),
    }
}

fn variation_permalink(
    ctx: &Ctx<'_>,
    store: &Store,
    parent: Option<&Product>,
    v: &Variation,
) -> String {
    let base = parent.map_or_else(
        || format!("{}/?post_type=product&p={}", ctx.home, v.parent_id),
        |p| permalink(ctx, p),
    );
    let mut url = base;
    for (i, (attr_id, term_id)) in v.attributes.iter().enumerate() {
        let (Some(attr), Some(term)) = (
            store.attributes.iter().find(|a| a.id == *attr_id),
            store.attribute_terms.get(term_id),
        ) else {
            continue;
        };
        let sep = if i == 0 && !url.contains('?') {
            '?'
        } else {
            '&'
        };
        url.push_str(&format!("{sep}attribute_{}={}", attr.slug, term.slug));
    }
    url
}

/// A tax-inclusive price as shown in the shop: without the base-rate tax.
fn display(store: &Store, tax_class: &str, price: Decimal) -> Decimal {
    let rate = store.base_rate(tax_class);
    round(price * Decimal::from(100) / (Decimal::from(100) + rate), 2)
}

fn single_price_html(store: &Store, tax_class: &str, pricing: &Pricing, now: i64) -> String {
    let sym = &store.settings.currency_symbol_html;
    let Some(active) = pricing.active(now) else {
        return String::new();
    };
    if pricing.on_sale(now) {
        let regular = display(store, tax_class, pricing.regular.unwrap_or_default());
        let sale = display(store, tax_class, active);
        format!(
            "<del aria-hidden=\"true\">{}</del> <span class=\"screen-reader-text\">Original price was: {sym}{}.</span><ins aria-hidden=\"true\">{}</ins><span class=\"screen-reader-text\">Current price is: {sym}{}.</span>",
            amount_html(sym, regular),
            money(regular),
            amount_html(sym, sale),
            money(sale)
        )
    } else {
        amount_html(sym, display(store, tax_class, active))
    }
}

fn range_html(store: &Store, tax_class: &str, min: Decimal, max: Decimal) -> String {
    let sym = &store.settings.currency_symbol_html;
    let (lo, hi) = (
        display(store, tax_class, min),
        display(store, tax_class, max),
    );
    if lo == hi {
        return amount_html(sym, lo);
    }
    let hidden =
        |a: Decimal| amount_html(sym, a).replacen("amount\">", "amount\" aria-hidden=\"true\">", 1);
    format!(
        "{} <span aria-hidden=\"true\">&ndash;</span> {}<span class=\"screen-reader-text\">Price range: {sym}{} through {sym}{}</span>",
        hidden(lo),
        hidden(hi),
        money(lo),
        money(hi)
    )
}

fn dimensions(d: &[String; 3]) -> Value {
    json!({ "length": d[0], "width": d[1], "height": d[2] })
}

fn stock_fields(o: Obj, s: &Stock) -> Obj {
    o.set("manage_stock", s.manage)
        .set("stock_quantity", s.quantity)
        .set("backorders", s.backorders.as_str())
        .set("backorders_allowed", s.backorders_allowed())
        .set("backordered", s.backordered())
        .set("low_stock_amount", s.low_stock_amount)
}

fn sale_dates(o: Obj, p: &Pricing) -> Obj {
    o.set("date_on_sale_from", opt_local(p.sale_from))
        .set("date_on_sale_from_gmt", opt_gmt(p.sale_from))
        .set("date_on_sale_to", opt_local(p.sale_to))
        .set("date_on_sale_to_gmt", opt_gmt(p.sale_to))
}

fn term_refs(ids: &[i64], terms: &std::collections::BTreeMap<i64, Term>) -> Value {
    Value::Array(
        ids.iter()
            .filter_map(|id| terms.get(id))
            .map(|t| json!({ "id": t.id, "name": t.name, "slug": t.slug }))
            .collect(),
    )
}

fn attribute_of(store: &Store, id: i64) -> Option<&Attribute> {
    store.attributes.iter().find(|a| a.id == id)
}

/// `(attribute, term)` pairs as `{id, name, slug, option}`.
fn chosen_attributes(store: &Store, pairs: &[(i64, i64)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .filter_map(|(a, t)| Some((attribute_of(store, *a)?, store.attribute_terms.get(t)?)))
            .map(|(a, t)| json!({ "id": a.id, "name": a.name, "slug": a.slug, "option": t.name }))
            .collect(),
    )
}

/// Active prices of a variable or grouped product's visible children.
fn child_prices(store: &Store, p: &Product, now: i64) -> Vec<(Decimal, bool)> {
    match p.kind {
        ProductType::Variable => p
            .variation_ids
            .iter()
            .filter_map(|id| store.variations.get(id))
            .filter(|v| v.status == PostStatus::Publish)
            .filter_map(|v| Some((v.pricing.active(now)?, v.pricing.on_sale(now))))
            .collect(),
        ProductType::Grouped => p
            .grouped_ids
            .iter()
            .filter_map(|id| store.products.get(id))
            .filter_map(|c| Some((c.pricing.active(now)?, c.pricing.on_sale(now))))
            .collect(),
        _ => vec![],
    }
}

pub(crate) fn product(ctx: &Ctx<'_>, store: &Store, p: &Product) -> Value {
    let now = ctx.now;
    let (price_str, regular, sale, on_sale, html) = match p.kind {
        ProductType::Simple | ProductType::External => (
            price(p.pricing.active(now)),
            price(p.pricing.regular),
            price(p.pricing.sale),
            p.pricing.on_sale(now),
            single_price_html(store, &p.tax_class, &p.pricing, now),
        ),
        ProductType::Variable | ProductType::Grouped => {
            let prices = child_prices(store, p, now);
            let min = prices.iter().map(|x| x.0).min();
            let max = prices.iter().map(|x| x.0).max();
            let html = match (min, max) {
                (Some(lo), Some(hi)) => range_html(store, &p.tax_class, lo, hi),
                _ => String::new(),
            };
            (
                price(min),
                String::new(),
                String::new(),
                prices.iter().any(|x| x.1),
                html,
            )
        }
    };
    let purchasable = match p.kind {
        ProductType::Simple => !price_str.is_empty(),
        ProductType::Variable => !price_str.is_empty(),
        ProductType::Grouped | ProductType::External => false,
    };
    let shipping_required = !p.is_virtual;
    let attributes: Vec<Value> = p
        .attributes
        .iter()
        .filter_map(|pa| {
            let a = attribute_of(store, pa.attribute_id)?;
            let options: Vec<&str> = pa
                .term_ids
                .iter()
                .filter_map(|t| store.attribute_terms.get(t))
                .map(|t| t.name.as_str())
                .collect();
            Some(json!({
                "id": a.id, "name": a.name, "slug": a.slug, "position": pa.position,
                "visible": pa.visible, "variation": pa.variation, "options": options,
            }))
        })
        .collect();
    let variations: Vec<i64> = p
        .variation_ids
        .iter()
        .copied()
        .filter(|id| {
            store
                .variations
                .get(id)
                .is_some_and(|v| v.status != PostStatus::Trash)
        })
        .collect();
    let o = Obj::new()
        .set("id", p.id)
        .set("name", p.name.as_str())
        .set("slug", p.slug.as_str())
        .set("permalink", permalink(ctx, p))
        .set("date_created", local(p.created))
        .set("date_created_gmt", gmt(p.created))
        .set("date_modified", local(p.modified))
        .set("date_modified_gmt", gmt(p.modified))
        .set("type", p.kind.as_str())
        .set("status", p.status.as_str())
        .set("featured", p.featured)
        .set("catalog_visibility", "visible")
        .set("description", p.description.as_str())
        .set("short_description", p.short_description.as_str())
        .set("sku", p.sku.as_str())
        .set("price", price_str)
        .set("regular_price", regular)
        .set("sale_price", sale);
    let o = sale_dates(o, &p.pricing)
        .set("on_sale", on_sale)
        .set("purchasable", purchasable)
        .set("total_sales", p.total_sales)
        .set("virtual", p.is_virtual)
        .set("downloadable", p.downloadable)
        .set("downloads", json!([]))
        .set("download_limit", -1)
        .set("download_expiry", -1)
        .set("external_url", p.external_url.as_str())
        .set("button_text", p.button_text.as_str())
        .set("tax_status", p.tax_status)
        .set("tax_class", p.tax_class.as_str());
    stock_fields(o, &p.stock)
        .set("sold_individually", p.sold_individually)
        .set("weight", p.weight.as_str())
        .set("dimensions", dimensions(&p.dimensions))
        .set("shipping_required", shipping_required)
        .set(
            "shipping_taxable",
            shipping_required && p.tax_status == "taxable",
        )
        .set("shipping_class", "")
        .set("shipping_class_id", 0)
        .set("reviews_allowed", p.reviews_allowed)
        .set("average_rating", "0.00")
        .set("rating_count", 0)
        .set("upsell_ids", p.upsell_ids.clone())
        .set("cross_sell_ids", p.cross_sell_ids.clone())
        .set("parent_id", 0)
        .set("purchase_note", p.purchase_note.as_str())
        .set("categories", term_refs(&p.category_ids, &store.categories))
        .set("brands", json!([]))
        .set("tags", term_refs(&p.tag_ids, &store.tags))
        .set("images", json!([]))
        .set("attributes", attributes)
        .set(
            "default_attributes",
            chosen_attributes_default(store, &p.default_attributes),
        )
        .set("variations", variations)
        .set("grouped_products", p.grouped_ids.clone())
        .set("menu_order", p.menu_order)
        .set("price_html", html)
        .set("related_ids", p.related_ids.clone())
        .set("meta_data", meta_list(&p.meta))
        .set("stock_status", p.stock.status.as_str())
        .set("has_options", p.kind == ProductType::Variable)
        .set("post_password", "")
        .set("global_unique_id", p.global_unique_id.as_str())
        .set(
            "_links",
            Links::new()
                .self_(ctx.rest(&format!("wc/v3/products/{}", p.id)), ALLOW_ITEM)
                .link("collection", ctx.rest("wc/v3/products"))
                .build(),
        )
        .build()
}

/// A product in `context=edit`: two more fields, before `_links` (see the
/// captured PUT and DELETE responses).
pub(crate) fn product_edit(ctx: &Ctx<'_>, store: &Store, p: &Product) -> Value {
    let mut v = product(ctx, store, p);
    if let Value::Object(m) = &mut v {
        let links = m.shift_remove("_links");
        m.insert(
            "permalink_template".to_owned(),
            Value::from(format!("{}/product/%pagename%/", ctx.home)),
        );
        let generated = p.slug.strip_suffix("__trashed").unwrap_or(&p.slug);
        m.insert("generated_slug".to_owned(), Value::from(generated));
        if let Some(l) = links {
            m.insert("_links".to_owned(), l);
        }
    }
    v
}

/// `default_attributes` entries carry no slug.
fn chosen_attributes_default(store: &Store, pairs: &[(i64, i64)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .filter_map(|(a, t)| Some((attribute_of(store, *a)?, store.attribute_terms.get(t)?)))
            .map(|(a, t)| json!({ "id": a.id, "name": a.name, "option": t.name }))
            .collect(),
    )
}

fn variation_label(store: &Store, v: &Variation) -> String {
    v.attributes
        .iter()
        .filter_map(|(_, t)| store.attribute_terms.get(t))
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn variation_purchasable(store: &Store, v: &Variation, now: i64) -> bool {
    v.pricing.active(now).is_some()
        && v.status == PostStatus::Publish
        && store
            .products
            .get(&v.parent_id)
            .is_some_and(|p| p.status != PostStatus::Trash)
}

/// A variation as the variations endpoints print it.
pub(crate) fn variation(ctx: &Ctx<'_>, store: &Store, v: &Variation) -> Value {
    let now = ctx.now;
    let parent = store.products.get(&v.parent_id);
    let o = Obj::new()
        .set("id", v.id)
        .set("type", "variation")
        .set("date_created", local(v.created))
        .set("date_created_gmt", gmt(v.created))
        .set("date_modified", local(v.modified))
        .set("date_modified_gmt", gmt(v.modified))
        .set("description", v.description.as_str())
        .set("permalink", variation_permalink(ctx, store, parent, v))
        .set("sku", v.sku.as_str())
        .set("global_unique_id", v.global_unique_id.as_str())
        .set("price", price(v.pricing.active(now)))
        .set("regular_price", price(v.pricing.regular))
        .set("sale_price", price(v.pricing.sale));
    let o = sale_dates(o, &v.pricing)
        .set("on_sale", v.pricing.on_sale(now))
        .set("status", v.status.as_str())
        .set("purchasable", variation_purchasable(store, v, now))
        .set("virtual", v.is_virtual)
        .set("downloadable", v.downloadable)
        .set("downloads", json!([]))
        .set("download_limit", -1)
        .set("download_expiry", -1)
        .set("tax_status", v.tax_status)
        .set("tax_class", v.tax_class.as_str())
        .set("manage_stock", v.stock.manage)
        .set("stock_quantity", v.stock.quantity)
        .set("stock_status", v.stock.status.as_str())
        .set("backorders", v.stock.backorders.as_str())
        .set("backorders_allowed", v.stock.backorders_allowed())
        .set("backordered", v.stock.backordered())
        .set("low_stock_amount", v.stock.low_stock_amount)
        .set("weight", v.weight.as_str())
        .set("dimensions", dimensions(&v.dimensions))
        .set("shipping_class", "")
        .set("shipping_class_id", 0)
        .set("image", Value::Null)
        .set("gallery_image_ids", json!([]))
        .set("attributes", chosen_attributes(store, &v.attributes))
        .set("menu_order", v.menu_order)
        .set("meta_data", meta_list(&v.meta))
        .set("name", variation_label(store, v))
        .set("parent_id", v.parent_id);
    let base = format!("wc/v3/products/{}", v.parent_id);
    o.set(
        "_links",
        Links::new()
            .self_(ctx.rest(&format!("{base}/variations/{}", v.id)), ALLOW_ITEM)
            .link("collection", ctx.rest(&format!("{base}/variations")))
            .link("up", ctx.rest(&base))
            .build(),
    )
    .build()
}

/// A variation found through the products endpoint (`?sku=`, `?include=`):
/// the product schema with `type: "variation"` and the parent's name.
pub(crate) fn variation_as_product(ctx: &Ctx<'_>, store: &Store, v: &Variation) -> Value {
    let now = ctx.now;
    let parent = store.products.get(&v.parent_id);
    let parent_name = parent.map_or("", |p| p.name.as_str());
    let label = variation_label(store, v);
    let name = if label.is_empty() {
        parent_name.to_owned()
    } else {
        format!("{parent_name} - {label}")
    };
    let slug = crate::woo::data::slugify(&name);
    let shipping_required = !v.is_virtual;
    let o = Obj::new()
        .set("id", v.id)
        .set("name", name)
        .set("slug", slug)
        .set("permalink", variation_permalink(ctx, store, parent, v))
        .set("date_created", local(v.created))
        .set("date_created_gmt", gmt(v.created))
        .set("date_modified", local(v.modified))
        .set("date_modified_gmt", gmt(v.modified))
        .set("type", "variation")
        .set("status", v.status.as_str())
        .set("featured", false)
        .set("catalog_visibility", "visible")
        .set("description", v.description.as_str())
        .set("short_description", "")
        .set("sku", v.sku.as_str())
        .set("price", price(v.pricing.active(now)))
        .set("regular_price", price(v.pricing.regular))
        .set("sale_price", price(v.pricing.sale));
    let o = sale_dates(o, &v.pricing)
        .set("on_sale", v.pricing.on_sale(now))
        .set("purchasable", variation_purchasable(store, v, now))
        // Variations keep total_sales as a raw meta string here.
        .set("total_sales", v.total_sales.to_string())
        .set("virtual", v.is_virtual)
        .set("downloadable", v.downloadable)
        .set("downloads", json!([]))
        .set("download_limit", -1)
        .set("download_expiry", -1)
        .set("external_url", "")
        .set("button_text", "")
        .set("tax_status", v.tax_status)
        .set("tax_class", v.tax_class.as_str());
    stock_fields(o, &v.stock)
        .set("sold_individually", false)
        .set("weight", v.weight.as_str())
        .set("dimensions", dimensions(&v.dimensions))
        .set("shipping_required", shipping_required)
        .set(
            "shipping_taxable",
            shipping_required && v.tax_status == "taxable",
        )
        .set("shipping_class", "")
        .set("shipping_class_id", 0)
        .set("reviews_allowed", false)
        .set("average_rating", "0.00")
        .set("rating_count", 0)
        .set("upsell_ids", json!([]))
        .set("cross_sell_ids", json!([]))
        .set("parent_id", v.parent_id)
        .set("purchase_note", "")
        .set("categories", json!([]))
        .set("brands", json!([]))
        .set("tags", json!([]))
        .set("images", json!([]))
        .set("attributes", chosen_attributes(store, &v.attributes))
        .set("default_attributes", json!([]))
        .set("variations", json!([]))
        .set("grouped_products", json!([]))
        .set("menu_order", v.menu_order)
        .set(
            "price_html",
            single_price_html(store, &v.tax_class, &v.pricing, now),
        )
        .set("related_ids", json!([]))
        .set("meta_data", meta_list(&v.meta))
        .set("stock_status", v.stock.status.as_str())
        .set("has_options", false)
        .set("post_password", "")
        .set("global_unique_id", v.global_unique_id.as_str())
        .set(
            "_links",
            Links::new()
                .self_(ctx.rest(&format!("wc/v3/products/{}", v.id)), ALLOW_ITEM)
                .link("collection", ctx.rest("wc/v3/products"))
                .link("up", ctx.rest(&format!("wc/v3/products/{}", v.parent_id)))
                .build(),
        )
        .build()
}
