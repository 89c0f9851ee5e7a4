import type { Migration } from './migration.js';

/**
 * A stub names the retention event that removed its event (`removed_by`, that event's id) and
 * keeps the removed event's scope, so `warden audit verify` can judge each stub against the
 * chain's own evidence: the declared removal, the period in force and the legal holds.
 * Stubs kept before this migration are linked to the first removal declared after them that
 * covers their sequence number and category. Adds `warden_try_timestamptz`, which the column
 * check of `warden audit verify` uses.
 */
export const auditStubEvidence: Migration = {
  name: '006-audit-stub-evidence',
  sql: /* sql */ `
ALTER TABLE audit_tombstones ADD COLUMN removed_by uuid;
ALTER TABLE audit_tombstones ADD COLUMN scope text;

UPDATE audit_tombstones t SET removed_by = (
  SELECT e.id FROM audit_events e
  WHERE e.tenant_id = t.tenant_id AND e.category = 'audit_system'
    AND e.type IN ('audit.retention.deleted', 'audit.retention.partition_dropped')
    AND e.chain_seq > t.chain_seq
    AND (e.event->'details'->>'fromSeq')::bigint <= t.chain_seq
    AND (e.event->'details'->>'toSeq')::bigint >= t.chain_seq
    AND (e.type = 'audit.retention.partition_dropped' OR e.event->'details'->>'category' = t.category)
  ORDER BY e.chain_seq LIMIT 1
);

-- Verify compares each indexed column with its event body; a tampered body must not make the
-- comparison itself fail, so the one cast that can reject text is made total here.
CREATE FUNCTION warden_try_timestamptz(t text) RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN t::timestamptz;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;
`,
};
