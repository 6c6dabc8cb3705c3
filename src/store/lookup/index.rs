//! Keeps the search indexes (barcodes, mapped meta fields and full text) in step with the
//! replica. Triggers (migration 0002) mark every product, customer or order a
//! statement touches in `search_dirty`; [`flush`] re-indexes what is marked,
//! set-based, and runs inside every write transaction just before it commits
//! (see `Store::write`), so an index never lags the rows it describes.
//!
//! One exception, for a first pull: [`defer_if_empty`] lists the product
//! documents as deferred (migration 0008) when a pull starts on a replica
//! without products. The flush then keeps barcodes live but leaves the
//! product documents out, and [`build_deferred`] writes every document in
//! one statement once the catalog is in. While they are deferred,
//! [`deferred`] says so, and a name search answers that the index is being
//! built rather than answering from part of it.

use rusqlite::{Connection, Transaction, named_params};

use super::super::StoreError;
use crate::domain::lookup::query::SearchText;

const ANY_DIRTY: &str = "SELECT EXISTS (SELECT 1 FROM search_dirty)";

/// Barcode normalisation, applied to indexed codes and to scanned ones
/// alike: trimmed, upper case, and an all-digit code without its leading
/// zeros (GTIN-8/12/13/14 forms of one code then compare equal).
macro_rules! normalized_barcode {
    ($x:literal) => {
        concat!(
            "(CASE WHEN trim(",
            $x,
            ") NOT GLOB '*[^0-9]*' THEN COALESCE(NULLIF(ltrim(trim(",
            $x,
            "), '0'), ''), '0') ELSE upper(trim(",
            $x,
            ")) END)"
        )
    };
}
pub(super) use normalized_barcode;

/// Digits of a phone number, for matching however it was written.
macro_rules! digits {
    ($x:literal) => {
        concat!(
            "replace(replace(replace(replace(replace(replace(replace(",
            $x,
            ", ' ', ''), '+', ''), '-', ''), '(', ''), ')', ''), '.', ''), '/', '')"
        )
    };
}
pub(super) use digits;

/// The words of a phone number plus its digits, the digits without a
/// leading country code of one to three digits, and its last seven and
/// eight digits: `+44 20 7946 0018` is then found as `020 7946 0018`,
/// `2079460018` or `7946 0018` (the query drops leading zeros, see
/// [`SearchText`]).
macro_rules! phone_tokens {
    ($x:literal) => {
        concat!(
            "concat_ws(' ', ",
            $x,
            ", ",
            digits!($x),
            ", ",
            "substr(",
            digits!($x),
            ", 2), ",
            "substr(",
            digits!($x),
            ", 3), ",
            "substr(",
            digits!($x),
            ", 4), ",
            "substr(",
            digits!($x),
            ", -8), ",
            "substr(",
            digits!($x),
            ", -7))"
        )
    };
}

const DELETE_BARCODES: &str = "
DELETE FROM product_barcodes
WHERE product_id IN (SELECT id FROM search_dirty WHERE kind = 'product')";
const INSERT_BARCODES: &str = concat!(
    "INSERT OR IGNORE INTO product_barcodes (barcode, product_id)
SELECT ",
    normalized_barcode!("code"),
    ", id FROM (
    SELECT p.id, p.global_unique_id AS code
    FROM search_dirty d JOIN products p ON p.id = d.id
    WHERE d.kind = 'product' AND p.global_unique_id IS NOT NULL
    UNION ALL
    SELECT p.id, m.value ->> '$.value'
    FROM search_dirty d JOIN products p ON p.id = d.id, json_each(p.meta_data) m
    WHERE d.kind = 'product'
      AND m.value ->> '$.key' IN (
          SELECT meta_key FROM lookup_barcode_keys
          UNION ALL SELECT meta_key FROM meta_mappings WHERE field = 'barcode')
      AND json_type(m.value, '$.value') IN ('text', 'integer')
) WHERE trim(code) <> ''"
);

