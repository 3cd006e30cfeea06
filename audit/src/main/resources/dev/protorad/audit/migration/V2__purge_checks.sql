-- ProtoRad audit schema, version 2: the purge function checks for itself what the server used to
-- check alone. An event's age is read from the database's own clock, recorded as it arrives
-- (an event_time written back-dated cannot make an event old), and an anchor counts only with a
-- MAC under a key that the schema's owner installed and the server's role cannot read.
ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS stored_at timestamptz NOT NULL DEFAULT now();
CREATE OR REPLACE FUNCTION protorad_audit_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = ${schema}, pg_temp AS $$
BEGIN
  NEW.stored_at := pg_catalog.statement_timestamp();
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER protorad_audit_events_stamp
  BEFORE INSERT ON audit_events
  FOR EACH ROW EXECUTE FUNCTION protorad_audit_stamp();
-- One row: the youngest an event may be, by stored_at, when the purge removes it. Set by the
-- schema's owner (protorad audit migrate --min-retention-days); six years until then.
CREATE TABLE IF NOT EXISTS audit_purge_policy (
  id      int      PRIMARY KEY CHECK (id = 1),
  min_age interval NOT NULL CHECK (min_age >= interval '0')
);
INSERT INTO audit_purge_policy (id, min_age) VALUES (1, interval '2192 days')
  ON CONFLICT (id) DO NOTHING;
-- MAC keys of purge anchors, one per checkpoint signing key, derived from it by the owner's
-- migration step. No grant on either table: only the owner (and so the purge function) reads them.
CREATE TABLE IF NOT EXISTS audit_purge_keys (
  key_id  text  PRIMARY KEY,
  mac_key bytea NOT NULL CHECK (length(mac_key) = 32)
);
REVOKE ALL ON audit_purge_policy, audit_purge_keys FROM PUBLIC;
-- HMAC-SHA256 (RFC 2104) on the built-in sha256(), so that no extension is needed.
CREATE OR REPLACE FUNCTION protorad_hmac_sha256(k bytea, m bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  kb bytea := k;
  ik bytea;
  ok bytea;
BEGIN
  IF length(kb) > 64 THEN
    kb := sha256(kb);
  END IF;
  kb := kb || decode(repeat('00', 64 - length(kb)), 'hex');
  ik := kb;
  ok := kb;
  FOR i IN 0..63 LOOP
    ik := set_byte(ik, i, get_byte(kb, i) # 54);
    ok := set_byte(ok, i, get_byte(kb, i) # 92);
  END LOOP;
  RETURN sha256(ok || sha256(ik || m));
END
$$;
REVOKE ALL ON FUNCTION protorad_hmac_sha256(bytea, bytea) FROM PUBLIC;
DROP FUNCTION IF EXISTS protorad_audit_purge(text, bigint);
-- Retention: removes one writer's events up to an anchor whose MAC verifies, and only events
-- stored at least the policy's minimum age ago. Pinned search path with pg_temp last, every name
-- schema-qualified, not executable unless granted.
CREATE OR REPLACE FUNCTION protorad_audit_purge(p_writer text, p_through bigint, p_mac text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${schema}, pg_temp AS $$
DECLARE
  floor_age interval;
  removed bigint;
BEGIN
  SELECT min_age INTO floor_age FROM ${schema}.audit_purge_policy WHERE id = 1;
  IF floor_age IS NULL THEN
    RAISE EXCEPTION 'purge refused: no minimum age in audit_purge_policy';
  END IF;
  IF NOT EXISTS (
      SELECT 1 FROM ${schema}.audit_checkpoints c CROSS JOIN ${schema}.audit_purge_keys k
      WHERE c.writer_id = p_writer AND c.kind = 'ANCHOR' AND c.sequence = p_through
        AND pg_catalog.encode(${schema}.protorad_hmac_sha256(k.mac_key, pg_catalog.convert_to(
              p_writer || E'\n' || p_through::text || E'\n' || c.body, 'UTF8')), 'hex') = p_mac)
  THEN
    RAISE EXCEPTION 'purge refused: no anchor for writer % at sequence % with a valid MAC',
      p_writer, p_through USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF EXISTS (
      SELECT 1 FROM ${schema}.audit_events
      WHERE writer_id = p_writer AND sequence <= p_through
        AND stored_at > pg_catalog.statement_timestamp() - floor_age)
  THEN
    RAISE EXCEPTION 'purge refused: events of writer % through sequence % are younger than %',
      p_writer, p_through, floor_age USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_catalog.set_config('protorad.audit_purge', 'on', true);
  DELETE FROM ${schema}.audit_events WHERE writer_id = p_writer AND sequence <= p_through;
  GET DIAGNOSTICS removed = ROW_COUNT;
  PERFORM pg_catalog.set_config('protorad.audit_purge', 'off', true);
  RETURN removed;
END
$$;
REVOKE ALL ON FUNCTION protorad_audit_purge(text, bigint, text) FROM PUBLIC;
