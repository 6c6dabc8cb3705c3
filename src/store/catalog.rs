//! Products, variations, categories, tags and attributes in the replica.
//!
//! Product and variation upserts are guarded by `date_modified_gmt` in SQL:
//! an older version never overwrites a newer one (see [`WriteStamp`]).

use rusqlite::{Connection, Transaction, named_params};

use super::{StoreError, WriteStamp, to_json};
use crate::domain::UpstreamId;
use crate::domain::catalog::{Attribute, Category, Product, Tag};

const UPSERT_PRODUCT: &str = "
INSERT INTO products (
    id, parent_id, type, status, sku, name, slug, global_unique_id,
    price, regular_price, sale_price, date_on_sale_from_gmt, date_on_sale_to_gmt,
    tax_status, tax_class, manage_stock, stock_quantity, stock_status, backorders,
    attributes, images, meta_data, date_created_gmt, date_modified_gmt, raw, seen_run, synced_at
) VALUES (
    :id, :parent_id, :type, :status, :sku, :name, :slug, :global_unique_id,
    :price, :regular_price, :sale_price, :sale_from, :sale_to,
    :tax_status, :tax_class, :manage_stock, :stock_quantity, :stock_status, :backorders,
    :attributes, :images, :meta_data, :date_created, :date_modified, :raw, :run, :now
)
ON CONFLICT (id) DO UPDATE SET
    parent_id = excluded.parent_id, type = excluded.type, status = excluded.status,
    sku = excluded.sku, name = excluded.name, slug = excluded.slug,
    global_unique_id = excluded.global_unique_id, price = excluded.price,
    regular_price = excluded.regular_price, sale_price = excluded.sale_price,
    date_on_sale_from_gmt = excluded.date_on_sale_from_gmt,
    date_on_sale_to_gmt = excluded.date_on_sale_to_gmt,
    tax_status = excluded.tax_status, tax_class = excluded.tax_class,
    manage_stock = excluded.manage_stock, stock_quantity = excluded.stock_quantity,
    stock_status = excluded.stock_status, backorders = excluded.backorders,
    attributes = excluded.attributes, images = excluded.images, meta_data = excluded.meta_data,
    date_created_gmt = excluded.date_created_gmt, date_modified_gmt = excluded.date_modified_gmt,
    raw = excluded.raw, seen_run = COALESCE(excluded.seen_run, products.seen_run),
    synced_at = excluded.synced_at
WHERE excluded.date_modified_gmt > products.date_modified_gmt
   OR (:allow_equal AND excluded.date_modified_gmt = products.date_modified_gmt)";

const MARK_PRODUCT_SEEN: &str = "UPDATE products SET seen_run = :run WHERE id = :id";
const DELETE_PRODUCT_CATEGORIES: &str = "DELETE FROM product_categories WHERE product_id = :id";
const INSERT_PRODUCT_CATEGORY: &str =
    "INSERT OR IGNORE INTO product_categories (product_id, category_id) VALUES (:id, :category)";
const DELETE_PRODUCT_TAGS: &str = "DELETE FROM product_tags WHERE product_id = :id";
const INSERT_PRODUCT_TAG: &str =
    "INSERT OR IGNORE INTO product_tags (product_id, tag_id) VALUES (:id, :tag)";

const UPSERT_CATEGORY: &str = "
INSERT INTO categories (id, parent_id, name, slug, description, display, image, menu_order, count, raw, seen_run, synced_at)
VALUES (:id, :parent_id, :name, :slug, :description, :display, :image, :menu_order, :count, :raw, :run, :now)
ON CONFLICT (id) DO UPDATE SET
    parent_id = excluded.parent_id, name = excluded.name, slug = excluded.slug,
    description = excluded.description, display = excluded.display, image = excluded.image,
    menu_order = excluded.menu_order, count = excluded.count, raw = excluded.raw,
    seen_run = COALESCE(excluded.seen_run, categories.seen_run), synced_at = excluded.synced_at";

const UPSERT_TAG: &str = "
INSERT INTO tags (id, name, slug, description, count, raw, seen_run, synced_at)
VALUES (:id, :name, :slug, :description, :count, :raw, :run, :now)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, slug = excluded.slug, description = excluded.description,
    count = excluded.count, raw = excluded.raw,
    seen_run = COALESCE(excluded.seen_run, tags.seen_run), synced_at = excluded.synced_at";

const DELETE_ATTRIBUTES: &str = "DELETE FROM attributes";
const INSERT_ATTRIBUTE: &str = "
INSERT INTO attributes (id, name, slug, type, order_by, has_archives, raw, synced_at)
VALUES (:id, :name, :slug, :type, :order_by, :has_archives, :raw, :now)";
const INSERT_ATTRIBUTE_TERM: &str = "
INSERT INTO attribute_terms (id, attribute_id, name, slug, description, menu_order, count, raw)
VALUES (:id, :attribute_id, :name, :slug, :description, :menu_order, :count, :raw)";

