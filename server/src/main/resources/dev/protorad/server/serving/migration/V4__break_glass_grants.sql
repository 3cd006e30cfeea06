-- Version 4: break-glass grants every replica sees. A grant opened through one replica covers its
-- holder's calls on all of them until it expires or is revoked; each start and each access is
-- also an audit event.
CREATE TABLE IF NOT EXISTS break_glass_grants (
  grant_id VARCHAR(64) PRIMARY KEY,
  principal_id VARCHAR(256) NOT NULL,
  on_behalf_of VARCHAR(256),
  reason VARCHAR(1024) NOT NULL,
  opened_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP NOT NULL
);
