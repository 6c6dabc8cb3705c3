-- possync replica, schema 1.
--
-- Every mirrored upstream object keeps its full JSON in `raw` beside the typed
-- columns, so no field is ever lost. Mirrored rows also carry:
--   seen_run  the full-pull run that last saw the row (pull_runs.id), or NULL
--   synced_at when this agent last wrote the row (unix ms, local clock)
-- A completed full pull removes rows it did not see and that were not written
-- since it started (see store::sync_state).
--
-- No foreign keys run between mirrored objects (a variation may arrive before
-- its parent, a refund before its order); child rows that are written with
-- their parent in one transaction (lines, addresses) cascade from it.

CREATE TABLE products (
    id                    INTEGER PRIMARY KEY,
    parent_id             INTEGER NOT NULL DEFAULT 0,   -- 0 for products, the variable product for variations
    type                  TEXT    NOT NULL,             -- simple, variable, grouped, external, variation, …
    status                TEXT    NOT NULL,
    sku                   TEXT,
    name                  TEXT    NOT NULL,
    slug                  TEXT    NOT NULL DEFAULT '',
    global_unique_id      TEXT,
    price                 TEXT,                         -- decimal strings, exactly as the shop states them
    regular_price         TEXT,
    sale_price            TEXT,
    date_on_sale_from_gmt TEXT,
    date_on_sale_to_gmt   TEXT,
    tax_status            TEXT    NOT NULL DEFAULT 'taxable',
    tax_class             TEXT    NOT NULL DEFAULT '',
    manage_stock          TEXT    NOT NULL DEFAULT 'no' CHECK (manage_stock IN ('no', 'yes', 'parent')),
    stock_quantity        INTEGER,
    stock_status          TEXT    NOT NULL DEFAULT 'instock',
    backorders            TEXT    NOT NULL DEFAULT 'no',
    attributes            TEXT    NOT NULL DEFAULT '[]', -- JSON
    images                TEXT    NOT NULL DEFAULT '[]', -- JSON
    meta_data             TEXT    NOT NULL DEFAULT '[]', -- JSON
    date_created_gmt      TEXT,
    date_modified_gmt     TEXT    NOT NULL,
    raw                   TEXT    NOT NULL,
    seen_run              INTEGER,
    synced_at             INTEGER NOT NULL
);
CREATE INDEX products_parent ON products (parent_id) WHERE parent_id <> 0;
CREATE INDEX products_sku ON products (sku COLLATE NOCASE) WHERE sku IS NOT NULL;
CREATE INDEX products_gtin ON products (global_unique_id) WHERE global_unique_id IS NOT NULL;
CREATE INDEX products_modified ON products (date_modified_gmt);

CREATE TABLE product_categories (
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    category_id INTEGER NOT NULL,
    PRIMARY KEY (product_id, category_id)
) WITHOUT ROWID;
CREATE INDEX product_categories_category ON product_categories (category_id);

CREATE TABLE product_tags (
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL,
    PRIMARY KEY (product_id, tag_id)
) WITHOUT ROWID;

CREATE TABLE categories (
    id          INTEGER PRIMARY KEY,
    parent_id   INTEGER NOT NULL DEFAULT 0,
    name        TEXT    NOT NULL,
    slug        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    display     TEXT    NOT NULL DEFAULT 'default',
    image       TEXT,                                   -- JSON or NULL
    menu_order  INTEGER NOT NULL DEFAULT 0,
    count       INTEGER NOT NULL DEFAULT 0,
    raw         TEXT    NOT NULL,
    seen_run    INTEGER,
    synced_at   INTEGER NOT NULL
);

CREATE TABLE tags (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    slug        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    count       INTEGER NOT NULL DEFAULT 0,
    raw         TEXT    NOT NULL,
    seen_run    INTEGER,
    synced_at   INTEGER NOT NULL
);

CREATE TABLE attributes (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    slug         TEXT    NOT NULL,
    type         TEXT    NOT NULL DEFAULT 'select',
    order_by     TEXT    NOT NULL DEFAULT 'menu_order',
    has_archives INTEGER NOT NULL DEFAULT 0,
    raw          TEXT    NOT NULL,
    synced_at    INTEGER NOT NULL
);

