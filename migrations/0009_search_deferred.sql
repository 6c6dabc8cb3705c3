-- possync replica: the name-search index built once after a first pull.
--
-- Indexing each product's search document as its page is written was about
-- a third of the writer's time in a full pull. When a pull starts on a
-- replica without products, the product documents are not written page by
-- page: the kind is listed here, the writer's flush leaves its documents
-- out (barcodes, SKUs and ids stay live: they are plain tables and
-- indexes), and the pull builds every document in one statement when the
-- catalog is in. While a kind is listed, a name search answers that the
-- index is being built instead of answering from a partial index.
-- kind: product (the only one deferred so far).
CREATE TABLE search_deferred (
    kind  TEXT    PRIMARY KEY,
    since INTEGER NOT NULL
) WITHOUT ROWID;
