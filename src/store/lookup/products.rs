//! Product lookups: barcode, SKU, full text and browsing, one product with
//! its categories and price range, and a product's variations.
//!
//! A statement is assembled from fixed fragments (the columns, one way of
//! picking rows, the shared filters, one order): no value is ever formatted
//! into SQL; everything the till sends is a bound parameter.

use std::collections::HashMap;

use rusqlite::{Connection, Row, named_params};

use super::super::StoreError;
use super::index::{match_expression, normalized_barcode};
use super::{RANKED_MATCHES, amount, bind, json_list, time};
use crate::domain::catalog::ManageStock;
use crate::domain::lookup::pricing::PriceFacts;
use crate::domain::lookup::query::{PageRequest, ProductLookup, ProductQuery, ProductSort};
use crate::domain::lookup::stock::StockFacts;
use crate::domain::lookup::views::{CategoryRef, MappedFields, Page, PriceRange, ProductView};
use crate::domain::{GmtTime, UpstreamId};

/// Columns read into a [`ProductView`], for a row aliased `p`. Stock managed
/// by the parent is read from the parent; unconfirmed sales come off the
/// row that owns the stock.
const COLUMNS: &str = "
SELECT p.id, p.parent_id, p.type, p.status, p.name, p.sku, p.global_unique_id,
    p.price, p.regular_price, p.sale_price, p.date_on_sale_from_gmt, p.date_on_sale_to_gmt,
    p.tax_status, p.tax_class, p.manage_stock,
    CASE WHEN p.manage_stock = 'parent'
         THEN (SELECT o.stock_quantity FROM products o WHERE o.id = p.parent_id)
         ELSE p.stock_quantity END,
    p.stock_status, p.backorders,
    COALESCE((SELECT u.quantity FROM unconfirmed_stock_by_owner u
              WHERE u.owner_id = CASE WHEN p.manage_stock = 'parent' THEN p.parent_id ELSE p.id END), 0),
    (SELECT json_group_array(b.barcode) FROM product_barcodes b WHERE b.product_id = p.id),
    p.attributes, p.images,
    CASE WHEN p.type = 'variable'
         THEN (SELECT COUNT(*) FROM products v WHERE v.parent_id = p.id AND v.parent_id <> 0) END,
    (SELECT json_group_array(json_array(f.field, f.label, f.value))
     FROM product_meta_fields f WHERE f.product_id = p.id)";

const FROM_ALL: &str = "
FROM products p WHERE p.parent_id = 0 AND p.type <> 'variation'";
const FROM_TEXT: &str = "
FROM product_fts f JOIN products p ON p.id = f.rowid
WHERE product_fts MATCH :match AND p.parent_id = 0";
const FROM_SKU: &str = "
FROM products p WHERE p.id IN (
    SELECT CASE WHEN x.parent_id <> 0 THEN x.parent_id ELSE x.id END
    FROM products x WHERE x.sku = :sku COLLATE NOCASE)";
