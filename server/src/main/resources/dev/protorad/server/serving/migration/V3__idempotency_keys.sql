-- Version 3: retries that answer with the first prediction. idempotency_key is the SHA-256 (hex)
-- of the caller's principal and key, never the key itself; request_digest tells a retry of the
-- same request from a different request under the same key; alternatives keeps the top-k as
-- "label_id=probability" pairs, comma-separated, so that a replay answers in full.
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS idempotency_key VARCHAR(64);
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS request_digest VARCHAR(64);
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS alternatives VARCHAR(2048) DEFAULT '' NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS predictions_idempotency_key ON predictions (idempotency_key);
