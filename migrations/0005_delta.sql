-- Delta sync: the polling cursor and what the last completeness sweep found,
-- per resource (see src/sync/delta.rs and src/sync/sweep.rs).

-- Newest date_modified_gmt fully written by a poll (the next poll asks from
-- it minus the overlap). NULL = start from watermark_gmt.
ALTER TABLE sync_resources ADD COLUMN cursor_gmt TEXT;
-- When the last poll or sweep of this resource ended (unix ms).
ALTER TABLE sync_resources ADD COLUMN last_poll_at INTEGER;
-- The last completeness sweep: the store's count, ours, how many of ours
-- carry the store's exact (id, date_modified_gmt), and when (unix ms).
ALTER TABLE sync_resources ADD COLUMN sweep_upstream INTEGER;
ALTER TABLE sync_resources ADD COLUMN sweep_local INTEGER;
ALTER TABLE sync_resources ADD COLUMN sweep_matching INTEGER;
ALTER TABLE sync_resources ADD COLUMN verified_at INTEGER;
