//! `POST/PUT/DELETE /products/{id}/variations`: a variation's fields,
//! its parent re-synced after each save, trash or permanent deletion.

use super::catalog::{forget_sku, sync_parent};
use super::input::{Input, apply_meta};
use super::products::{
    apply_dimensions, apply_pricing, apply_stock, check_gtin, check_sku, tax_status,
};
use super::{HookEvent, HookResource, Tx};
use crate::woo::model::{
    Backorders, Ids, PostStatus, Pricing, Stock, StockStatus, Store, Variation,
};
use crate::woo::routes::ApiError;

fn apply_variation(tx: &mut Tx<'_>, v: &mut Variation, inp: Input<'_>) -> Result<(), ApiError> {
    let store = &mut *tx.store;
    if let Some(sku) = inp.str("sku") {
        let sku = sku.trim().to_owned();
        check_sku(store, &sku, v.id)?;
        forget_sku(store, &v.sku, v.id);
        v.sku = sku;
    }
    if let Some(gtin) = inp.str("global_unique_id") {
        check_gtin(store, &gtin, v.id)?;
        v.global_unique_id = gtin;
    }
    if let Some(visible) = inp.bool("visible") {
        v.status = if visible {
            PostStatus::Publish
        } else {
            PostStatus::Private
        };
    }
    if let Some(status) = inp.str("status").and_then(|s| PostStatus::parse(&s)) {
        v.status = status;
    }
    if let Some(d) = inp.str("description") {
        v.description = d;
    }
    if let Some(b) = inp.bool("virtual") {
        v.is_virtual = b;
    }
    if let Some(b) = inp.bool("downloadable") {
        v.downloadable = b;
    }
    if let Some(t) = inp.str("tax_status") {
        v.tax_status = tax_status(&t);
    }
    let parent_class = store
        .products
        .get(&v.parent_id)
        .map(|p| p.tax_class.clone())
        .unwrap_or_default();
    if let Some(c) = inp.str("tax_class") {
        // "parent" inherits; the sim stores the class it resolves to.
        v.tax_class = match c.as_str() {
            "parent" => parent_class,
            "standard" => String::new(),
            _ => c,
        };
    }
    if let Some(m) = inp.int("menu_order") {
        v.menu_order = m;
    }
    if inp.has("attributes") {
        let parent_attrs: Vec<i64> = store
            .products
            .get(&v.parent_id)
            .map(|p| {
                p.attributes
                    .iter()
                    .filter(|a| a.variation)
                    .map(|a| a.attribute_id)
                    .collect()
            })
            .unwrap_or_default();
        v.attributes =
            inp.objects("attributes")
                .into_iter()
                .filter_map(|a| {
                    let a = Input(a);
                    let attr = a.int("id").filter(|id| parent_attrs.contains(id))?;
                    let option = a.str("option")?;
                    let term = store.attribute_terms.values().find(|t| {
                        t.attribute_id == attr && (t.name == option || t.slug == option)
                    })?;
                    Some((attr, term.id))
                })
                .collect();
    }
    apply_pricing(&mut v.pricing, inp);
    apply_dimensions(&mut v.dimensions, &mut v.weight, inp);
    apply_stock(&mut v.stock, inp);
    apply_meta(
        &mut v.meta,
        &mut store.ids.post_meta,
        &inp.objects("meta_data"),
    );
    if !v.sku.is_empty() {
        store.skus.insert(v.sku.clone(), v.id);
    }
    Ok(())
}

fn parent_of(store: &Store, parent: i64) -> Result<(), ApiError> {
    if store.products.contains_key(&parent) {
        Ok(())
    } else {
        Err(ApiError::new(
            404,
            "woocommerce_rest_product_invalid_id",
            "Invalid ID.".to_owned(),
        ))
    }
}

/// `POST /products/{parent}/variations`.
pub(crate) fn create_variation(
    tx: &mut Tx<'_>,
    parent: i64,
    inp: Input<'_>,
) -> Result<i64, ApiError> {
    parent_of(tx.store, parent)?;
    let parent_class = tx.store.products[&parent].tax_class.clone();
    let mut v = Variation {
        id: Ids::next(&mut tx.store.ids.post),
        parent_id: parent,
        status: PostStatus::Publish,
        sku: String::new(),
        global_unique_id: String::new(),
        pricing: Pricing::default(),
        created: tx.now,
        modified: tx.now,
        description: String::new(),
        is_virtual: false,
        downloadable: false,
        tax_status: "taxable",
        tax_class: parent_class,
        stock: Stock {
            manage: false,
            quantity: None,
            backorders: Backorders::No,
            low_stock_amount: None,
            status: StockStatus::InStock,
        },
        weight: String::new(),
        dimensions: Default::default(),
        attributes: vec![],
        menu_order: 0,
        total_sales: 0,
        meta: vec![],
    };
    apply_variation(tx, &mut v, inp)?;
    let id = v.id;
    tx.store.variations.insert(id, v);
    if let Some(p) = tx.store.products.get_mut(&parent) {
        p.variation_ids.push(id);
    }
    sync_parent(tx.store, parent, tx.now);
    tx.emit(HookResource::Product, HookEvent::Created, id);
    Ok(id)
}

fn invalid_variation(status: u16) -> ApiError {
    ApiError::new(
        status,
        "woocommerce_rest_product_variation_invalid_id",
        "Invalid ID.".to_owned(),
    )
}

/// The variation, checked to belong to `parent`.
fn variation_of(store: &Store, parent: i64, id: i64, missing: u16) -> Result<(), ApiError> {
    match store.variations.get(&id) {
        None => Err(invalid_variation(missing)),
        Some(v) if v.parent_id != parent => Err(ApiError::new(
            403,
            "woocommerce_rest_cannot_edit",
            "Parent product does not match current variation.".to_owned(),
        )),
        Some(_) => Ok(()),
    }
}

/// `PUT /products/{parent}/variations/{id}`.
pub(crate) fn update_variation(
    tx: &mut Tx<'_>,
    parent: i64,
    id: i64,
    inp: Input<'_>,
) -> Result<(), ApiError> {
    variation_of(tx.store, parent, id, 400)?;
    let mut v = tx.store.variations[&id].clone();
    apply_variation(tx, &mut v, inp)?;
    v.modified = tx.now;
    tx.store.variations.insert(id, v);
    sync_parent(tx.store, parent, tx.now);
    tx.emit(HookResource::Product, HookEvent::Updated, id);
    Ok(())
}

/// `DELETE /products/{parent}/variations/{id}`: trashed (`410` when it
/// already is), or gone with `force`. The caller renders it first.
pub(crate) fn delete_variation(
    tx: &mut Tx<'_>,
    parent: i64,
    id: i64,
    force: bool,
) -> Result<(), ApiError> {
    variation_of(tx.store, parent, id, 404)?;
    if force {
        if let Some(v) = tx.store.variations.remove(&id) {
            forget_sku(tx.store, &v.sku, id);
        }
        if let Some(p) = tx.store.products.get_mut(&parent) {
            p.variation_ids.retain(|v| *v != id);
        }
    } else {
        let v = tx
            .store
            .variations
            .get_mut(&id)
            .ok_or_else(|| invalid_variation(404))?;
        if v.status == PostStatus::Trash {
            return Err(ApiError::new(
                410,
                "woocommerce_rest_already_trashed",
                "The product_variation has already been deleted.".to_owned(),
            ));
        }
        v.status = PostStatus::Trash;
        v.modified = tx.now;
        tx.emit(HookResource::Product, HookEvent::Deleted, id);
    }
    sync_parent(tx.store, parent, tx.now);
    Ok(())
}
