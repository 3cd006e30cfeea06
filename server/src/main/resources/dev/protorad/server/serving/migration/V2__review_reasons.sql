-- Version 2: why a prediction was sent to review (comma-separated reason codes).
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS review_reasons VARCHAR(512) DEFAULT '' NOT NULL;
