-- The till's own changes: sales, returns, completions, customers and stock
-- adjustments made at this till, and the outbox that replays them upstream.
--
-- Each accepted change is written in ONE transaction: its local effect (rows
-- below) and its outbox entry. The outbox entry's id is also the idempotency
-- key written into the upstream object's meta data.
--
-- Nothing here is ever deleted: a discarded change keeps its rows with the
-- entry in state 'discarded', so local order numbers are never reused.

CREATE TABLE outbox (
    id                 TEXT    PRIMARY KEY,              -- UUID, the idempotency key
    seq                INTEGER NOT NULL UNIQUE,          -- acceptance order
    kind               TEXT    NOT NULL CHECK (kind IN ('sale', 'refund', 'complete',
                                   'customer_create', 'customer_update', 'stock_adjust')),
    subject            TEXT    NOT NULL,                 -- local id of what the entry sends
    label              TEXT    NOT NULL,                 -- for people: "sale POS1-000012"
    state              TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'unknown',
                                   'confirmed', 'rejected', 'discarded')),
    depends_on         TEXT    REFERENCES outbox (id),   -- must be confirmed first
    payload            TEXT    NOT NULL,                 -- JSON, in possync's terms
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    INTEGER NOT NULL,                 -- unix ms
    attempt_started_at INTEGER,                          -- unix ms, the last send began
    upstream_id        INTEGER,
    error_code         TEXT,
    error_message      TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    confirmed_at       INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state IN ('queued', 'unknown');
CREATE INDEX outbox_state ON outbox (state, seq);
CREATE INDEX outbox_depends ON outbox (depends_on) WHERE depends_on IS NOT NULL;

-- Sales rung up at this till.
CREATE TABLE local_orders (
    id                   TEXT    PRIMARY KEY,            -- UUID
    number               INTEGER NOT NULL UNIQUE,        -- this till's sequence
    number_text          TEXT    NOT NULL UNIQUE,        -- e.g. POS1-000123
    outbox_id            TEXT    NOT NULL REFERENCES outbox (id),
    customer_id          INTEGER NOT NULL DEFAULT 0,     -- upstream customer; 0 = guest or local
    customer_local_id    TEXT,                           -- a customer created at this till
    billing              TEXT,                           -- JSON address or NULL
    payment_method       TEXT    NOT NULL DEFAULT '',
    payment_method_title TEXT    NOT NULL DEFAULT '',
    paid                 INTEGER NOT NULL,
    note                 TEXT    NOT NULL DEFAULT '',
    total                TEXT    NOT NULL,               -- what the till charged
    sold_at              INTEGER NOT NULL,               -- unix ms
    upstream_id          INTEGER,
    upstream_number      TEXT,
    upstream_total       TEXT
);

CREATE TABLE local_order_lines (
    order_id         TEXT    NOT NULL REFERENCES local_orders (id) ON DELETE CASCADE,
    line_no          INTEGER NOT NULL,                   -- 1-based
    product_id       INTEGER NOT NULL,                   -- the product (parent of a variation)
    variation_id     INTEGER NOT NULL DEFAULT 0,
    stock_id         INTEGER NOT NULL,                   -- the row whose stock the line takes
    sku              TEXT,
    name             TEXT    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price       TEXT    NOT NULL,
    discount         TEXT    NOT NULL DEFAULT '0',
    total            TEXT    NOT NULL,
    upstream_line_id INTEGER,
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;
CREATE INDEX local_order_lines_stock ON local_order_lines (stock_id);

-- Returns: of a local sale (order_local_id) or of an upstream order (order_id).
CREATE TABLE local_refunds (
    id             TEXT    PRIMARY KEY,
    outbox_id      TEXT    NOT NULL REFERENCES outbox (id),
    order_local_id TEXT    REFERENCES local_orders (id),
    order_id       INTEGER,
    amount         TEXT    NOT NULL,
    reason         TEXT    NOT NULL DEFAULT '',
    restock        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    upstream_id    INTEGER
);

CREATE TABLE local_refund_lines (
    refund_id    TEXT    NOT NULL REFERENCES local_refunds (id) ON DELETE CASCADE,
    line_ref     INTEGER NOT NULL,   -- local line_no, or the upstream line item id
    product_id   INTEGER NOT NULL,
    variation_id INTEGER NOT NULL DEFAULT 0,
    stock_id     INTEGER NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    amount       TEXT    NOT NULL,
    PRIMARY KEY (refund_id, line_ref)
) WITHOUT ROWID;

-- Pickups handed over at this till (status set to completed upstream).
CREATE TABLE local_completions (
    id             TEXT    PRIMARY KEY,
    outbox_id      TEXT    NOT NULL REFERENCES outbox (id),
    order_local_id TEXT    REFERENCES local_orders (id),
    order_id       INTEGER,
    created_at     INTEGER NOT NULL
);

-- Customers registered at this till.
CREATE TABLE local_customers (
    id          TEXT    PRIMARY KEY,
    outbox_id   TEXT    NOT NULL REFERENCES outbox (id),
    email       TEXT    NOT NULL,
    first_name  TEXT    NOT NULL DEFAULT '',
    last_name   TEXT    NOT NULL DEFAULT '',
    billing     TEXT,                                    -- JSON address or NULL
    shipping    TEXT,
    created_at  INTEGER NOT NULL,
    upstream_id INTEGER
);
CREATE INDEX local_customers_email ON local_customers (email COLLATE NOCASE);

-- Manual stock adjustments: read upstream, set, read back.
CREATE TABLE local_stock_adjustments (
    id           TEXT    PRIMARY KEY,
    outbox_id    TEXT    NOT NULL REFERENCES outbox (id),
    product_id   INTEGER NOT NULL,
    variation_id INTEGER NOT NULL DEFAULT 0,
    stock_id     INTEGER NOT NULL,
    delta        INTEGER NOT NULL CHECK (delta <> 0),
    reason       TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    read_before  INTEGER,                                -- upstream stock read before setting
    set_to       INTEGER,
    read_back    INTEGER                                 -- upstream stock read after setting
);

-- How much of each product this till has taken or given back that upstream
-- does not know yet: sales (+), restocking returns (-), adjustments (-delta).
-- Available stock at the till = products.stock_quantity - quantity, where the
-- products row is the one with id = stock_id (variation_id when non-zero).
-- A view created empty by 0002 is replaced here from the local tables.
DROP VIEW IF EXISTS unconfirmed_stock;
CREATE VIEW unconfirmed_stock (product_id, variation_id, quantity) AS
SELECT product_id, variation_id, SUM(quantity) FROM (
    SELECT l.product_id, l.variation_id, l.quantity
    FROM local_order_lines l
    JOIN local_orders o ON o.id = l.order_id
    JOIN outbox e ON e.id = o.outbox_id
    WHERE e.state IN ('queued', 'sending', 'unknown')
    UNION ALL
    SELECT l.product_id, l.variation_id, -l.quantity
    FROM local_refund_lines l
    JOIN local_refunds r ON r.id = l.refund_id
    JOIN outbox e ON e.id = r.outbox_id
    WHERE r.restock = 1 AND e.state IN ('queued', 'sending', 'unknown')
    UNION ALL
    SELECT a.product_id, a.variation_id, -a.delta
    FROM local_stock_adjustments a
    JOIN outbox e ON e.id = a.outbox_id
    WHERE e.state IN ('queued', 'sending', 'unknown')
)
GROUP BY product_id, variation_id;