const DELETE_META_FIELDS: &str = "
DELETE FROM product_meta_fields
WHERE product_id IN (SELECT id FROM search_dirty WHERE kind = 'product')";
/// The mapped fields (migration 0010) of the marked products: a scalar,
/// non-blank value, trimmed and cut to [`MAX_META_VALUE_CHARS`]; for keys
/// mapped to one field, the first key in key order wins (rows are inserted
/// in that order, and a second one for the field is ignored).
const INSERT_META_FIELDS: &str = "
INSERT OR IGNORE INTO product_meta_fields (product_id, field, label, value)
SELECT p.id, mm.field, mm.label, substr(trim(m.value ->> '$.value'), 1, 200)
FROM search_dirty d JOIN products p ON p.id = d.id, json_each(p.meta_data) m
JOIN meta_mappings mm ON mm.meta_key = m.value ->> '$.key'
WHERE d.kind = 'product' AND mm.field <> 'barcode'
  AND json_type(m.value, '$.value') IN ('text', 'integer', 'real')
  AND trim(m.value ->> '$.value') <> ''
ORDER BY p.id, mm.meta_key, m.id";
/// Longest mapped value kept (the `substr` above).
pub const MAX_META_VALUE_CHARS: usize = 200;

const DELETE_PRODUCT_DOCS: &str = "
DELETE FROM product_fts WHERE rowid IN (SELECT id FROM search_dirty WHERE kind = 'product')";
/// A product's document folds in its variations' SKUs and barcodes, its
/// category names and its attribute options.
macro_rules! product_docs {
    ($from:literal) => {
        concat!(
            "
INSERT INTO product_fts (rowid, name, sku, barcodes, categories, attributes)
SELECT p.id, p.name,
    concat_ws(' ', p.sku,
        (SELECT group_concat(v.sku, ' ') FROM products v
         WHERE v.parent_id = p.id AND v.parent_id <> 0)),
    concat_ws(' ',
        (SELECT group_concat(b.barcode, ' ') FROM product_barcodes b WHERE b.product_id = p.id),
        (SELECT group_concat(b.barcode, ' ') FROM products v
         JOIN product_barcodes b ON b.product_id = v.id
         WHERE v.parent_id = p.id AND v.parent_id <> 0)),
    (SELECT group_concat(c.name, ' ') FROM product_categories pc
     JOIN categories c ON c.id = pc.category_id WHERE pc.product_id = p.id),
    (SELECT group_concat(o.value, ' ') FROM json_each(p.attributes) a,
     json_each(a.value, '$.options') o)
",
            $from
        )
    };
}
const INSERT_PRODUCT_DOCS: &str = product_docs!(
    "FROM search_dirty d JOIN products p ON p.id = d.id
WHERE d.kind = 'product' AND p.parent_id = 0 AND p.type <> 'variation'"
);
/// Every product's document at once, after a first pull.
const BUILD_PRODUCT_DOCS: &str =
    product_docs!("FROM products p WHERE p.parent_id = 0 AND p.type <> 'variation'");
const CLEAR_PRODUCT_DOCS: &str = "INSERT INTO product_fts (product_fts) VALUES ('delete-all')";

const IS_DEFERRED: &str = "SELECT EXISTS (SELECT 1 FROM search_deferred WHERE kind = :kind)";
const DEFER_IF_EMPTY: &str = "
INSERT OR IGNORE INTO search_deferred (kind, since)
SELECT 'product', :now WHERE NOT EXISTS (SELECT 1 FROM products WHERE type <> 'variation')";
const UNDEFER: &str = "DELETE FROM search_deferred WHERE kind = :kind";
/// The kind of search documents that may be deferred.
const PRODUCT: &str = "product";

