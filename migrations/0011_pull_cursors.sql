-- possync replica, schema 11: a full pull's finished pages are keyed by
-- cursor.
--
-- A cursor is an opaque position in a listing, made and read by the shop's
-- adapter (WooCommerce: the page number as text; Shopify: a connection's
-- endCursor). The empty cursor is every listing's first page. `seq` is the
-- page's place in the walk (1 for the first), `next_cursor` the page after
-- it as the shop said (NULL after the last): a walk that can only follow
-- `next` resumes from there.
--
-- The rows of a pull interrupted before this version are carried over, so
-- that it resumes: they are WooCommerce pages, page 1 becoming the empty
-- cursor and page n the cursor 'n', their next page the one after unless
-- the shop's page count said it was the last.
CREATE TABLE pull_pages_by_cursor (
    run_id         INTEGER NOT NULL REFERENCES pull_runs (id) ON DELETE CASCADE,
    scope          INTEGER NOT NULL DEFAULT 0,
    cursor         TEXT    NOT NULL,
    seq            INTEGER NOT NULL,
    next_cursor    TEXT,
    items          INTEGER NOT NULL,
    reported_items INTEGER,                              -- the shop's count of the set, if it gave one
    reported_pages INTEGER,                              -- the shop's count of pages, if it gave one
    done_at        INTEGER NOT NULL,
    PRIMARY KEY (run_id, scope, cursor)
) WITHOUT ROWID;

INSERT INTO pull_pages_by_cursor
    (run_id, scope, cursor, seq, next_cursor, items, reported_items, reported_pages, done_at)
SELECT run_id,
       scope,
       CASE WHEN page = 1 THEN '' ELSE CAST(page AS TEXT) END,
       page,
       CASE WHEN page < COALESCE(reported_pages, 1) THEN CAST(page + 1 AS TEXT) END,
       items,
       reported_items,
       reported_pages,
       done_at
FROM pull_pages;

DROP TABLE pull_pages;
ALTER TABLE pull_pages_by_cursor RENAME TO pull_pages;
