-- Till lookups over this till's own sales and returns (src/store/lookup/
-- local_orders.rs): a receipt number typed at the returns desk, a sale's
-- upstream order, the sales the shop has not confirmed, and the returns
-- of one order, each found through an index rather than a scan of every
-- sale or return the till ever made.

-- Receipt numbers are matched whole or by their beginning, in any case.
CREATE INDEX local_orders_number_nocase ON local_orders (number_text COLLATE NOCASE);
-- The sale behind a mirrored order (its receipt number, its returns).
CREATE INDEX local_orders_upstream ON local_orders (upstream_id) WHERE upstream_id IS NOT NULL;
-- Sales the shop has not confirmed: listed and searched by their billing details.
CREATE INDEX local_orders_unconfirmed ON local_orders (sold_at) WHERE upstream_id IS NULL;

CREATE INDEX local_refunds_order_local ON local_refunds (order_local_id)
    WHERE order_local_id IS NOT NULL;
CREATE INDEX local_refunds_order ON local_refunds (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX local_completions_order_local ON local_completions (order_local_id)
    WHERE order_local_id IS NOT NULL;