CREATE TABLE attribute_terms (
    id           INTEGER PRIMARY KEY,
    attribute_id INTEGER NOT NULL REFERENCES attributes (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    slug         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    menu_order   INTEGER NOT NULL DEFAULT 0,
    count        INTEGER NOT NULL DEFAULT 0,
    raw          TEXT    NOT NULL
);
CREATE INDEX attribute_terms_attribute ON attribute_terms (attribute_id);

CREATE TABLE customers (
    id                 INTEGER PRIMARY KEY,
    email              TEXT    NOT NULL DEFAULT '',
    first_name         TEXT    NOT NULL DEFAULT '',
    last_name          TEXT    NOT NULL DEFAULT '',
    username           TEXT    NOT NULL DEFAULT '',
    role               TEXT    NOT NULL DEFAULT 'customer',
    is_paying_customer INTEGER NOT NULL DEFAULT 0,
    meta_data          TEXT    NOT NULL DEFAULT '[]',
    date_created_gmt   TEXT,
    date_modified_gmt  TEXT,
    raw                TEXT    NOT NULL,
    seen_run           INTEGER,
    synced_at          INTEGER NOT NULL
);
CREATE INDEX customers_email ON customers (email COLLATE NOCASE);

-- Billing and shipping addresses of customers and orders.
CREATE TABLE customer_addresses (
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('billing', 'shipping')),
    first_name  TEXT    NOT NULL DEFAULT '',
    last_name   TEXT    NOT NULL DEFAULT '',
    company     TEXT    NOT NULL DEFAULT '',
    address_1   TEXT    NOT NULL DEFAULT '',
    address_2   TEXT    NOT NULL DEFAULT '',
    city        TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL DEFAULT '',
    postcode    TEXT    NOT NULL DEFAULT '',
    country     TEXT    NOT NULL DEFAULT '',
    email       TEXT,
    phone       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (customer_id, kind)
) WITHOUT ROWID;

CREATE TABLE orders (
    id                   INTEGER PRIMARY KEY,
    parent_id            INTEGER NOT NULL DEFAULT 0,
    number               TEXT    NOT NULL,
    order_key            TEXT    NOT NULL DEFAULT '',
    status               TEXT    NOT NULL,
    currency             TEXT    NOT NULL DEFAULT '',
    prices_include_tax   INTEGER NOT NULL DEFAULT 0,
    customer_id          INTEGER NOT NULL DEFAULT 0,    -- 0 for a guest
    payment_method       TEXT    NOT NULL DEFAULT '',
    payment_method_title TEXT    NOT NULL DEFAULT '',
    transaction_id       TEXT    NOT NULL DEFAULT '',
    created_via          TEXT    NOT NULL DEFAULT '',
    customer_note        TEXT    NOT NULL DEFAULT '',
    discount_total       TEXT    NOT NULL DEFAULT '0',
    discount_tax         TEXT    NOT NULL DEFAULT '0',
    shipping_total       TEXT    NOT NULL DEFAULT '0',
    shipping_tax         TEXT    NOT NULL DEFAULT '0',
    cart_tax             TEXT    NOT NULL DEFAULT '0',
    total                TEXT    NOT NULL DEFAULT '0',
    total_tax            TEXT    NOT NULL DEFAULT '0',
    date_created_gmt     TEXT,
    date_modified_gmt    TEXT    NOT NULL,
    date_paid_gmt        TEXT,
    date_completed_gmt   TEXT,
    refund_summary       TEXT    NOT NULL DEFAULT '[]',  -- JSON: [{id, reason, total}] as listed on the order
    meta_data            TEXT    NOT NULL DEFAULT '[]',
    raw                  TEXT    NOT NULL,
    seen_run             INTEGER,
    synced_at            INTEGER NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id) WHERE customer_id <> 0;
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_number ON orders (number);

CREATE TABLE order_addresses (
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('billing', 'shipping')),
    first_name TEXT    NOT NULL DEFAULT '',
    last_name  TEXT    NOT NULL DEFAULT '',
    company    TEXT    NOT NULL DEFAULT '',
    address_1  TEXT    NOT NULL DEFAULT '',
    address_2  TEXT    NOT NULL DEFAULT '',
    city       TEXT    NOT NULL DEFAULT '',
    state      TEXT    NOT NULL DEFAULT '',
    postcode   TEXT    NOT NULL DEFAULT '',
    country    TEXT    NOT NULL DEFAULT '',
    email      TEXT,
    phone      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (order_id, kind)
) WITHOUT ROWID;

