import type { Migration } from './migration.js';

/**
 * Signed one-time approve/deny links (issue 14, item 4). `approval_link_keys` holds each tenant's
 * random HMAC key, made on first use: in the database rather than a file, so every replica and the
 * gateway (which opens requests and sends their notifications) sign and verify with the same key
 * without sharing a file. Deleting a tenant's row rotates it (every link not yet used stops working).
 *
 * `approval_link_uses` records each used link by the SHA-256 of its signature. Votes' own uniqueness
 * (one per person and request) would not do: a forwarded link could be used again by a second
 * approver, and a link is meant to answer once.
 *
 * Row-level security as on every tenant table (migrations 007, 011).
 */
export const approvalLinks: Migration = {
  name: '012-approval-links',
  sql: /* sql */ `
CREATE TABLE approval_link_keys (
  tenant_id  text        NOT NULL REFERENCES tenants (id),
  key        text        NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id)
);

CREATE TABLE approval_link_uses (
  tenant_id  text        NOT NULL,
  sig_hash   text        NOT NULL,
  request_id text        NOT NULL,
  vote       text        NOT NULL CHECK (vote IN ('approve', 'deny')),
  used_by    text        NOT NULL,
  used_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, sig_hash),
  FOREIGN KEY (tenant_id, request_id) REFERENCES approval_requests (tenant_id, id)
);

DO $rls$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['approval_link_keys', 'approval_link_uses'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting('warden.tenant', true)) WITH CHECK (tenant_id = current_setting('warden.tenant', true))$p$, t);
  END LOOP;
END
$rls$;
GRANT SELECT, INSERT ON approval_link_keys TO warden_tenant;
-- DELETE: a claim is given back when the answer it was for is refused (the link stays usable by its rightful approver).
GRANT SELECT, INSERT, DELETE ON approval_link_uses TO warden_tenant;
`,
};
