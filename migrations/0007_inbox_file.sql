-- possync replica: webhook deliveries move to their own database file.
--
-- Storing a delivery is what the shop waits on; in the replica it queued
-- behind the writer's other work (full-pull pages, applied batches, WAL
-- checkpoints). Deliveries, their outcomes and the running totals now live
-- in `<replica>.inbox.db`, which has its own writer thread and its own
-- schema version. When possync opens a replica older than this migration it
-- copies these two tables into that file first (idempotently, keeping the
-- ids), so no pending delivery is lost; only then are they dropped here.
-- Tombstones stay: applying a delivery reads them in the replica's
-- transaction.

DROP TABLE webhook_inbox;
DROP TABLE webhook_counters;

-- The outcome of each delivery of the batch the webhook worker applied last,
-- written in the same transaction as the batch's changes. The outcome is
-- then recorded in the inbox file, in a second, separate transaction; if the
-- agent stops between the two, the worker copies the outcomes from here at
-- start instead of applying those deliveries a second time (a deletion
-- applied again after a newer version was written would remove it).
-- Cleared by the next batch.
CREATE TABLE webhook_applied (
    inbox_id          INTEGER PRIMARY KEY,              -- the delivery's id in the inbox file
    state             TEXT    NOT NULL
                      CHECK (state IN ('applied', 'stale', 'duplicate', 'ignored', 'refetch', 'failed')),
    resource          TEXT,
    object_id         INTEGER,
    date_modified_gmt TEXT,
    error             TEXT
);