const DELETE_CUSTOMER_DOCS: &str = "
DELETE FROM customer_fts WHERE rowid IN (SELECT id FROM search_dirty WHERE kind = 'customer')";
const INSERT_CUSTOMER_DOCS: &str = concat!(
    "INSERT INTO customer_fts (rowid, name, email, phone, company)
SELECT c.id,
    concat_ws(' ', c.first_name, c.last_name, b.first_name, b.last_name,
              s.first_name, s.last_name, c.username),
    concat_ws(' ', c.email, b.email),
    concat_ws(' ', ",
    phone_tokens!("b.phone"),
    ", ",
    phone_tokens!("s.phone"),
    "),
    concat_ws(' ', b.company, s.company)
FROM search_dirty d JOIN customers c ON c.id = d.id
LEFT JOIN customer_addresses b ON b.customer_id = c.id AND b.kind = 'billing'
LEFT JOIN customer_addresses s ON s.customer_id = c.id AND s.kind = 'shipping'
WHERE d.kind = 'customer'"
);

const DELETE_ORDER_DOCS: &str = "
DELETE FROM order_fts WHERE rowid IN (SELECT id FROM search_dirty WHERE kind = 'order')";
const INSERT_ORDER_DOCS: &str = concat!(
    "INSERT INTO order_fts (rowid, number, name, email, phone)
SELECT o.id,
    concat_ws(' ', o.number, CASE WHEN o.number <> CAST(o.id AS TEXT) THEN o.id END),
    concat_ws(' ', b.first_name, b.last_name, b.company, s.first_name, s.last_name, s.company),
    b.email,
    concat_ws(' ', ",
    phone_tokens!("b.phone"),
    ", ",
    phone_tokens!("s.phone"),
    ")
FROM search_dirty d JOIN orders o ON o.id = d.id
LEFT JOIN order_addresses b ON b.order_id = o.id AND b.kind = 'billing'
LEFT JOIN order_addresses s ON s.order_id = o.id AND s.kind = 'shipping'
WHERE d.kind = 'order'"
);

const CLEAR_DIRTY: &str = "DELETE FROM search_dirty";

const BARCODE_KEYS: &str = "SELECT meta_key FROM lookup_barcode_keys ORDER BY meta_key";
const DELETE_BARCODE_KEYS: &str = "DELETE FROM lookup_barcode_keys";
const INSERT_BARCODE_KEY: &str =
    "INSERT OR IGNORE INTO lookup_barcode_keys (meta_key) VALUES (:key)";
const MARK_ALL_PRODUCTS: &str =
    "INSERT OR IGNORE INTO search_dirty (kind, id) SELECT 'product', id FROM products";

/// Re-indexes every object marked since the last flush. Cheap when nothing
/// is marked (one indexed probe).
pub fn flush(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let any: bool = tx.prepare_cached(ANY_DIRTY)?.query_row([], |r| r.get(0))?;
    if !any {
        return Ok(());
    }
    // Deferred product documents are all built at the end of the pull.
    let product_docs = !deferred(tx)?;
    // Barcodes first: product documents are built from them.
    for (sql, run) in [
        (DELETE_BARCODES, true),
        (INSERT_BARCODES, true),
        (DELETE_META_FIELDS, true),
        (INSERT_META_FIELDS, true),
        (DELETE_PRODUCT_DOCS, product_docs),
        (INSERT_PRODUCT_DOCS, product_docs),
        (DELETE_CUSTOMER_DOCS, true),
        (INSERT_CUSTOMER_DOCS, true),
        (DELETE_ORDER_DOCS, true),
        (INSERT_ORDER_DOCS, true),
        (CLEAR_DIRTY, true),
    ] {
        if run {
            tx.prepare_cached(sql)?.execute([])?;
        }
    }
    Ok(())
}

/// Whether the product documents (name search) are deferred: a first pull
/// is writing the catalog and builds them when it is in.
pub fn deferred(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(IS_DEFERRED)?
        .query_row(named_params! { ":kind": PRODUCT }, |r| r.get(0))?)
}

/// Defers the product documents when the replica holds no product yet (a
/// first pull is starting); returns whether they are deferred now.
pub fn defer_if_empty(tx: &Transaction<'_>, now_ms: i64) -> Result<bool, StoreError> {
    tx.prepare_cached(DEFER_IF_EMPTY)?
        .execute(named_params! { ":now": now_ms })?;
    deferred(tx)
}

/// Builds every product document, if they were deferred, and ends the
/// deferral; returns whether there was anything to build. Runs inside one
/// transaction, so a name search sees either the deferral or the whole
/// index.
pub fn build_deferred(tx: &Transaction<'_>) -> Result<bool, StoreError> {
    if !deferred(tx)? {
        return Ok(false);
    }
    // Marked rows are indexed by the flush that ends this transaction; the
    // barcodes they need are brought up to date first.
    for sql in [
        DELETE_BARCODES,
        INSERT_BARCODES,
        DELETE_META_FIELDS,
        INSERT_META_FIELDS,
    ] {
        tx.prepare_cached(sql)?.execute([])?;
    }
    tx.execute(CLEAR_PRODUCT_DOCS, [])?;
    tx.execute(BUILD_PRODUCT_DOCS, [])?;
    tx.execute("DELETE FROM search_dirty WHERE kind = 'product'", [])?;
    tx.prepare_cached(UNDEFER)?
        .execute(named_params! { ":kind": PRODUCT })?;
    Ok(true)
}

/// Sets the meta keys whose values are barcodes. When they differ from the
/// stored ones, every product is re-indexed (by the flush that ends the
/// caller's transaction). Returns whether they changed.
pub fn set_barcode_keys(tx: &Transaction<'_>, keys: &[String]) -> Result<bool, StoreError> {
    let mut wanted: Vec<&str> = keys.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let current = barcode_keys(tx)?;
    if current
        .iter()
        .map(String::as_str)
        .eq(wanted.iter().copied())
    {
        return Ok(false);
    }
    tx.execute(DELETE_BARCODE_KEYS, [])?;
    let mut insert = tx.prepare_cached(INSERT_BARCODE_KEY)?;
    for key in wanted {
        insert.execute(named_params! { ":key": key })?;
    }
    tx.execute(MARK_ALL_PRODUCTS, [])?;
    Ok(true)
}

/// The meta keys read as barcodes, sorted.
pub fn barcode_keys(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(BARCODE_KEYS)?;
    let keys = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(keys)
}

/// The FTS5 query for a search: every word as a prefix, all required; a
/// phone-like text may instead match its digits as one prefix. Words are
/// letters and digits only (see [`SearchText`]), quoted, so nothing typed at
/// the till is read as query syntax.
pub fn match_expression(text: &SearchText) -> String {
    let words = text
        .words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" AND ");
    match &text.digits {
        Some(d) => format!("({words}) OR \"{d}\"*"),
        None => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::one_word("shirt", "\"shirt\"*")]
    #[case::all_words_as_prefixes("Blue sh", "\"blue\"* AND \"sh\"*")]
    #[case::syntax_is_not_syntax("NEAR(a OR b)", "\"near\"* AND \"a\"* AND \"or\"* AND \"b\"*")]
    #[case::phone_digits_too("07700 900", "(\"07700\"* AND \"900\"*) OR \"7700900\"*")]
    fn match_expressions_quote_every_word(#[case] input: &str, #[case] expected: &str) {
        let text = SearchText::parse(input).unwrap();
        assert_eq!(match_expression(&text), expected);
    }
}

