-- possync replica: the end of a full pull without reading the whole catalogue.
--
-- A product row carries the shop's JSON (a few KiB), so the table holds
-- about one row per database page, and a statement that scans it reads the
-- whole catalogue: counting the rows a pull saw and removing those it did
-- not did exactly that at the end of every products and variations run
-- (a tenth of the agent's work in a 10,000-product pull). This index covers
-- both statements (`seen_run`, `type`, `synced_at`), so they read it alone;
-- within one run its entries are appended, which costs little per row.
CREATE INDEX products_run ON products (seen_run, type, synced_at);