const FROM_BARCODE: &str = concat!(
    "
FROM products p WHERE p.id IN (
    SELECT CASE WHEN x.parent_id <> 0 THEN x.parent_id ELSE x.id END
    FROM product_barcodes b JOIN products x ON x.id = b.product_id
    WHERE b.barcode = ",
    normalized_barcode!(":barcode"),
    ")"
);

/// Filters shared by every way of picking; a NULL parameter disables one.
const FILTERS: &str = "
AND (:category IS NULL OR p.id IN (
    SELECT pc.product_id FROM product_categories pc WHERE pc.category_id IN (
        WITH RECURSIVE sub (id) AS (
            VALUES (:category)
            UNION SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id)
        SELECT id FROM sub)))
AND (:in_stock IS NULL OR :in_stock = (
    CASE WHEN p.manage_stock = 'yes' AND p.stock_quantity IS NOT NULL
         THEN p.stock_quantity - COALESCE((SELECT u.quantity FROM unconfirmed_stock_by_owner u
                                           WHERE u.owner_id = p.id), 0) > 0
         ELSE p.stock_status = 'instock' END))";

/// The price charged now, for sorting; the same rule as
/// `domain::lookup::pricing::PriceFacts::effective`.
macro_rules! price_now {
    () => {
        "CAST(CASE WHEN p.sale_price IS NOT NULL AND p.regular_price IS NOT NULL
           AND CAST(p.sale_price AS REAL) < CAST(p.regular_price AS REAL)
           AND (p.date_on_sale_from_gmt IS NULL OR p.date_on_sale_from_gmt <= :now)
           AND (p.date_on_sale_to_gmt IS NULL OR p.date_on_sale_to_gmt >= :now)
          THEN p.sale_price ELSE COALESCE(p.regular_price, p.price) END AS REAL)"
    };
}
const BY_PRICE: &str = concat!("\nORDER BY ", price_now!(), " NULLS LAST, p.id");
const BY_PRICE_DESC: &str = concat!("\nORDER BY ", price_now!(), " DESC NULLS LAST, p.id DESC");

const PAGE: &str = "\nLIMIT :limit OFFSET :offset";

/// The common till search (text, by relevance, no filter) straight from the
/// index: no join, ranked inside FTS5 (weights set in migration 0002).
const TEXT_IDS: &str = "
SELECT rowid FROM product_fts WHERE product_fts MATCH :match ORDER BY rank
LIMIT :limit OFFSET :offset";
const TEXT_COUNT: &str = "SELECT COUNT(*) FROM product_fts WHERE product_fts MATCH :match";
/// A broad search (see [`RANKED_MATCHES`]) in index order: FTS5 stops after
/// the page instead of scoring every match.
const TEXT_IDS_UNRANKED: &str = "
SELECT rowid FROM product_fts WHERE product_fts MATCH :match ORDER BY rowid
LIMIT :limit OFFSET :offset";

const VARIATIONS_WHERE: &str = "
FROM products p WHERE p.parent_id = :parent AND p.parent_id <> 0 AND p.type = 'variation'";
const ONE: &str = "\nFROM products p WHERE p.id = :id";
const CATEGORIES: &str = "
SELECT c.id, c.name, c.slug FROM product_categories pc JOIN categories c ON c.id = pc.category_id
WHERE pc.product_id = :id ORDER BY c.name, c.id";
const MATCHED_BY_SKU: &str = "
SELECT x.id FROM products x WHERE x.sku = :sku COLLATE NOCASE AND x.parent_id <> 0";
const MATCHED_BY_BARCODE: &str = concat!(
    "
SELECT x.id FROM product_barcodes b JOIN products x ON x.id = b.product_id
WHERE b.barcode = ",
    normalized_barcode!(":barcode"),
    " AND x.parent_id <> 0"
);

fn order_by(sort: ProductSort, text: bool) -> &'static str {
    match sort {
        ProductSort::Relevance if text => "\nORDER BY f.rank, p.name, p.id",
        ProductSort::Relevance | ProductSort::Name => "\nORDER BY p.name COLLATE NOCASE, p.id",
        ProductSort::NameDesc => "\nORDER BY p.name COLLATE NOCASE DESC, p.id DESC",
        ProductSort::Price => BY_PRICE,
        ProductSort::PriceDesc => BY_PRICE_DESC,
        ProductSort::Id => "\nORDER BY p.id",
        ProductSort::IdDesc => "\nORDER BY p.id DESC",
    }
}