#[cfg(test)]
mod write_path_tests {
    use crate::store::Store;

    /// Upserts that update existing rows (a second pull) fire the update
    /// triggers for objects already marked in the same transaction.
    #[tokio::test]
    async fn updating_rows_already_marked_in_the_transaction_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        let sql = "
            INSERT INTO categories (id, name, slug, raw, synced_at) VALUES (1, :name, 'c', '{}', 0)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name;
            INSERT INTO customers (id, email, raw, synced_at) VALUES (1, 'a@b.c', '{}', 0)
            ON CONFLICT (id) DO UPDATE SET email = excluded.email;
            INSERT INTO customer_addresses (customer_id, kind, phone) VALUES (1, 'billing', '1')
            ON CONFLICT (customer_id, kind) DO UPDATE SET phone = excluded.phone;
            INSERT INTO orders (id, number, status, date_modified_gmt, raw, synced_at)
            VALUES (1, '1', 'processing', '2026-01-01T00:00:00', '{}', 0)
            ON CONFLICT (id) DO UPDATE SET number = excluded.number;
            INSERT INTO order_addresses (order_id, kind, phone) VALUES (1, 'billing', '1')
            ON CONFLICT (order_id, kind) DO UPDATE SET phone = excluded.phone;
            INSERT INTO products (id, type, status, name, date_modified_gmt, raw, synced_at)
            VALUES (1, 'simple', 'publish', 'Mug', '2026-01-01T00:00:00', '{}', 0)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name;
            INSERT OR IGNORE INTO product_categories (product_id, category_id) VALUES (1, 1);";
        for name in ["Cups", "Mugs"] {
            store
                .write(move |tx| {
                    for stmt in sql.split(';').filter(|s| !s.trim().is_empty()) {
                        let mut st = tx.prepare(stmt)?;
                        if st.parameter_count() == 1 {
                            st.execute([name])?;
                        } else {
                            st.execute([])?;
                        }
                    }
                    // Twice in one transaction, as a page with repeats would.
                    tx.execute_batch(
                        "UPDATE categories SET name = name || ' '; UPDATE customers SET email = email;
                         UPDATE orders SET number = number; UPDATE products SET name = name;",
                    )?;
                    Ok(())
                })
                .await
                .unwrap();
        }
        let docs: i64 = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT COUNT(*) FROM product_fts WHERE product_fts MATCH 'mugs')
                          + (SELECT COUNT(*) FROM customer_fts WHERE customer_fts MATCH 'a')
                          + (SELECT COUNT(*) FROM order_fts WHERE order_fts MATCH '1')",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(docs, 3);
    }
}