CREATE TABLE order_line_items (
    order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    id               INTEGER NOT NULL,
    name             TEXT    NOT NULL,
    product_id       INTEGER NOT NULL DEFAULT 0,
    variation_id     INTEGER NOT NULL DEFAULT 0,
    quantity         INTEGER NOT NULL,
    sku              TEXT,
    global_unique_id TEXT,
    tax_class        TEXT    NOT NULL DEFAULT '',
    price            TEXT,
    subtotal         TEXT    NOT NULL,
    subtotal_tax     TEXT    NOT NULL,
    total            TEXT    NOT NULL,
    total_tax        TEXT    NOT NULL,
    meta_data        TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (order_id, id)
) WITHOUT ROWID;
CREATE INDEX order_line_items_product ON order_line_items (product_id);

CREATE TABLE order_shipping_lines (
    order_id     INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    id           INTEGER NOT NULL,
    method_id    TEXT    NOT NULL DEFAULT '',
    method_title TEXT    NOT NULL DEFAULT '',
    instance_id  TEXT    NOT NULL DEFAULT '',
    total        TEXT    NOT NULL,
    total_tax    TEXT    NOT NULL,
    meta_data    TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (order_id, id)
) WITHOUT ROWID;

CREATE TABLE order_fee_lines (
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    id         INTEGER NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    tax_class  TEXT    NOT NULL DEFAULT '',
    tax_status TEXT    NOT NULL DEFAULT '',
    total      TEXT    NOT NULL,
    total_tax  TEXT    NOT NULL,
    meta_data  TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (order_id, id)
) WITHOUT ROWID;

CREATE TABLE order_coupon_lines (
    order_id     INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    id           INTEGER NOT NULL,
    code         TEXT    NOT NULL,
    discount     TEXT    NOT NULL,
    discount_tax TEXT    NOT NULL,
    PRIMARY KEY (order_id, id)
) WITHOUT ROWID;

CREATE TABLE order_tax_lines (
    order_id           INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    id                 INTEGER NOT NULL,
    rate_code          TEXT    NOT NULL DEFAULT '',
    rate_id            INTEGER NOT NULL DEFAULT 0,
    label              TEXT    NOT NULL DEFAULT '',
    compound           INTEGER NOT NULL DEFAULT 0,
    tax_total          TEXT    NOT NULL,
    shipping_tax_total TEXT    NOT NULL,
    PRIMARY KEY (order_id, id)
) WITHOUT ROWID;

CREATE TABLE refunds (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL,
    amount           TEXT    NOT NULL,
    reason           TEXT    NOT NULL DEFAULT '',
    refunded_payment INTEGER NOT NULL DEFAULT 0,
    date_created_gmt TEXT,
    meta_data        TEXT    NOT NULL DEFAULT '[]',
    raw              TEXT    NOT NULL,
    seen_run         INTEGER,
    synced_at        INTEGER NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id);

CREATE TABLE refund_line_items (
    refund_id        INTEGER NOT NULL REFERENCES refunds (id) ON DELETE CASCADE,
    id               INTEGER NOT NULL,
    refunded_item_id INTEGER,                            -- the order line this line returns
    product_id       INTEGER NOT NULL DEFAULT 0,
    variation_id     INTEGER NOT NULL DEFAULT 0,
    quantity         INTEGER NOT NULL,                   -- negative, as upstream
    subtotal         TEXT    NOT NULL,
    total            TEXT    NOT NULL,
    total_tax        TEXT    NOT NULL,
    PRIMARY KEY (refund_id, id)
) WITHOUT ROWID;