/// Finds products. A variation matched by its own SKU or barcode brings its
/// parent, with the variation in `matched_variations`.
pub fn search(
    conn: &Connection,
    q: &ProductQuery,
    now: GmtTime,
) -> Result<Page<ProductView>, StoreError> {
    let (from, text) = match &q.lookup {
        ProductLookup::All => (FROM_ALL, false),
        ProductLookup::Text(_) => (FROM_TEXT, true),
        ProductLookup::Sku(_) => (FROM_SKU, false),
        ProductLookup::Barcode(_) => (FROM_BARCODE, false),
    };
    let (match_, sku, barcode) = match &q.lookup {
        ProductLookup::All => (None, None, None),
        ProductLookup::Text(t) => (Some(match_expression(t)), None, None),
        ProductLookup::Sku(s) => (None, Some(s.as_str()), None),
        ProductLookup::Barcode(b) => (None, None, Some(b.as_str())),
    };
    let now_text = now.to_string();
    // Only ids are ranked and paged; the page's rows are read afterwards, so
    // the per-row columns (stock owner, barcodes, ...) cost 1 page, not every
    // match.
    let direct =
        text && q.sort == ProductSort::Relevance && q.category.is_none() && q.in_stock.is_none();
    let count_sql = if direct {
        TEXT_COUNT.to_owned()
    } else {
        ["SELECT COUNT(*)", from, FILTERS].concat()
    };
    // Every statement names every parameter it uses; bind only those.
    let all: [(&str, &dyn rusqlite::ToSql); 8] = [
        (":match", &match_),
        (":sku", &sku),
        (":barcode", &barcode),
        (":category", &q.category),
        (":in_stock", &q.in_stock),
        (":now", &now_text),
        (":limit", &q.page.limit()),
        (":offset", &q.page.offset()),
    ];
    let mut count = conn.prepare_cached(&count_sql)?;
    let params = bind(&count, &all);
    let total: i64 = count.query_row(params.as_slice(), |r| r.get(0))?;
    let ranked = total <= RANKED_MATCHES;
    let list_sql = match (direct, ranked) {
        (true, true) => TEXT_IDS.to_owned(),
        (true, false) => TEXT_IDS_UNRANKED.to_owned(),
        (false, _) => {
            let order = match q.sort {
                ProductSort::Relevance if text && !ranked => "\nORDER BY p.id",
                sort => order_by(sort, text),
            };
            ["SELECT p.id", from, FILTERS, order, PAGE].concat()
        }
    };
    let mut stmt = conn.prepare_cached(&list_sql)?;
    let params = bind(&stmt, &all);
    let ids = stmt
        .query_map(params.as_slice(), |r| r.get::<_, UpstreamId>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.extend(get(conn, id, now)?);
    }
    attach_matched_variations(conn, &q.lookup, &mut items, now)?;
    Ok(Page {
        items,
        page: q.page.page,
        per_page: q.page.per_page,
        total,
    })
}

fn attach_matched_variations(
    conn: &Connection,
    lookup: &ProductLookup,
    items: &mut [ProductView],
    now: GmtTime,
) -> Result<(), StoreError> {
    let ids: Vec<UpstreamId> = match lookup {
        ProductLookup::Sku(s) => conn
            .prepare_cached(MATCHED_BY_SKU)?
            .query_map(named_params! { ":sku": s }, |r| r.get(0))?
            .collect::<Result<_, _>>()?,
        ProductLookup::Barcode(b) => conn
            .prepare_cached(MATCHED_BY_BARCODE)?
            .query_map(named_params! { ":barcode": b }, |r| r.get(0))?
            .collect::<Result<_, _>>()?,
        _ => return Ok(()),
    };
    let mut by_parent: HashMap<UpstreamId, Vec<ProductView>> = HashMap::new();
    for id in ids {
        if let Some(v) = get(conn, id, now)? {
            by_parent.entry(v.parent_id).or_default().push(v);
        }
    }
    for item in items {
        if let Some(vs) = by_parent.remove(&item.id) {
            item.matched_variations = vs;
        }
    }
    Ok(())
}

/// One product or variation, without its categories.
fn get(conn: &Connection, id: UpstreamId, now: GmtTime) -> Result<Option<ProductView>, StoreError> {
    let sql = [COLUMNS, ONE].concat();
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query_map(named_params! { ":id": id }, |r| read(r, now))?;
    Ok(rows.next().transpose()?)
}

