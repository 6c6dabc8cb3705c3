-- possync replica, schema 10: meta mapping.
--
-- The manager maps an upstream meta key (seen in the products' and
-- variations' mirrored `meta_data`) to a field lookups show: a barcode, the
-- brand, the bin location, or a free label named by the manager. Made on
-- the back-office page; kept here so that every writer applies the same
-- mappings.
--
-- field: barcode, brand, bin_location or label; label: the label's name for
-- field = label, '' otherwise. One mapping per key.
-- A barcode mapping joins the keys of `lookup_barcode_keys` (the ones from
-- possync.toml): the barcode index reads both.
CREATE TABLE meta_mappings (
    meta_key   TEXT    PRIMARY KEY,
    field      TEXT    NOT NULL CHECK (field IN ('barcode', 'brand', 'bin_location', 'label')),
    label      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    CHECK ((field = 'label') = (label <> ''))
) WITHOUT ROWID;

-- The mapped values of each product and variation (barcodes go to
-- product_barcodes instead), rebuilt with the search indexes whenever a
-- product is written (store::lookup::index::flush). For several keys
-- mapped to one field, the first key in key order that has a value wins.
CREATE TABLE product_meta_fields (
    product_id INTEGER NOT NULL,
    field      TEXT    NOT NULL,
    label      TEXT    NOT NULL DEFAULT '',
    value      TEXT    NOT NULL,
    PRIMARY KEY (product_id, field, label)
) WITHOUT ROWID;

-- The re-index a mapping change starts: products are re-indexed in id
-- order, one batch per transaction, so the single writer is never held for
-- long; after_id is the last product id done, committed with its batch, so
-- a restart resumes where the last batch ended. One row at most;
-- finished_at is set when the last batch is done.
CREATE TABLE meta_reindex (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    after_id    INTEGER NOT NULL,
    done        INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
