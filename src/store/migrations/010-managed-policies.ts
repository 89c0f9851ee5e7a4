import type { Migration } from './migration.js';

/**
 * Policies as managed entities (issue 13): a `policies` row per named policy source of a tenant,
 * its immutable `policy_versions` (the YAML exactly as submitted, never edited: a rollback is a new
 * version), the reviews each version got, and `policy_releases`, one row per tenant naming the hash
 * of its active versions: what every replica compares to know its compiled set is current.
 *
 * Row-level security as on every tenant table (migration 007): enabled, a `tenant_isolation`
 * policy, and the `warden_tenant` role granted what the routes do.
 */
export const managedPolicies: Migration = {
  name: '010-managed-policies',
  sql: /* sql */ `
CREATE TABLE policies (
  tenant_id      text        NOT NULL REFERENCES tenants (id),
  name           text        NOT NULL,
  scopes         text[]      NOT NULL,
  active_version integer,
  latest_version integer     NOT NULL,
  archived_at    timestamptz,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE policy_versions (
  tenant_id    text        NOT NULL,
  name         text        NOT NULL,
  number       integer     NOT NULL CHECK (number > 0),
  source       text        NOT NULL,
  hash         text        NOT NULL,
  path         text        NOT NULL,
  author       text        NOT NULL,
  created_at   timestamptz NOT NULL,
  status       text        NOT NULL CHECK (status IN ('draft', 'in_review', 'active', 'superseded', 'archived')),
  rollback_of  integer,
  submitted_by text,
  submitted_at timestamptz,
  activated_by text,
  activated_at timestamptz,
  PRIMARY KEY (tenant_id, name, number),
  FOREIGN KEY (tenant_id, name) REFERENCES policies (tenant_id, name)
);
-- At most one active version per policy, whatever two writers race to do.
CREATE UNIQUE INDEX policy_versions_one_active ON policy_versions (tenant_id, name) WHERE status = 'active';

CREATE TABLE policy_reviews (
  tenant_id  text        NOT NULL,
  name       text        NOT NULL,
  number     integer     NOT NULL,
  reviewer   text        NOT NULL,
  verdict    text        NOT NULL CHECK (verdict IN ('approve', 'comment')),
  comment    text,
  created_at timestamptz NOT NULL,
  FOREIGN KEY (tenant_id, name, number) REFERENCES policy_versions (tenant_id, name, number)
);
CREATE INDEX policy_reviews_version_idx ON policy_reviews (tenant_id, name, number, created_at);
-- One approval per reviewer and version: approving twice does not count twice.
CREATE UNIQUE INDEX policy_reviews_one_approval ON policy_reviews (tenant_id, name, number, reviewer) WHERE verdict = 'approve';

CREATE TABLE policy_releases (
  tenant_id  text        PRIMARY KEY REFERENCES tenants (id),
  release    text        NOT NULL,
  changed_at timestamptz NOT NULL
);

DO $rls$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['policies', 'policy_versions', 'policy_reviews', 'policy_releases'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting('warden.tenant', true)) WITH CHECK (tenant_id = current_setting('warden.tenant', true))$p$, t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO warden_tenant', t);
  END LOOP;
END
$rls$;
`,
};
