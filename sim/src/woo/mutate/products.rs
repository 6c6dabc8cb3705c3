//! `POST/PUT /products`: WooCommerce's `prepare_object_for_database` for
//! the fields the sim models, with SKU and GTIN uniqueness.

use serde_json::json;

use super::catalog::{blank_product, forget_sku, sku_owner, unique_product_slug, unique_sku};
use super::input::{Input, apply_meta};
use super::{HookEvent, HookResource, Tx};
use crate::woo::model::{
    Backorders, PostStatus, Pricing, Product, ProductAttribute, ProductType, Stock, StockStatus,
    Store,
};
use crate::woo::routes::ApiError;

fn product_type(s: &str) -> Option<ProductType> {
    match s {
        "simple" => Some(ProductType::Simple),
        "variable" => Some(ProductType::Variable),
        "grouped" => Some(ProductType::Grouped),
        "external" => Some(ProductType::External),
        _ => None,
    }
}

pub(super) fn tax_status(s: &str) -> &'static str {
    match s {
        "shipping" => "shipping",
        "none" => "none",
        _ => "taxable",
    }
}

fn backorders(s: &str) -> Backorders {
    match s {
        "notify" => Backorders::Notify,
        "yes" => Backorders::Yes,
        _ => Backorders::No,
    }
}

fn stock_status(s: &str) -> Option<StockStatus> {
    match s {
        "instock" => Some(StockStatus::InStock),
        "outofstock" => Some(StockStatus::OutOfStock),
        "onbackorder" => Some(StockStatus::OnBackorder),
        _ => None,
    }
}

/// `set_sku`: a SKU held by another live product or variation is refused
/// with the id of its holder and a suggestion (`err_400_duplicate_sku`).
pub(super) fn check_sku(store: &Store, sku: &str, id: i64) -> Result<(), ApiError> {
    match sku_owner(store, sku, id) {
        None => Ok(()),
        Some(holder) => Err(ApiError::with_data(
            400,
            "product_invalid_sku",
            "Invalid or duplicated SKU.".to_owned(),
            json!({ "status": 400, "resource_id": holder, "unique_sku": unique_sku(store, sku) }),
        )),
    }
}

pub(super) fn check_gtin(store: &Store, gtin: &str, id: i64) -> Result<(), ApiError> {
    let taken =
        !gtin.is_empty()
            && (store.products.values().any(|p| {
                p.id != id && p.status != PostStatus::Trash && p.global_unique_id == gtin
            }) || store
                .variations
                .values()
                .any(|v| v.id != id && v.global_unique_id == gtin));
    if taken {
        return Err(ApiError::new(
            400,
            "product_invalid_global_unique_id",
            "Invalid or duplicated GTIN, UPC, EAN or ISBN.".to_owned(),
        ));
    }
    Ok(())
}

/// The stock block products and variations share: `manage_stock`,
/// `backorders`, `stock_status` (only meaningful unmanaged), then the
/// quantity (`stock_quantity` wins over `inventory_delta`).
pub(super) fn apply_stock(stock: &mut Stock, inp: Input<'_>) {
    if let Some(v) = inp.get("manage_stock") {
        // Variations accept "parent": the variation itself stops managing.
        stock.manage = v.as_str() != Some("parent") && super::input::value_bool(v);
    }
    if let Some(b) = inp.str("backorders") {
        stock.backorders = backorders(&b);
    }
    if let Some(s) = inp.str("stock_status").and_then(|s| stock_status(&s)) {
        stock.status = s;
    }
    if inp.has("low_stock_amount") {
        stock.low_stock_amount = inp.int("low_stock_amount");
    }
    if stock.manage {
        if let Some(q) = inp.int("stock_quantity") {
            stock.quantity = Some(q);
        } else if let Some(d) = inp.int("inventory_delta") {
            stock.quantity = Some(stock.quantity.unwrap_or(0) + d);
        } else if stock.quantity.is_none() {
            stock.quantity = Some(0);
        }
        stock.refresh_status();
    } else {
        stock.quantity = None;
    }
}

pub(super) fn apply_pricing(pricing: &mut Pricing, inp: Input<'_>) {
    if let Some(p) = inp.price("regular_price") {
        pricing.regular = p;
    }
    if let Some(p) = inp.price("sale_price") {
        pricing.sale = p;
    }
}

pub(super) fn apply_dimensions(dims: &mut [String; 3], weight: &mut String, inp: Input<'_>) {
    if let Some(w) = inp.str("weight") {
        *weight = w;
    }
    if let Some(d) = inp.object("dimensions") {
        let d = Input(d);
        for (i, k) in ["length", "width", "height"].iter().enumerate() {
            if let Some(v) = d.str(k) {
                dims[i] = v;
            }
        }
    }
}

/// Global attributes by id with options given as term names (or slugs).
fn product_attributes(store: &Store, inp: Input<'_>) -> Option<Vec<ProductAttribute>> {
    inp.get("attributes")?;
    let mut out = Vec::new();
    for (i, a) in inp.objects("attributes").into_iter().enumerate() {
        let a = Input(a);
        let Some(attr) = a
            .int("id")
            .and_then(|id| store.attributes.iter().find(|x| x.id == id))
        else {
            continue;
        };
        let names: Vec<String> = match a.get("options") {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(super::input::scalar_string)
                .collect(),
            Some(v) => super::input::scalar_string(v)
                .map(|s| s.split('|').map(|x| x.trim().to_owned()).collect())
                .unwrap_or_default(),
            None => vec![],
        };
        let term_ids = names
            .iter()
            .filter_map(|n| {
                store
                    .attribute_terms
                    .values()
                    .find(|t| t.attribute_id == attr.id && (t.name == *n || t.slug == *n))
                    .map(|t| t.id)
            })
            .collect();
        out.push(ProductAttribute {
            attribute_id: attr.id,
            term_ids,
            position: a.int("position").unwrap_or(i as i64),
            visible: a.bool("visible").unwrap_or(false),
            variation: a.bool("variation").unwrap_or(false),
        });
    }
    Some(out)
}

