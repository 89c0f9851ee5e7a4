import type { Migration } from './migration.js';

/**
 * Events are stored as the exact RFC 8785 text their hash is over (`body`), not as jsonb: the
 * writer inserts text it already has instead of having the server parse it, and verify hashes
 * the stored bytes instead of re-parsing and re-canonicalizing every event. `body` holds every
 * member but `integrity.hash`, which is the `hash` column. Rows written before keep their jsonb
 * `event` (with the hash) and no `body`; exactly one of the two is set.
 *
 * Fewer indexes are written per event: `(tenant_id, chain_seq)` is the primary key's prefix
 * already; uniqueness of `(id, time)` moves onto the `(time, id)` index every page is read by;
 * and the effect index holds only events whose effect is not `allow`: the common effect is
 * found by walking the time index, the rare ones by this one.
 * Adds `warden_try_jsonb`, which the column check of `warden audit verify` uses.
 */
export const auditCanonicalBody: Migration = {
  name: '009-audit-canonical-body',
  sql: /* sql */ `
ALTER TABLE audit_events ADD COLUMN body text;
ALTER TABLE audit_events ALTER COLUMN event DROP NOT NULL;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_one_body CHECK ((body IS NULL) <> (event IS NULL));

DROP INDEX audit_events_chain_idx;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_id_time_key;
DROP INDEX audit_events_time_idx;
CREATE UNIQUE INDEX audit_events_time_idx ON audit_events (time DESC, id DESC);
DROP INDEX audit_events_effect_idx;
CREATE INDEX audit_events_effect_idx ON audit_events (effect, time DESC, id DESC) WHERE effect <> 'allow';

-- Verify compares the columns of the rows it cannot confirm itself with their body; a body that
-- is not JSON must not make that query fail (verify names it as not matching its hash).
CREATE FUNCTION warden_try_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN t::jsonb;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;
`,
};
