-- Version 5: the adapter registry that replicas share (adapters.registry: database). Each version's
-- files are content-addressed on the shared volume (<data_dir>/adapters/blobs/<content_hash>/);
-- its number, metadata.json text, archive mark and the aliases live here, so that numbering and
-- alias moves are decided in one transaction whichever replica makes them.
CREATE TABLE IF NOT EXISTS adapter_versions (
  name VARCHAR(64) NOT NULL,
  version INTEGER NOT NULL,
  content_hash VARCHAR(64) NOT NULL,
  metadata VARCHAR(1000000) NOT NULL,
  archived BOOLEAN DEFAULT FALSE NOT NULL,
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS adapter_aliases (
  name VARCHAR(64) NOT NULL,
  alias VARCHAR(32) NOT NULL,
  version INTEGER NOT NULL,
  moved_at TIMESTAMP NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES adapter_versions (name, version)
);