fn apply_product(tx: &mut Tx<'_>, p: &mut Product, inp: Input<'_>) -> Result<(), ApiError> {
    let store = &mut *tx.store;
    if let Some(sku) = inp.str("sku") {
        let sku = sku.trim().to_owned();
        check_sku(store, &sku, p.id)?;
        forget_sku(store, &p.sku, p.id);
        p.sku = sku;
    }
    if let Some(gtin) = inp.str("global_unique_id") {
        check_gtin(store, &gtin, p.id)?;
        p.global_unique_id = gtin;
    }
    if let Some(name) = inp.str("name") {
        p.name = name;
    }
    if let Some(slug) = inp.str("slug").filter(|s| !s.is_empty()) {
        p.slug = unique_product_slug(store, &slug, p.id);
    }
    if let Some(status) = inp.str("status").and_then(|s| PostStatus::parse(&s)) {
        if p.status == PostStatus::Trash && status != PostStatus::Trash {
            // A status change takes the post out of the trash, without the
            // untrash hooks (no `product.restored`, variations stay trashed).
            if let Some(slug) = p
                .meta
                .iter()
                .find(|m| m.key == "_wp_desired_post_slug")
                .and_then(|m| m.value.as_str())
            {
                p.slug = slug.to_owned();
            }
            p.meta.retain(|m| {
                !m.key.starts_with("_wp_trash_meta_") && m.key != "_wp_desired_post_slug"
            });
        }
        p.status = status;
    }
    if let Some(v) = inp.bool("featured") {
        p.featured = v;
    }
    if let Some(v) = inp.str("description") {
        p.description = v;
    }
    if let Some(v) = inp.str("short_description") {
        p.short_description = v;
    }
    if let Some(v) = inp.bool("virtual") {
        p.is_virtual = v;
    }
    if let Some(v) = inp.bool("downloadable") {
        p.downloadable = v;
    }
    if let Some(v) = inp.str("tax_status") {
        p.tax_status = tax_status(&v);
    }
    if let Some(v) = inp.str("tax_class") {
        p.tax_class = if v == "standard" { String::new() } else { v };
    }
    if let Some(v) = inp.bool("sold_individually") {
        p.sold_individually = v;
    }
    if let Some(v) = inp.bool("reviews_allowed") {
        p.reviews_allowed = v;
    }
    if let Some(v) = inp.str("purchase_note") {
        p.purchase_note = v;
    }
    if let Some(v) = inp.int("menu_order") {
        p.menu_order = v;
    }
    if let Some(v) = inp.str("external_url") {
        p.external_url = v;
    }
    if let Some(v) = inp.str("button_text") {
        p.button_text = v;
    }
    if let Some(ids) = inp.id_refs("categories") {
        p.category_ids = ids
            .into_iter()
            .filter(|id| store.categories.contains_key(id))
            .collect();
    }
    if let Some(ids) = inp.id_refs("tags") {
        p.tag_ids = ids
            .into_iter()
            .filter(|id| store.tags.contains_key(id))
            .collect();
    }
    if let Some(attrs) = product_attributes(store, inp) {
        p.attributes = attrs;
    }
    apply_pricing(&mut p.pricing, inp);
    apply_dimensions(&mut p.dimensions, &mut p.weight, inp);
    if matches!(p.kind, ProductType::Grouped | ProductType::External) {
        // Grouped and external products never manage stock.
        p.stock.manage = false;
        p.stock.quantity = None;
    } else {
        apply_stock(&mut p.stock, inp);
    }
    apply_meta(
        &mut p.meta,
        &mut store.ids.post_meta,
        &inp.objects("meta_data"),
    );
    if p.kind == ProductType::Variable {
        crate::woo::data::refresh_parent_stock(store, p);
    }
    if !p.sku.is_empty() {
        store.skus.insert(p.sku.clone(), p.id);
    }
    Ok(())
}

/// `POST /products`: the new product's id.
pub(crate) fn create_product(tx: &mut Tx<'_>, inp: Input<'_>) -> Result<i64, ApiError> {
    let kind = inp
        .str("type")
        .and_then(|t| product_type(&t))
        .unwrap_or(ProductType::Simple);
    // The post id is taken up front: a refused product leaves a gap in the
    // id sequence, which no client may rely on anyway.
    let mut p = blank_product(tx.store, tx.now, kind);
    apply_product(tx, &mut p, inp)?;
    if p.slug.is_empty() {
        p.slug = unique_product_slug(tx.store, &p.name, p.id);
    }
    let id = p.id;
    tx.store.products.insert(id, p);
    tx.emit(HookResource::Product, HookEvent::Created, id);
    Ok(id)
}

fn invalid_product(status: u16) -> ApiError {
    ApiError::new(
        status,
        "woocommerce_rest_product_invalid_id",
        "Invalid ID.".to_owned(),
    )
}

/// `PUT /products/{id}`.
pub(crate) fn update_product(tx: &mut Tx<'_>, id: i64, inp: Input<'_>) -> Result<(), ApiError> {
    let mut p = tx
        .store
        .products
        .get(&id)
        .cloned()
        .ok_or_else(|| invalid_product(400))?;
    apply_product(tx, &mut p, inp)?;
    p.modified = tx.now;
    tx.store.products.insert(id, p);
    tx.emit(HookResource::Product, HookEvent::Updated, id);
    Ok(())
}
