-- ProtoRad prediction store, version 1 (H2 and PostgreSQL alike), applied by Flyway as the role
-- that owns the schema. A database made before migrations is baselined at 0 and taken over: its
-- tables are created only if absent.
CREATE TABLE IF NOT EXISTS predictions (
  prediction_id VARCHAR(64) PRIMARY KEY,
  order_id VARCHAR(128) NOT NULL,
  patient_ref VARCHAR(128) NOT NULL,
  label_id VARCHAR(128) NOT NULL,
  confidence DOUBLE PRECISION NOT NULL,
  adapter_version VARCHAR(160) NOT NULL,
  needs_review BOOLEAN NOT NULL,
  flags VARCHAR(1024) NOT NULL,
  created_at TIMESTAMP NOT NULL,
  audit_event_id VARCHAR(160) NOT NULL,
  review_accepted BOOLEAN,
  review_label_id VARCHAR(128),
  reviewer VARCHAR(256),
  reviewed_at TIMESTAMP,
  review_comment VARCHAR(1000)
);
CREATE TABLE IF NOT EXISTS prediction_notes (
  prediction_id VARCHAR(64) PRIMARY KEY REFERENCES predictions (prediction_id),
  key_id VARCHAR(64) NOT NULL,
  nonce VARCHAR(32) NOT NULL,
  ciphertext VARCHAR(131072) NOT NULL
);
