//! Catalogue changes shared by the REST endpoints and the test handle:
//! new simple products, stock and price edits, trash, restore and permanent
//! deletion, and the parent re-sync a variation save triggers.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::{HookEvent, HookResource, Tx};
use crate::woo::clock::Ts;
use crate::woo::data::{refresh_parent_stock, slugify, trash_meta};
use crate::woo::model::{
    Backorders, Ids, PostStatus, Pricing, Product, ProductType, Stock, StockStatus, Store,
};

/// `wp_unique_post_slug` against the products there are now.
pub(crate) fn unique_product_slug(store: &Store, name: &str, except: i64) -> String {
    let base = {
        let s = slugify(name);
        if s.is_empty() {
            "product".to_owned()
        } else {
            s
        }
    };
    let taken = |slug: &str| {
        store
            .products
            .values()
            .any(|p| p.id != except && p.slug == slug)
    };
    let mut slug = base.clone();
    let mut n = 2;
    while taken(&slug) {
        slug = format!("{base}-{n}");
        n += 1;
    }
    slug
}

/// A product with WooCommerce's defaults (`new WC_Product_Simple`).
pub(crate) fn blank_product(store: &mut Store, now: Ts, kind: ProductType) -> Product {
    Product {
        id: Ids::next(&mut store.ids.post),
        kind,
        name: String::new(),
        slug: String::new(),
        status: PostStatus::Publish,
        featured: false,
        description: String::new(),
        short_description: String::new(),
        sku: String::new(),
        global_unique_id: String::new(),
        pricing: Pricing::default(),
        created: now,
        modified: now,
        total_sales: 0,
        is_virtual: false,
        downloadable: false,
        external_url: String::new(),
        button_text: String::new(),
        tax_status: "taxable",
        tax_class: String::new(),
        stock: Stock {
            manage: false,
            quantity: None,
            backorders: Backorders::No,
            low_stock_amount: None,
            status: StockStatus::InStock,
        },
        sold_individually: false,
        weight: String::new(),
        dimensions: Default::default(),
        reviews_allowed: true,
        purchase_note: String::new(),
        upsell_ids: vec![],
        cross_sell_ids: vec![],
        // WordPress puts an uncategorised product in the default category.
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
    }
}

/// A new published simple product, like `POST /products`.
pub(crate) fn add_simple_product(
    tx: &mut Tx<'_>,
    name: &str,
    sku: &str,
    price: &str,
    stock: Option<i64>,
) -> i64 {
    let mut p = blank_product(tx.store, tx.now, ProductType::Simple);
    p.name = name.to_owned();
    p.slug = unique_product_slug(tx.store, name, p.id);
    p.sku = sku.to_owned();
    p.pricing.regular = Decimal::from_str(price).ok();
    p.stock.manage = stock.is_some();
    p.stock.quantity = stock;
    p.stock.refresh_status();
    let id = p.id;
    if !sku.is_empty() {
        tx.store.skus.insert(sku.to_owned(), id);
    }
    tx.store.products.insert(id, p);
    tx.emit(HookResource::Product, HookEvent::Created, id);
    id
}

/// A variation's save ends in `WC_Product_Variable::sync()` on its parent,
/// which re-derives the parent's stock status and price range and saves it:
/// the parent's `date_modified` moves too (no webhook fires for it: the
/// captured deliveries show none).
pub(crate) fn sync_parent(store: &mut Store, parent_id: i64, now: Ts) {
    let Some(mut parent) = store.products.remove(&parent_id) else {
        return;
    };
    refresh_parent_stock(store, &mut parent);
    parent.modified = now;
    store.products.insert(parent_id, parent);
}

/// A product or variation was saved: its `date_modified` moves and
/// `product.updated` fires (variations use the product topic).
pub(crate) fn touched(tx: &mut Tx<'_>, id: i64) {
    let now = tx.now;
    if let Some(p) = tx.store.products.get_mut(&id) {
        p.modified = now;
    } else if let Some(v) = tx.store.variations.get_mut(&id) {
        v.modified = now;
        let parent = v.parent_id;
        sync_parent(tx.store, parent, now);
    } else {
        return;
    }
    tx.emit(HookResource::Product, HookEvent::Updated, id);
}

/// Absolute stock of a product or variation (`stock_quantity`), turning
/// stock management on. Returns false for an unknown id.
pub(crate) fn set_stock(tx: &mut Tx<'_>, id: i64, qty: i64) -> bool {
    let stock = match (
        tx.store.products.get_mut(&id),
        tx.store.variations.get_mut(&id),
    ) {
        (Some(p), _) => &mut p.stock,
        (None, Some(v)) => &mut v.stock,
        (None, None) => return false,
    };
    stock.manage = true;
    stock.quantity = Some(qty);
    stock.refresh_status();
    touched(tx, id);
    true
}

