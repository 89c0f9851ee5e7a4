import type { Migration } from './migration.js';

/** Retention periods per category, legal holds, and the chain stubs of removed events. */
export const auditRetention: Migration = {
  name: '004-audit-retention',
  sql: /* sql */ `
CREATE TABLE audit_retention (
  tenant_id text    NOT NULL,
  category  text    NOT NULL,
  days      integer NOT NULL CHECK (days > 0),
  PRIMARY KEY (tenant_id, category)
);

CREATE TABLE audit_legal_holds (
  id          uuid        PRIMARY KEY,
  tenant_id   text        NOT NULL,
  scope       text        NOT NULL,
  from_time   timestamptz,
  to_time     timestamptz,
  reason      text        NOT NULL,
  created_by  text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz
);

-- What retention removed keeps its place in the chain: sequence, links and hash, no content.
CREATE TABLE audit_tombstones (
  tenant_id  text        NOT NULL,
  chain_seq  bigint      NOT NULL,
  id         uuid        NOT NULL,
  category   text        NOT NULL,
  time       timestamptz NOT NULL,
  prev_hash  text        NOT NULL,
  hash       text        NOT NULL,
  removed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, chain_seq)
);
`,
};
