import type { Migration } from './migration.js';

/** The tool registry: servers, their tools with pinned definitions, and agents. */
export const registry: Migration = {
  name: '003-registry',
  sql: /* sql */ `
CREATE TABLE registry_servers (
  tenant_id     text        NOT NULL DEFAULT 'default',
  name          text        NOT NULL,
  scope         text        NOT NULL,
  owner         text,
  status        text        NOT NULL CHECK (status IN ('pending', 'approved', 'blocked')),
  status_reason text,
  info          jsonb       NOT NULL DEFAULT '{}',
  first_seen    timestamptz NOT NULL,
  last_seen     timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE registry_tools (
  tenant_id      text        NOT NULL DEFAULT 'default',
  server         text        NOT NULL,
  name           text        NOT NULL,
  owner          text,
  risk           text        CHECK (risk IN ('low', 'medium', 'high', 'critical')),
  capabilities   jsonb       NOT NULL DEFAULT '[]',
  classification text,
  annotations    jsonb       NOT NULL DEFAULT '{}',
  description    text,
  input_schema   jsonb       NOT NULL,
  status         text        NOT NULL CHECK (status IN ('pending', 'approved', 'blocked')),
  status_reason  text,
  pinned_hash    text        NOT NULL,
  observed_hash  text        NOT NULL,
  first_seen     timestamptz NOT NULL,
  last_seen      timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, server, name),
  FOREIGN KEY (tenant_id, server) REFERENCES registry_servers (tenant_id, name) ON DELETE CASCADE
);
CREATE INDEX registry_tools_status_idx ON registry_tools (tenant_id, status, server, name);

CREATE TABLE registry_agents (
  tenant_id  text        NOT NULL DEFAULT 'default',
  id         text        NOT NULL,
  kind       text,
  owner      text,
  status     text        NOT NULL CHECK (status IN ('active', 'suspended')),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
`,
};
