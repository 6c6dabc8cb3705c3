-- possync replica, schema 13: an order's fraud-risk recommendation, and who
-- handed over a pickup against it.
--
-- `risk_recommendation` is what the shop recommends doing with the order
-- given its fraud risk: 'cancel', 'investigate', 'accept' or 'none' (the
-- shop recommends nothing). NULL when the shop does not say (WooCommerce)
-- or the order was mirrored without it.
--
-- Shopify orders mirrored before this version carry the recommendation in
-- their meta data (key `_shopify_risk_recommendation`, Shopify's own word);
-- it is carried over so that a till flags them without a new pull.
ALTER TABLE orders ADD COLUMN risk_recommendation TEXT
    CHECK (risk_recommendation IN ('cancel', 'investigate', 'accept', 'none'));

UPDATE orders SET risk_recommendation = (
    SELECT lower(json_extract(m.value, '$.value')) FROM json_each(orders.meta_data) m
    WHERE json_extract(m.value, '$.key') = '_shopify_risk_recommendation'
      AND lower(json_extract(m.value, '$.value')) IN ('cancel', 'investigate', 'accept', 'none')
    LIMIT 1)
WHERE meta_data LIKE '%_shopify_risk_recommendation%';

-- A pickup handed over although the shop recommends cancelling the order:
-- who decided it at the till and why (both NULL when no override was needed).
ALTER TABLE local_completions ADD COLUMN risk_override_by TEXT;
ALTER TABLE local_completions ADD COLUMN risk_override_reason TEXT;

-- The queue page finds a pickup's completion (and so its order's risk) by
-- its outbox entry.
CREATE INDEX local_completions_outbox ON local_completions (outbox_id);
