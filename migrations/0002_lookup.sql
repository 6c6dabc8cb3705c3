-- possync replica, schema 2: till lookups.
--
-- Search indexes over the mirrored catalog, customers and orders, kept in
-- step with every write by triggers: a trigger marks the touched object in
-- `search_dirty`, and the writer re-indexes the marked objects just before
-- each transaction commits (store::lookup::index::flush). An object is thus
-- indexed once per transaction however many of its rows (product, links,
-- addresses) the transaction wrote, and no write path can forget the index.

-- The upstream meta keys whose values are barcodes (config
-- lookup.barcode_meta_keys), kept here so the index follows the same keys
-- whoever writes; replaced at start when the configuration changes.
CREATE TABLE lookup_barcode_keys (
    meta_key TEXT PRIMARY KEY
) WITHOUT ROWID;
INSERT INTO lookup_barcode_keys (meta_key) VALUES ('_ean'), ('_barcode');

-- Every barcode a product or variation answers to: its global_unique_id and
-- the values of the configured meta keys, normalised (upper case; an
-- all-digit code without leading zeros, so UPC-A, EAN-13 and GTIN-14 forms
-- of one code match).
CREATE TABLE product_barcodes (
    barcode    TEXT    NOT NULL,
    product_id INTEGER NOT NULL,
    PRIMARY KEY (barcode, product_id)
) WITHOUT ROWID;
CREATE INDEX product_barcodes_product ON product_barcodes (product_id);

-- Objects whose index entries are stale. kind: product (a product or a
-- variation; a variation also marks its parent), customer, order.
-- Triggers add a mark only when it is absent rather than with INSERT OR
-- IGNORE: inside a trigger fired by an upsert, the outer statement's
-- conflict policy replaces the trigger's own, and a repeated mark would
-- abort the write.
CREATE TABLE search_dirty (
    kind TEXT    NOT NULL,
    id   INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- Full-text indexes. Contentless (the text lives in the tables above), with
-- deletes, accent- and case-insensitive, with prefix indexes so a partial
-- word typed at the till is answered from the index.
-- One row per product (not per variation): a variation's SKUs, barcodes and
-- options are folded into its parent's row, since the till picks a product.
CREATE VIRTUAL TABLE product_fts USING fts5 (
    name, sku, barcodes, categories, attributes,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE VIRTUAL TABLE customer_fts USING fts5 (
    name, email, phone, company,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE VIRTUAL TABLE order_fts USING fts5 (
    number, name, email, phone,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

-- Relevance: a match in the name (order number for orders) weighs most.
INSERT INTO product_fts (product_fts, rank) VALUES ('rank', 'bm25(10.0, 6.0, 6.0, 2.0, 1.0)');
INSERT INTO customer_fts (customer_fts, rank) VALUES ('rank', 'bm25(5.0, 4.0, 4.0, 2.0)');
INSERT INTO order_fts (order_fts, rank) VALUES ('rank', 'bm25(10.0, 3.0, 5.0, 5.0)');

-- Products and variations.
CREATE TRIGGER products_search_insert AFTER INSERT ON products BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'product', NEW.id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'product' AND id = NEW.id);
    INSERT INTO search_dirty (kind, id)
        SELECT 'product', NEW.parent_id WHERE NEW.parent_id <> 0
        AND NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'product' AND id = NEW.parent_id);
END;
CREATE TRIGGER products_search_update
AFTER UPDATE OF parent_id, type, sku, name, global_unique_id, attributes, meta_data ON products BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'product', NEW.id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'product' AND id = NEW.id);
    INSERT INTO search_dirty (kind, id)
        SELECT 'product', NEW.parent_id WHERE NEW.parent_id <> 0
        AND NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'product' AND id = NEW.parent_id);
    INSERT INTO search_dirty (kind, id)
        SELECT 'product', OLD.parent_id WHERE OLD.parent_id <> 0
        AND NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'product' AND id = OLD.parent_id);
END;
CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'product', OLD.id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'product' AND id = OLD.id);
    INSERT INTO search_dirty (kind, id)
        SELECT 'product', OLD.parent_id WHERE OLD.parent_id <> 0
        AND NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'product' AND id = OLD.parent_id);
END;
CREATE TRIGGER product_categories_search_insert AFTER INSERT ON product_categories BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'product', NEW.product_id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'product' AND id = NEW.product_id);
END;
CREATE TRIGGER product_categories_search_delete AFTER DELETE ON product_categories BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'product', OLD.product_id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'product' AND id = OLD.product_id);
END;
-- A renamed or removed category changes the documents of its products.
CREATE TRIGGER categories_search_update AFTER UPDATE OF name ON categories
WHEN NEW.name IS NOT OLD.name BEGIN
    INSERT INTO search_dirty (kind, id)
        SELECT 'product', pc.product_id FROM product_categories pc
        WHERE pc.category_id = NEW.id AND NOT EXISTS (
            SELECT 1 FROM search_dirty d WHERE d.kind = 'product' AND d.id = pc.product_id);