const COUNT_PRODUCTS: &str = "SELECT COUNT(*) FROM products WHERE type <> 'variation'";
const COUNT_VARIATIONS: &str = "SELECT COUNT(*) FROM products WHERE type = 'variation'";
/// Variations whose parent product the replica does not hold (a draft,
/// private or trashed parent outside the mirrored statuses, or one gone).
const DELETE_ORPHAN_VARIATIONS: &str = "
DELETE FROM products WHERE type = 'variation' AND NOT EXISTS (
    SELECT 1 FROM products AS parent WHERE parent.id = products.parent_id AND parent.type <> 'variation')";
const DELETE_VARIATION_WITHOUT_PARENT: &str = "
DELETE FROM products WHERE id = :id AND type = 'variation' AND NOT EXISTS (
    SELECT 1 FROM products AS parent WHERE parent.id = products.parent_id AND parent.type <> 'variation')";
const DELETE_VARIATIONS_OF: &str =
    "DELETE FROM products WHERE type = 'variation' AND parent_id = :parent";
const VARIABLE_PRODUCT_IDS: &str = "SELECT id FROM products WHERE type = 'variable' ORDER BY id";
const PRODUCT_HELD: &str = "SELECT 1 FROM products WHERE id = :id";

/// What an upsert did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    /// Rows inserted or updated.
    pub written: usize,
    /// Rows left alone because the replica already holds a newer version.
    pub kept_newer: usize,
}

/// Inserts or updates products and variations, each only if it is newer than
/// what the replica holds (or equally new, when the stamp allows it).
pub fn upsert_products(
    tx: &Transaction<'_>,
    stamp: WriteStamp,
    products: &[Product],
) -> Result<Upserted, StoreError> {
    let mut upsert = tx.prepare_cached(UPSERT_PRODUCT)?;
    let mut out = Upserted::default();
    for p in products {
        let rowid_before = tx.last_insert_rowid();
        let changed = upsert.execute(named_params! {
            ":id": p.id,
            ":parent_id": p.parent_id,
            ":type": p.kind.as_str(),
            ":status": p.status,
            ":sku": p.sku,
            ":name": p.name,
            ":slug": p.slug,
            ":global_unique_id": p.global_unique_id,
            ":price": p.price.map(|d| d.to_string()),
            ":regular_price": p.regular_price.map(|d| d.to_string()),
            ":sale_price": p.sale_price.map(|d| d.to_string()),
            ":sale_from": p.sale_from.map(|t| t.to_string()),
            ":sale_to": p.sale_to.map(|t| t.to_string()),
            ":tax_status": p.tax_status,
            ":tax_class": p.tax_class,
            ":manage_stock": p.manage_stock.as_str(),
            ":stock_quantity": p.stock_quantity,
            ":stock_status": p.stock_status,
            ":backorders": p.backorders,
            ":attributes": to_json(&p.attributes)?,
            ":images": to_json(&p.images)?,
            ":meta_data": to_json(&p.meta)?,
            ":date_created": p.date_created.map(|t| t.to_string()),
            ":date_modified": p.date_modified.to_string(),
            ":raw": p.raw.as_str(),
            ":run": stamp.run,
            ":now": stamp.now_ms,
            ":allow_equal": stamp.allow_equal,
        })?;
        if changed == 0 {
            out.kept_newer += 1;
            if let Some(run) = stamp.run {
                tx.prepare_cached(MARK_PRODUCT_SEEN)?
                    .execute(named_params! { ":run": run, ":id": p.id })?;
            }
            continue;
        }
        out.written += 1;
        // An upsert that updated leaves `last_insert_rowid` alone; one that
        // inserted sets it to the new row's id. A new row has no links yet
        // (they cascade away with a removed product), so there is nothing
        // to delete first: most rows of a first pull.
        let inserted = tx.last_insert_rowid() == p.id && rowid_before != p.id;
        replace_links(tx, p, inserted)?;
    }
    Ok(out)
}

fn replace_links(tx: &Transaction<'_>, p: &Product, new_row: bool) -> Result<(), StoreError> {
    if !new_row {
        tx.prepare_cached(DELETE_PRODUCT_CATEGORIES)?
            .execute(named_params! { ":id": p.id })?;
        tx.prepare_cached(DELETE_PRODUCT_TAGS)?
            .execute(named_params! { ":id": p.id })?;
    }
    let mut add_category = tx.prepare_cached(INSERT_PRODUCT_CATEGORY)?;
    for c in &p.category_ids {
        add_category.execute(named_params! { ":id": p.id, ":category": c })?;
    }
    let mut add_tag = tx.prepare_cached(INSERT_PRODUCT_TAG)?;
    for t in &p.tag_ids {
        add_tag.execute(named_params! { ":id": p.id, ":tag": t })?;
    }
    Ok(())
}

