//! Changes to the store, each stamping `date_modified` with the store's
//! clock as a WooCommerce save would. Used by `SimHandle` for tests today
//! and meant for the REST write endpoints later.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::SimCounts;
use super::clock::Ts;
use super::data::{refresh_parent_stock, slugify, trash_meta};
use super::model::{
    Backorders, Ids, OrderStatus, PostStatus, Pricing, Product, ProductType, Stock, StockStatus,
    Store,
};

/// A new published simple product, like `POST /products`.
pub(crate) fn add_simple_product(
    store: &mut Store,
    now: Ts,
    name: &str,
    sku: &str,
    price: &str,
    stock: Option<i64>,
) -> i64 {
    let id = Ids::next(&mut store.ids.post);
    let base = slugify(name);
    let mut slug = base.clone();
    let mut n = 2;
    while store.products.values().any(|p| p.slug == slug) {
        slug = format!("{base}-{n}");
        n += 1;
    }
    let mut s = Stock {
        manage: stock.is_some(),
        quantity: stock,
        backorders: Backorders::No,
        low_stock_amount: None,
        status: StockStatus::InStock,
    };
    s.refresh_status();
    let p = Product {
        id,
        kind: ProductType::Simple,
        name: name.to_owned(),
        slug,
        status: PostStatus::Publish,
        featured: false,
        description: String::new(),
        short_description: String::new(),
        sku: sku.to_owned(),
        global_unique_id: String::new(),
        pricing: Pricing {
            regular: Decimal::from_str(price).ok(),
            ..Pricing::default()
        },
        created: now,
        modified: now,
        total_sales: 0,
        is_virtual: false,
        downloadable: false,
        external_url: String::new(),
        button_text: String::new(),
        tax_status: "taxable",
        tax_class: String::new(),
        stock: s,
        sold_individually: false,
        weight: String::new(),
        dimensions: Default::default(),
        reviews_allowed: true,
        purchase_note: String::new(),
        upsell_ids: vec![],
        cross_sell_ids: vec![],
        category_ids: store
            .categories
            .keys()
            .next()
            .copied()
            .into_iter()
            .collect(),
        tag_ids: vec![],
        attributes: vec![],
        default_attributes: vec![],
        variation_ids: vec![],
        grouped_ids: vec![],
        menu_order: 0,
        related_ids: vec![],
        meta: vec![],
    };
    if !sku.is_empty() {
        store.skus.insert(sku.to_owned(), id);
    }
    store.products.insert(id, p);
    id
}

/// A variation's save ends in `WC_Product_Variable::sync()` on its parent,
/// which re-derives the parent's stock status and price range and saves it:
/// the parent's `date_modified` moves too.
fn sync_parent(store: &mut Store, parent_id: i64, now: Ts) {
    let Some(mut parent) = store.products.remove(&parent_id) else {
        return;
    };
    refresh_parent_stock(store, &mut parent);
    parent.modified = now;
    store.products.insert(parent_id, parent);
}

/// Absolute stock of a product or variation (`stock_quantity`), turning
/// stock management on. Returns false for an unknown id.
pub(crate) fn set_stock(store: &mut Store, now: Ts, id: i64, qty: i64) -> bool {
    if let Some(p) = store.products.get_mut(&id) {
        p.stock.manage = true;
        p.stock.quantity = Some(qty);
        p.stock.refresh_status();
        p.modified = now;
        return true;
    }
    if let Some(v) = store.variations.get_mut(&id) {
        v.stock.manage = true;
        v.stock.quantity = Some(qty);
        v.stock.refresh_status();
        v.modified = now;
        let parent = v.parent_id;
        sync_parent(store, parent, now);
        return true;
    }
    false
}

/// New regular price of a product or variation.
pub(crate) fn set_price(store: &mut Store, now: Ts, id: i64, regular: &str) -> bool {
    let Ok(price) = Decimal::from_str(regular) else {
        return false;
    };
    if let Some(p) = store.products.get_mut(&id) {
        p.pricing.regular = Some(price);
        p.modified = now;
        return true;
    }
    if let Some(v) = store.variations.get_mut(&id) {
        v.pricing.regular = Some(price);
        v.modified = now;
        let parent = v.parent_id;
        sync_parent(store, parent, now);
        return true;
    }
    false
}

/// `DELETE /products/{id}` without `force`: to the trash, with its
/// variations.
pub(crate) fn trash_product(store: &mut Store, now: Ts, id: i64) -> bool {
    let Some(mut p) = store.products.remove(&id) else {
        return false;
    };
    if p.status != PostStatus::Trash {
        let previous = p.status;
        trash_meta(&mut store.ids.post_meta, &mut p, previous, now);
        p.modified = now;
        for vid in &p.variation_ids {
            if let Some(v) = store.variations.get_mut(vid) {
                v.status = PostStatus::Trash;
                v.modified = now;
            }
        }
    }
    store.products.insert(id, p);
    true
}

/// `DELETE /products/{id}?force=true`: gone, variations included. No trace
/// is left (WooCommerce keeps no tombstones).
pub(crate) fn delete_product(store: &mut Store, id: i64) -> bool {
    let Some(p) = store.products.remove(&id) else {
        return false;
    };
    store.skus.remove(&p.sku);
    for vid in &p.variation_ids {
        if let Some(v) = store.variations.remove(vid) {
            store.skus.remove(&v.sku);
        }
    }
    for other in store.products.values_mut() {
        other.grouped_ids.retain(|g| *g != id);
        other.related_ids.retain(|r| *r != id);
    }
    true
}

/// Counts of everything, trash included.
pub(crate) fn counts(store: &Store) -> SimCounts {
    let products_with = |s: PostStatus| store.products.values().filter(|p| p.status == s).count();
    let orders_with = |s: OrderStatus| store.orders.values().filter(|o| o.status == s).count();
    SimCounts {
        products: store.products.len(),
        products_publish: products_with(PostStatus::Publish),
        products_draft: products_with(PostStatus::Draft),
        products_pending: products_with(PostStatus::Pending),
        products_private: products_with(PostStatus::Private),
        products_trash: products_with(PostStatus::Trash),
        products_simple: store
            .products
            .values()
            .filter(|p| p.kind == ProductType::Simple)
            .count(),
        products_variable: store
            .products
            .values()
            .filter(|p| p.kind == ProductType::Variable)
            .count(),
        variations: store.variations.len(),
        variations_trash: store
            .variations
            .values()
            .filter(|v| v.status == PostStatus::Trash)
            .count(),
        customers: store
            .customers
            .values()
            .filter(|c| c.role == "customer")
            .count(),
        users: store.customers.len(),
        orders: store.orders.len(),
        orders_trash: orders_with(OrderStatus::Trash),
        orders_processing: orders_with(OrderStatus::Processing),
        orders_completed: orders_with(OrderStatus::Completed),
        refunds: store.refunds.len(),
        categories: store.categories.len(),
        tags: store.tags.len(),
        attributes: store.attributes.len(),
        attribute_terms: store.attribute_terms.len(),
        tax_rates: store.tax_rates.len(),
        shipping_zones: store.zones.len(),
    }
}