END;
CREATE TRIGGER categories_search_delete AFTER DELETE ON categories BEGIN
    INSERT INTO search_dirty (kind, id)
        SELECT 'product', pc.product_id FROM product_categories pc
        WHERE pc.category_id = OLD.id AND NOT EXISTS (
            SELECT 1 FROM search_dirty d WHERE d.kind = 'product' AND d.id = pc.product_id);
END;
CREATE TRIGGER categories_search_insert AFTER INSERT ON categories BEGIN
    INSERT INTO search_dirty (kind, id)
        SELECT 'product', pc.product_id FROM product_categories pc
        WHERE pc.category_id = NEW.id AND NOT EXISTS (
            SELECT 1 FROM search_dirty d WHERE d.kind = 'product' AND d.id = pc.product_id);
END;

-- Customers and their addresses.
CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'customer', NEW.id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'customer' AND id = NEW.id);
END;
CREATE TRIGGER customers_search_update
AFTER UPDATE OF email, first_name, last_name, username ON customers BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'customer', NEW.id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'customer' AND id = NEW.id);
END;
CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'customer', OLD.id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'customer' AND id = OLD.id);
END;
CREATE TRIGGER customer_addresses_search_insert AFTER INSERT ON customer_addresses BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'customer', NEW.customer_id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'customer' AND id = NEW.customer_id);
END;
CREATE TRIGGER customer_addresses_search_update AFTER UPDATE ON customer_addresses BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'customer', NEW.customer_id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'customer' AND id = NEW.customer_id);
END;
CREATE TRIGGER customer_addresses_search_delete AFTER DELETE ON customer_addresses BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'customer', OLD.customer_id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'customer' AND id = OLD.customer_id);
END;

-- Orders and their addresses.
CREATE TRIGGER orders_search_insert AFTER INSERT ON orders BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'order', NEW.id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'order' AND id = NEW.id);
END;
CREATE TRIGGER orders_search_update AFTER UPDATE OF number ON orders BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'order', NEW.id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'order' AND id = NEW.id);
END;
CREATE TRIGGER orders_search_delete AFTER DELETE ON orders BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'order', OLD.id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'order' AND id = OLD.id);
END;
CREATE TRIGGER order_addresses_search_insert AFTER INSERT ON order_addresses BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'order', NEW.order_id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'order' AND id = NEW.order_id);
END;
CREATE TRIGGER order_addresses_search_update AFTER UPDATE ON order_addresses BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'order', NEW.order_id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'order' AND id = NEW.order_id);
END;
CREATE TRIGGER order_addresses_search_delete AFTER DELETE ON order_addresses BEGIN
    INSERT INTO search_dirty (kind, id) SELECT 'order', OLD.order_id
        WHERE NOT EXISTS (SELECT 1 FROM search_dirty WHERE kind = 'order' AND id = OLD.order_id);
END;

-- Whatever the replica already holds (an upgrade from schema 1) is indexed
-- by the first flush, which Store::open runs.
INSERT OR IGNORE INTO search_dirty (kind, id) SELECT 'product', id FROM products;
INSERT OR IGNORE INTO search_dirty (kind, id) SELECT 'customer', id FROM customers;
INSERT OR IGNORE INTO search_dirty (kind, id) SELECT 'order', id FROM orders;

-- Lookups that filter without full text.
CREATE INDEX order_shipping_lines_method ON order_shipping_lines (method_id, order_id);
CREATE INDEX orders_created ON orders (date_created_gmt);
CREATE INDEX refund_line_items_item ON refund_line_items (refunded_item_id)
    WHERE refunded_item_id IS NOT NULL;

-- This till's sales not yet confirmed upstream, per product and variation
-- (variation_id NULL or 0 for a simple product). Available stock is upstream
-- stock minus these. Empty until the outbox exists: the outbox migration
-- replaces this view (DROP VIEW unconfirmed_stock; CREATE VIEW
-- unconfirmed_stock ... with the same three columns) over its sales tables.
CREATE VIEW unconfirmed_stock (product_id, variation_id, quantity) AS
    SELECT NULL, NULL, 0 WHERE 0;

-- The same quantities per stock owner: the row whose stock_quantity they
-- come off (a variation counts its own stock unless its parent manages it).
CREATE VIEW unconfirmed_stock_by_owner (owner_id, quantity) AS
    SELECT CASE WHEN v.id IS NOT NULL AND v.manage_stock <> 'parent' THEN v.id
                ELSE u.product_id END,
           SUM(u.quantity)
    FROM unconfirmed_stock u
    LEFT JOIN products v ON v.id = u.variation_id AND u.variation_id <> 0
    GROUP BY 1;