/// Inserts or updates categories (terms carry no modification date, so the
/// latest read always wins).
pub fn upsert_categories(
    tx: &Transaction<'_>,
    stamp: WriteStamp,
    categories: &[Category],
) -> Result<Upserted, StoreError> {
    let mut stmt = tx.prepare_cached(UPSERT_CATEGORY)?;
    for c in categories {
        stmt.execute(named_params! {
            ":id": c.id,
            ":parent_id": c.parent_id,
            ":name": c.name,
            ":slug": c.slug,
            ":description": c.description,
            ":display": c.display,
            ":image": c.image.as_ref().map(to_json).transpose()?,
            ":menu_order": c.menu_order,
            ":count": c.count,
            ":raw": c.raw.as_str(),
            ":run": stamp.run,
            ":now": stamp.now_ms,
        })?;
    }
    Ok(Upserted {
        written: categories.len(),
        kept_newer: 0,
    })
}

/// Inserts or updates tags.
pub fn upsert_tags(
    tx: &Transaction<'_>,
    stamp: WriteStamp,
    tags: &[Tag],
) -> Result<Upserted, StoreError> {
    let mut stmt = tx.prepare_cached(UPSERT_TAG)?;
    for t in tags {
        stmt.execute(named_params! {
            ":id": t.id,
            ":name": t.name,
            ":slug": t.slug,
            ":description": t.description,
            ":count": t.count,
            ":raw": t.raw.as_str(),
            ":run": stamp.run,
            ":now": stamp.now_ms,
        })?;
    }
    Ok(Upserted {
        written: tags.len(),
        kept_newer: 0,
    })
}

/// Replaces every attribute and term with `attributes` (a whole snapshot).
pub fn replace_attributes(
    tx: &Transaction<'_>,
    now_ms: i64,
    attributes: &[Attribute],
) -> Result<(), StoreError> {
    tx.execute(DELETE_ATTRIBUTES, [])?;
    let mut attr = tx.prepare_cached(INSERT_ATTRIBUTE)?;
    let mut term = tx.prepare_cached(INSERT_ATTRIBUTE_TERM)?;
    for a in attributes {
        attr.execute(named_params! {
            ":id": a.id,
            ":name": a.name,
            ":slug": a.slug,
            ":type": a.kind,
            ":order_by": a.order_by,
            ":has_archives": a.has_archives,
            ":raw": a.raw.as_str(),
            ":now": now_ms,
        })?;
        for t in &a.terms {
            term.execute(named_params! {
                ":id": t.id,
                ":attribute_id": a.id,
                ":name": t.name,
                ":slug": t.slug,
                ":description": t.description,
                ":menu_order": t.menu_order,
                ":count": t.count,
                ":raw": t.raw.as_str(),
            })?;
        }
    }
    Ok(())
}

/// Number of products (variations excluded).
/// Removes the variations whose parent product is not mirrored: a
/// variation follows its parent in and out of the replica (the shop hides
/// and does not sell a variation of a product it does not show). Returns
/// how many were removed.
pub fn prune_orphan_variations(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    Ok(tx.prepare_cached(DELETE_ORPHAN_VARIATIONS)?.execute([])?)
}

/// Removes variation `id` if its parent product is not mirrored; says
/// whether it did. For a single object applied while a full pull may still
/// be writing parents (a webhook), where [`prune_orphan_variations`] would
/// take variations whose parent's page is not written yet.
pub fn remove_variation_without_parent(
    tx: &Transaction<'_>,
    id: UpstreamId,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(DELETE_VARIATION_WITHOUT_PARENT)?
        .execute(named_params! { ":id": id })?
        > 0)
}

/// Whether the replica holds product or variation `id`.
pub fn holds_product(conn: &Connection, id: UpstreamId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(PRODUCT_HELD)?
        .exists(named_params! { ":id": id })?)
}

/// Removes the variations of product `parent` (which left the replica).
pub fn remove_variations_of(tx: &Transaction<'_>, parent: UpstreamId) -> Result<usize, StoreError> {
    Ok(tx
        .prepare_cached(DELETE_VARIATIONS_OF)?
        .execute(named_params! { ":parent": parent })?)
}

pub fn count_products(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(COUNT_PRODUCTS, [], |r| r.get(0))?)
}

/// Number of variations.
pub fn count_variations(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(COUNT_VARIATIONS, [], |r| r.get(0))?)
}

/// Ids of the variable products in the replica, ascending: the parents whose
/// variations an older store must be asked for one by one.
pub fn variable_product_ids(conn: &Connection) -> Result<Vec<UpstreamId>, StoreError> {
    let mut stmt = conn.prepare_cached(VARIABLE_PRODUCT_IDS)?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<UpstreamId>, _>>()?;
    Ok(ids)
}
