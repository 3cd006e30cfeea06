-- ProtoRad audit schema, version 1, applied by Flyway as the role that owns the schema.
-- ${schema} is the schema's quoted name.
CREATE TABLE IF NOT EXISTS audit_events (
  id              bigserial PRIMARY KEY,
  writer_id       text        NOT NULL,
  sequence        bigint      NOT NULL,
  event_time      timestamptz NOT NULL,
  action          text        NOT NULL,
  outcome         text        NOT NULL,
  principal       text        NOT NULL,
  on_behalf_of    text        NOT NULL,
  order_id        text        NOT NULL,
  patient_ref     text        NOT NULL,
  adapter_version text        NOT NULL,
  break_glass     boolean     NOT NULL,
  record_hash     text        NOT NULL,
  body            text        NOT NULL,
  UNIQUE (writer_id, sequence)
);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (event_time);
CREATE INDEX IF NOT EXISTS audit_events_principal ON audit_events (principal);
CREATE INDEX IF NOT EXISTS audit_events_on_behalf_of ON audit_events (on_behalf_of);
CREATE INDEX IF NOT EXISTS audit_events_order ON audit_events (order_id);
CREATE INDEX IF NOT EXISTS audit_events_patient ON audit_events (patient_ref);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  id        bigserial PRIMARY KEY,
  writer_id text   NOT NULL,
  sequence  bigint NOT NULL,
  kind      text   NOT NULL,
  body      text   NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_checkpoints_writer ON audit_checkpoints (writer_id, sequence);
-- Rows are never updated. Events are deleted only by protorad_audit_purge(), running as the
-- owner of the tables: a session setting alone does not pass this guard, and no other role may
-- delete even with DELETE granted and the setting on. Checkpoints are never deleted; nothing may
-- be truncated.
CREATE OR REPLACE FUNCTION protorad_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = ${schema}, pg_temp AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_events'
     AND current_setting('protorad.audit_purge', true) = 'on'
     AND current_user = (SELECT tableowner FROM pg_catalog.pg_tables
                         WHERE schemaname = TG_TABLE_SCHEMA AND tablename = TG_TABLE_NAME) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit tables are append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE TRIGGER protorad_audit_events_append_only
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION protorad_audit_refuse_change();
CREATE OR REPLACE TRIGGER protorad_audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION protorad_audit_refuse_change();
CREATE OR REPLACE TRIGGER protorad_audit_checkpoints_append_only
  BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION protorad_audit_refuse_change();
CREATE OR REPLACE TRIGGER protorad_audit_checkpoints_no_truncate
  BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION protorad_audit_refuse_change();
-- Retention: removes one writer's events up to a sequence whose anchor is already stored. The
-- search path is pinned with pg_temp last
-- and every name is schema-qualified, so a temporary table cannot stand in for the real ones; no
-- role may execute it unless granted (the role that owns the schema grants it to the server's).
CREATE OR REPLACE FUNCTION protorad_audit_purge(p_writer text, p_through bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${schema}, pg_temp AS $$
DECLARE
  removed bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ${schema}.audit_checkpoints
                 WHERE writer_id = p_writer AND kind = 'ANCHOR' AND sequence = p_through) THEN
    RAISE EXCEPTION 'no anchor for writer % at sequence %', p_writer, p_through;
  END IF;
  PERFORM set_config('protorad.audit_purge', 'on', true);
  DELETE FROM ${schema}.audit_events WHERE writer_id = p_writer AND sequence <= p_through;
  GET DIAGNOSTICS removed = ROW_COUNT;
  PERFORM set_config('protorad.audit_purge', 'off', true);
  RETURN removed;
END
$$;
REVOKE ALL ON FUNCTION protorad_audit_purge(text, bigint) FROM PUBLIC;
