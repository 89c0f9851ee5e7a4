import type { Migration } from './migration.js';

/**
 * Tenants, their scope trees and API tokens; and row-level security on every tenant table as the
 * second wall behind the repositories' tenant filters.
 *
 * RLS is enabled, not forced: the connecting role owns the tables and bypasses it for the work that
 * spans tenants by design (the audit writer numbering each tenant's chain, sealing, retention,
 * streaming). Every read made for a caller runs in a transaction that sets `warden.tenant` and
 * switches to the `warden_tenant` role (src/store/tenant-scope.ts), where only that tenant's rows
 * exist. Partitions are not granted to `warden_tenant`: it reads through the parent, under its policy.
 */
export const identity: Migration = {
  name: '007-identity',
  sql: /* sql */ `
CREATE TABLE tenants (
  id         text        PRIMARY KEY,
  name       text        NOT NULL,
  status     text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at timestamptz NOT NULL
);

-- Rows written before tenants were entities belong to tenant 'default'.
INSERT INTO tenants (id, name, status, created_at) VALUES ('default', 'Default', 'active', now());

CREATE TABLE scopes (
  tenant_id   text        NOT NULL REFERENCES tenants (id),
  path        text        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('org', 'group', 'subgroup', 'project')),
  owner       text,
  description text,
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, path)
);

CREATE TABLE api_tokens (
  id           text        PRIMARY KEY,
  tenant_id    text        NOT NULL REFERENCES tenants (id),
  name         text        NOT NULL,
  prefix       text        NOT NULL,
  hash         text        NOT NULL,
  role         text        NOT NULL,
  scope        text,
  agent_id     text,
  principal    text,
  created_at   timestamptz NOT NULL,
  created_by   text        NOT NULL,
  expires_at   timestamptz,
  revoked_at   timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_tokens_tenant_idx ON api_tokens (tenant_id, created_at);

DO $rls$
DECLARE
  t record;
BEGIN
  -- Roles are cluster-wide: several databases (and parallel test runs) may create it at once.
  BEGIN
    CREATE ROLE warden_tenant NOLOGIN;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  IF NOT pg_has_role(current_user, 'warden_tenant', 'MEMBER') THEN
    BEGIN
      EXECUTE format('GRANT warden_tenant TO %I', current_user);
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    IF NOT pg_has_role(current_user, 'warden_tenant', 'MEMBER') THEN
      RAISE EXCEPTION 'the database user % cannot be granted the role warden_tenant (row-level security needs it)', current_user;
    END IF;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO warden_tenant', current_schema());
  FOR t IN
    SELECT c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.relname);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting('warden.tenant', true)) WITH CHECK (tenant_id = current_setting('warden.tenant', true))$p$, t.relname);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO warden_tenant', t.relname);
  END LOOP;
END
$rls$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (id = current_setting('warden.tenant', true));
GRANT SELECT ON tenants TO warden_tenant;
`,
};
