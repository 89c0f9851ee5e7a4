import type { Migration } from './migration.js';

/** Per-destination cursors into the audit log, their leases, and the dead-letter list. */
export const auditDelivery: Migration = {
  name: '002-audit-delivery',
  sql: /* sql */ `
CREATE TABLE audit_delivery (
  destination  text        NOT NULL,
  tenant_id    text        NOT NULL,
  -- Every event of the chain up to here was delivered (or dead-lettered).
  cursor_seq   bigint      NOT NULL DEFAULT 0,
  attempts     integer     NOT NULL DEFAULT 0,
  next_attempt timestamptz,
  last_error   text,
  last_success timestamptz,
  delivered    bigint      NOT NULL DEFAULT 0,
  dead         bigint      NOT NULL DEFAULT 0,
  -- A replica holds the lease while it delivers, so two replicas do not send the same batch.
  leased_by    text,
  lease_until  timestamptz,
  PRIMARY KEY (destination, tenant_id)
);

CREATE TABLE audit_dead_letters (
  destination text        NOT NULL,
  tenant_id   text        NOT NULL,
  seq         bigint      NOT NULL,
  event_id    uuid        NOT NULL,
  error       text        NOT NULL,
  attempts    integer     NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (destination, tenant_id, seq)
);
`,
};