CREATE TABLE tax_classes (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    raw  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE tax_rates (
    id         INTEGER PRIMARY KEY,
    country    TEXT    NOT NULL DEFAULT '',
    state      TEXT    NOT NULL DEFAULT '',
    postcodes  TEXT    NOT NULL DEFAULT '[]',           -- JSON
    cities     TEXT    NOT NULL DEFAULT '[]',           -- JSON
    rate       TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    priority   INTEGER NOT NULL DEFAULT 1,
    compound   INTEGER NOT NULL DEFAULT 0,
    shipping   INTEGER NOT NULL DEFAULT 1,
    rate_order INTEGER NOT NULL DEFAULT 0,
    class      TEXT    NOT NULL DEFAULT 'standard',
    raw        TEXT    NOT NULL,
    seen_run   INTEGER,
    synced_at  INTEGER NOT NULL
);

CREATE TABLE countries (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    raw  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE country_states (
    country_code TEXT NOT NULL REFERENCES countries (code) ON DELETE CASCADE,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    PRIMARY KEY (country_code, code)
) WITHOUT ROWID;

CREATE TABLE shipping_zones (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    zone_order INTEGER NOT NULL DEFAULT 0,
    raw        TEXT    NOT NULL
);

CREATE TABLE shipping_zone_locations (
    zone_id INTEGER NOT NULL REFERENCES shipping_zones (id) ON DELETE CASCADE,
    code    TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    PRIMARY KEY (zone_id, kind, code)
) WITHOUT ROWID;

CREATE TABLE shipping_methods (
    zone_id      INTEGER NOT NULL REFERENCES shipping_zones (id) ON DELETE CASCADE,
    instance_id  INTEGER NOT NULL,
    method_id    TEXT    NOT NULL,
    title        TEXT    NOT NULL DEFAULT '',
    enabled      INTEGER NOT NULL DEFAULT 1,
    method_order INTEGER NOT NULL DEFAULT 0,
    settings     TEXT    NOT NULL DEFAULT '{}',         -- JSON: setting id -> value
    raw          TEXT    NOT NULL,
    PRIMARY KEY (zone_id, instance_id)
) WITHOUT ROWID;

CREATE TABLE payment_gateways (
    id            TEXT PRIMARY KEY,
    title         TEXT    NOT NULL DEFAULT '',
    description   TEXT    NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 0,
    method_title  TEXT    NOT NULL DEFAULT '',
    gateway_order TEXT    NOT NULL DEFAULT '',
    raw           TEXT    NOT NULL
) WITHOUT ROWID;

-- Raw settings by group, and the handful a till computes with.
CREATE TABLE settings (
    group_id TEXT NOT NULL,
    id       TEXT NOT NULL,
    value    TEXT NOT NULL,                              -- JSON
    raw      TEXT NOT NULL,
    PRIMARY KEY (group_id, id)
) WITHOUT ROWID;

CREATE TABLE store_info (
    singleton          INTEGER PRIMARY KEY CHECK (singleton = 1),
    currency           TEXT    NOT NULL,
    currency_symbol    TEXT    NOT NULL,
    currency_position  TEXT    NOT NULL,
    prices_include_tax INTEGER NOT NULL,
    price_decimals     INTEGER NOT NULL,
    decimal_separator  TEXT    NOT NULL,
    thousand_separator TEXT    NOT NULL,
    calc_taxes         INTEGER NOT NULL,
    manage_stock       INTEGER NOT NULL,
    base_location      TEXT    NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- Sync bookkeeping.

-- One row per resource: the outcome of the last completed full pull and the
-- watermark (store time taken before it began) that seeds delta polling.
CREATE TABLE sync_resources (
    resource                TEXT PRIMARY KEY,
    last_full_pull_run      INTEGER,
    last_full_pull_at       INTEGER,                     -- unix ms
    watermark_gmt           TEXT,
    upstream_total          INTEGER,
    last_warning            TEXT,
    last_error              TEXT,
    last_error_at           INTEGER
) WITHOUT ROWID;

-- A full pull of one resource. `params` fingerprints what was asked for
-- (page size, filters) so that only a matching run is resumed.
CREATE TABLE pull_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    resource      TEXT    NOT NULL,
    params        TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('running', 'completed', 'abandoned')),
    started_at    INTEGER NOT NULL,                      -- unix ms
    completed_at  INTEGER,
    watermark_gmt TEXT,
    page_size     INTEGER NOT NULL,
    total_items   INTEGER,                               -- X-WP-Total at completion
    capped        INTEGER NOT NULL DEFAULT 0,
    warning       TEXT
);
CREATE INDEX pull_runs_resource ON pull_runs (resource, state);

-- Pages (units of work) of a run that are fully written. `scope` is 0 for a
-- plain collection, or the parent object id when a resource is walked per
-- parent (variations of one product on an older store).
CREATE TABLE pull_pages (
    run_id  INTEGER NOT NULL REFERENCES pull_runs (id) ON DELETE CASCADE,
    scope   INTEGER NOT NULL DEFAULT 0,
    page    INTEGER NOT NULL,
    items   INTEGER NOT NULL,
    reported_items INTEGER,                              -- X-WP-Total when this page was fetched
    reported_pages INTEGER,                              -- X-WP-TotalPages when this page was fetched
    done_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, scope, page)
) WITHOUT ROWID;

-- Facts learned about the store (e.g. whether GET /variations exists).
CREATE TABLE store_capabilities (
    name       TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    checked_at INTEGER NOT NULL
) WITHOUT ROWID;

-- A bounded log of sync events for the back-office page.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,                           -- unix ms
    level    TEXT    NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    kind     TEXT    NOT NULL,
    resource TEXT,
    message  TEXT    NOT NULL
);