/// One product (or variation) with its categories and, for a variable
/// product, the range of its variations' prices now.
pub fn product(
    conn: &Connection,
    id: UpstreamId,
    now: GmtTime,
) -> Result<Option<ProductView>, StoreError> {
    let Some(mut p) = get(conn, id, now)? else {
        return Ok(None);
    };
    if p.parent_id == 0 {
        let cats = conn
            .prepare_cached(CATEGORIES)?
            .query_map(named_params! { ":id": id }, |r| {
                Ok(CategoryRef {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    slug: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        p.categories = Some(cats);
    }
    if p.variation_count.is_some_and(|n| n > 0) {
        let sql = [COLUMNS, VARIATIONS_WHERE].concat();
        let mut stmt = conn.prepare_cached(&sql)?;
        let prices: Vec<_> = stmt
            .query_map(named_params! { ":parent": id }, |r| read(r, now))?
            .filter_map(|v| v.map(|v| v.price.price).transpose())
            .collect::<Result<_, _>>()?;
        if let (Some(min), Some(max)) = (prices.iter().min(), prices.iter().max()) {
            p.price_range = Some(PriceRange {
                min: *min,
                max: *max,
            });
        }
    }
    Ok(Some(p))
}

/// A product's variations, by id. `None` when the product is not in the
/// replica.
pub fn variations(
    conn: &Connection,
    parent: UpstreamId,
    page: PageRequest,
    now: GmtTime,
) -> Result<Option<Page<ProductView>>, StoreError> {
    if get(conn, parent, now)?.is_none() {
        return Ok(None);
    }
    let sql = [COLUMNS, VARIATIONS_WHERE, "\nORDER BY p.id", PAGE].concat();
    let items = conn
        .prepare_cached(&sql)?
        .query_map(
            named_params! { ":parent": parent, ":limit": page.limit(), ":offset": page.offset() },
            |r| read(r, now),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let count_sql = ["SELECT COUNT(*)", VARIATIONS_WHERE].concat();
    let total = conn
        .prepare_cached(&count_sql)?
        .query_row(named_params! { ":parent": parent }, |r| r.get(0))?;
    Ok(Some(Page {
        items,
        page: page.page,
        per_page: page.per_page,
        total,
    }))
}

fn read(r: &Row<'_>, now: GmtTime) -> rusqlite::Result<ProductView> {
    let prices = PriceFacts {
        listed: amount(r.get(7)?),
        regular: amount(r.get(8)?),
        sale: amount(r.get(9)?),
        sale_from: time(r.get(10)?),
        sale_to: time(r.get(11)?),
    };
    let manage: String = r.get(14)?;
    let stock = StockFacts {
        manage_stock: ManageStock::parse(&manage).unwrap_or(ManageStock::No),
        quantity: r.get(15)?,
        status: r.get(16)?,
        backorders: r.get(17)?,
        unconfirmed: r.get(18)?,
    };
    let mut mapped = MappedFields::default();
    for (field, label, value) in json_list::<(String, String, String)>(r, 23)? {
        match field.as_str() {
            "brand" => mapped.brand = Some(value),
            "bin_location" => mapped.bin_location = Some(value),
            "label" => {
                mapped.labels.insert(label, value);
            }
            _ => {}
        }
    }
    Ok(ProductView {
        id: r.get(0)?,
        parent_id: r.get(1)?,
        kind: r.get(2)?,
        status: r.get(3)?,
        name: r.get(4)?,
        sku: r.get(5)?,
        global_unique_id: r.get(6)?,
        barcodes: json_list(r, 19)?,
        price: prices.view(now),
        tax_status: r.get(12)?,
        tax_class: r.get(13)?,
        stock: stock.view(),
        attributes: json_list(r, 20)?,
        images: json_list(r, 21)?,
        categories: None,
        variation_count: r.get(22)?,
        price_range: None,
        mapped,
        matched_variations: Vec::new(),
    })
}