/// New regular price of a product or variation.
pub(crate) fn set_price(tx: &mut Tx<'_>, id: i64, regular: &str) -> bool {
    let Ok(price) = Decimal::from_str(regular) else {
        return false;
    };
    let pricing = match (
        tx.store.products.get_mut(&id),
        tx.store.variations.get_mut(&id),
    ) {
        (Some(p), _) => &mut p.pricing,
        (None, Some(v)) => &mut v.pricing,
        (None, None) => return false,
    };
    pricing.regular = Some(price);
    touched(tx, id);
    true
}

/// `DELETE /products/{id}` without `force`: to the trash, with its
/// variations; `product.deleted` fires (hooked to `wp_trash_post`).
/// Returns false for an unknown or already trashed product.
pub(crate) fn trash_product(tx: &mut Tx<'_>, id: i64) -> bool {
    let now = tx.now;
    let Some(mut p) = tx.store.products.remove(&id) else {
        return false;
    };
    let trashed = p.status != PostStatus::Trash;
    if trashed {
        let previous = p.status;
        trash_meta(&mut tx.store.ids.post_meta, &mut p, previous, now);
        p.modified = now;
        for vid in &p.variation_ids {
            if let Some(v) = tx.store.variations.get_mut(vid) {
                v.status = PostStatus::Trash;
                v.modified = now;
            }
        }
    }
    tx.store.products.insert(id, p);
    if trashed {
        tx.emit(HookResource::Product, HookEvent::Deleted, id);
    }
    trashed
}

/// `wp_untrash_post` (the admin's "Restore"): the status and slug the
/// product had (WooCommerce's `wp_untrash_post_status` filter brings back
/// the previous status where WordPress alone would make a draft), its
/// variations back, and `product.restored` (hooked to `untrashed_post`).
pub(crate) fn restore_product(tx: &mut Tx<'_>, id: i64) -> bool {
    let now = tx.now;
    let Some(p) = tx.store.products.get_mut(&id) else {
        return false;
    };
    if p.status != PostStatus::Trash {
        return false;
    }
    let meta_str = |key: &str| {
        p.meta
            .iter()
            .find(|m| m.key == key)
            .and_then(|m| m.value.as_str().map(str::to_owned))
    };
    let desired = meta_str("_wp_desired_post_slug");
    let previous = meta_str("_wp_trash_meta_status")
        .and_then(|s| PostStatus::parse(&s))
        .unwrap_or(PostStatus::Draft);
    p.meta.retain(|m| {
        !matches!(
            m.key.as_str(),
            "_wp_trash_meta_status" | "_wp_trash_meta_time" | "_wp_desired_post_slug"
        )
    });
    p.slug = desired.unwrap_or_else(|| p.slug.trim_end_matches("__trashed").to_owned());
    p.status = previous;
    p.modified = now;
    let children = p.variation_ids.clone();
    for vid in children {
        if let Some(v) = tx.store.variations.get_mut(&vid)
            && v.status == PostStatus::Trash
        {
            v.status = PostStatus::Publish;
            v.modified = now;
        }
    }
    tx.emit(HookResource::Product, HookEvent::Restored, id);
    true
}

/// `DELETE /products/{id}?force=true`: gone, variations included. No trace
/// is left (WooCommerce keeps no tombstones) and no webhook fires.
pub(crate) fn delete_product(tx: &mut Tx<'_>, id: i64) -> bool {
    let store = &mut *tx.store;
    let Some(p) = store.products.remove(&id) else {
        return false;
    };
    forget_sku(store, &p.sku, id);
    for vid in &p.variation_ids {
        if let Some(v) = store.variations.remove(vid) {
            forget_sku(store, &v.sku, v.id);
        }
    }
    for other in store.products.values_mut() {
        other.grouped_ids.retain(|g| *g != id);
        other.related_ids.retain(|r| *r != id);
        other.upsell_ids.retain(|r| *r != id);
        other.cross_sell_ids.retain(|r| *r != id);
    }
    true
}

pub(crate) fn forget_sku(store: &mut Store, sku: &str, id: i64) {
    if store.skus.get(sku) == Some(&id) {
        store.skus.remove(sku);
    }
}

/// The product or variation (not in the trash) that holds `sku`, other
/// than `except`: WooCommerce's `is_existing_sku` ignores trashed posts.
pub(crate) fn sku_owner(store: &Store, sku: &str, except: i64) -> Option<i64> {
    if sku.is_empty() {
        return None;
    }
    let p = store
        .products
        .values()
        .find(|p| p.id != except && p.status != PostStatus::Trash && p.sku == sku)
        .map(|p| p.id);
    p.or_else(|| {
        store
            .variations
            .values()
            .find(|v| v.id != except && v.status != PostStatus::Trash && v.sku == sku)
            .map(|v| v.id)
    })
}

/// `wc_product_generate_unique_sku`: `SKU-1`, `SKU-2`, ...
pub(crate) fn unique_sku(store: &Store, sku: &str) -> String {
    (1..)
        .map(|n| format!("{sku}-{n}"))
        .find(|s| sku_owner(store, s, 0).is_none())
        .unwrap_or_default()
}