#[cfg(test)]
mod upgrade_and_breadth_tests {
    use rusqlite::Connection;
    use rusqlite_migration::{M, Migrations};

    use crate::domain::GmtTime;
    use crate::domain::lookup::query::{
        PageRequest, ProductLookup, ProductQuery, ProductSort, SearchText,
    };
    use crate::store::Store;
    use crate::store::lookup::{RANKED_MATCHES, products};

    const INSERT_MUG: &str = "
        INSERT INTO products (id, type, status, name, sku, global_unique_id, date_modified_gmt,
                              raw, synced_at)
        VALUES (?1, 'simple', 'publish', 'Blue Mug', 'MUG-' || ?1, '0' || (4000000000000 + ?1),
                '2026-01-01T00:00:00', '{}', 0)";

    fn text(q: &str, page: u32) -> ProductQuery {
        ProductQuery {
            lookup: ProductLookup::Text(SearchText::parse(q).unwrap()),
            category: None,
            in_stock: None,
            sort: ProductSort::Relevance,
            page: PageRequest { page, per_page: 10 },
        }
    }

    /// A replica written by schema 1 is indexed when it is opened by this
    /// version.
    #[tokio::test]
    async fn a_schema_1_replica_is_indexed_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::new(vec![M::up(include_str!(
                "../../../migrations/0001_init.sql"
            ))])
            .to_latest(&mut conn)
            .unwrap();
            conn.execute(INSERT_MUG, [7]).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let page = store
            .read(|c| products::search(c, &text("mug", 1), GmtTime::now()))
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(page.items[0].id, 7);
        assert_eq!(page.items[0].barcodes, ["4000000000007"]);
    }

    /// Past the ranking limit, a search still counts every match and pages
    /// through them in index order.
    #[tokio::test]
    async fn a_broad_search_pages_in_index_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        let n = RANKED_MATCHES + 5;
        store
            .write(move |tx| {
                let mut stmt = tx.prepare(INSERT_MUG)?;
                for id in 1..=n {
                    stmt.execute([id])?;
                }
                Ok(())
            })
            .await
            .unwrap();
        let page = store
            .read(|c| products::search(c, &text("mu", 3), GmtTime::now()))
            .await
            .unwrap();
        assert_eq!(page.total, n);
        let ids: Vec<i64> = page.items.iter().map(|p| p.id).collect();
        assert_eq!(ids, (21..=30).collect::<Vec<_>>());
    }
}
