import type { Migration } from './migration.js';

/**
 * Approval requests (issue 14): one row per request, bound to the digest of the call as it would be
 * forwarded; `subject` keeps the canonical JSON of exactly what the digest covers (what approvers are
 * shown), `policy` who may answer. Votes in their own table, one per person and request. At most one
 * pending request per digest, so identical calls at once wait on the same request.
 *
 * Row-level security as on every tenant table (migration 007).
 */
export const approvals: Migration = {
  name: '011-approvals',
  sql: /* sql */ `
CREATE TABLE approval_requests (
  tenant_id      text        NOT NULL REFERENCES tenants (id),
  id             text        NOT NULL,
  digest         text        NOT NULL,
  session_digest text,
  status         text        NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
  scope          text        NOT NULL,
  agent          text,
  subject        text        NOT NULL,
  policy         text        NOT NULL,
  agent_owner    text,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  decided_at     timestamptz,
  confirmed_at   timestamptz,
  consumed_at    timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX approval_requests_digest_idx ON approval_requests (tenant_id, digest, created_at DESC);
CREATE UNIQUE INDEX approval_requests_one_pending ON approval_requests (tenant_id, digest) WHERE status = 'pending';
CREATE INDEX approval_requests_session_idx ON approval_requests (tenant_id, session_digest) WHERE status = 'approved';
CREATE INDEX approval_requests_due_idx ON approval_requests (expires_at) WHERE status = 'pending';
CREATE INDEX approval_requests_agent_pending_idx ON approval_requests (tenant_id, agent) WHERE status = 'pending';
CREATE INDEX approval_requests_status_idx ON approval_requests (tenant_id, status, id DESC);

CREATE TABLE approval_votes (
  tenant_id  text        NOT NULL,
  request_id text        NOT NULL,
  principal  text        NOT NULL,
  vote       text        NOT NULL CHECK (vote IN ('approve', 'deny')),
  actor      text        NOT NULL,
  name       text        NOT NULL,
  comment    text,
  at         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, request_id, principal),
  FOREIGN KEY (tenant_id, request_id) REFERENCES approval_requests (tenant_id, id)
);

DO $rls$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['approval_requests', 'approval_votes'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting('warden.tenant', true)) WITH CHECK (tenant_id = current_setting('warden.tenant', true))$p$, t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I TO warden_tenant', t);
  END LOOP;
END
$rls$;
`,
};
