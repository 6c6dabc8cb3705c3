-- possync webhook inbox: its own database file beside the replica
-- (`<replica>.inbox.db`), written by its own thread, so that storing a
-- delivery never waits for the replica's writer (pull pages, applied
-- batches, checkpoints).
--
-- Every verified delivery is written here raw, at once, before it is parsed;
-- a worker parses and applies it to the replica afterwards and records the
-- outcome here. The shop never retries a delivery, so the raw bytes are the
-- only copy.

CREATE TABLE webhook_inbox (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at       INTEGER NOT NULL,                 -- unix ms, local clock
    topic             TEXT    NOT NULL,                 -- as the shop sent it, e.g. product.updated
    webhook_id        INTEGER,                          -- the shop's subscription id
    delivery_id       TEXT,                             -- not unique (one per webhook and second)
    body              BLOB    NOT NULL,                 -- the signed bytes, verbatim
    state             TEXT    NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'applied', 'stale', 'duplicate', 'ignored', 'refetch', 'failed')),
    -- Filled once parsed: the version the delivery carries.
    resource          TEXT,
    object_id         INTEGER,
    date_modified_gmt TEXT,
    error             TEXT,                             -- why it failed or was ignored
    processed_at      INTEGER
);
CREATE INDEX webhook_inbox_pending ON webhook_inbox (id) WHERE state IN ('pending', 'refetch');
-- Deduplication: the same version of the same object is applied once.
CREATE INDEX webhook_inbox_version ON webhook_inbox (resource, object_id, date_modified_gmt)
    WHERE object_id IS NOT NULL;

-- Running totals for the status page (inbox rows are pruned, totals are not).
CREATE TABLE webhook_counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO webhook_counters (name, value) VALUES
    ('received', 0), ('applied', 0), ('stale', 0), ('duplicates', 0),
    ('ignored', 0), ('refetched', 0), ('failed', 0), ('last_received_at', 0);
