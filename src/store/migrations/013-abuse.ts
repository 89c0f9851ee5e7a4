import type { Migration } from './migration.js';

/**
 * The abuse platform's state (issue 15): labels on entities (one per tenant, entity and name),
 * mitigations in force, and cases in review queues.
 *
 * Structured fields (a source, a case's evidence, proposals, mitigation ids, notes) are text holding
 * JSON, as approvals keep theirs: both PGlite and PostgreSQL read it back byte for byte, and the
 * repository checks every case it reads against the case schema, so a column changed outside Warden
 * is refused rather than served. `rule` repeats `source.rule` in a column of its own, so per-rule
 * precision is one indexed GROUP BY.
 *
 * Row-level security as on every tenant table (migration 007). Labels are deleted when removed, so
 * that table also grants DELETE. `abuse_mitigations_kills_idx` serves the one cross-tenant read
 * (gateways sweeping for kills), which runs outside `withTenant`.
 */
export const abuse: Migration = {
  name: '013-abuse',
  sql: /* sql */ `
CREATE TABLE abuse_labels (
  tenant_id   text        NOT NULL REFERENCES tenants (id),
  entity_kind text        NOT NULL,
  entity_id   text        NOT NULL,
  name        text        NOT NULL,
  connotation text        NOT NULL CHECK (connotation IN ('bad', 'good', 'neutral')),
  reason      text        NOT NULL,
  source      text        NOT NULL,
  rule        text,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz,
  PRIMARY KEY (tenant_id, entity_kind, entity_id, name)
);
CREATE INDEX abuse_labels_created_idx ON abuse_labels (tenant_id, created_at DESC);
CREATE INDEX abuse_labels_name_idx ON abuse_labels (tenant_id, name);

CREATE TABLE abuse_mitigations (
  tenant_id   text        NOT NULL REFERENCES tenants (id),
  id          text        NOT NULL,
  entity_kind text        NOT NULL,
  entity_id   text        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('deny', 'throttle', 'kill')),
  reason      text        NOT NULL,
  source      text        NOT NULL,
  rule        text,
  case_id     text,
  lim         integer,
  window_ms   integer,
  created_at  timestamptz NOT NULL,
  until       timestamptz NOT NULL,
  lifted_at   timestamptz,
  lifted_by   text,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX abuse_mitigations_entity_idx ON abuse_mitigations (tenant_id, entity_kind, entity_id);
CREATE INDEX abuse_mitigations_created_idx ON abuse_mitigations (tenant_id, created_at DESC);
CREATE INDEX abuse_mitigations_kills_idx ON abuse_mitigations (created_at) WHERE kind = 'kill';

CREATE TABLE abuse_cases (
  tenant_id    text        NOT NULL REFERENCES tenants (id),
  id           text        NOT NULL,
  queue        text        NOT NULL,
  category     text        NOT NULL,
  severity     text        NOT NULL,
  scope        text        NOT NULL,
  subject_kind text        NOT NULL,
  subject_id   text        NOT NULL,
  summary      text        NOT NULL,
  source       text        NOT NULL,
  rule         text,
  evidence     text        NOT NULL,
  mitigations  text        NOT NULL,
  proposed     text        NOT NULL,
  suspended    boolean,
  labels_added text,
  status       text        NOT NULL CHECK (status IN ('open', 'claimed', 'closed')),
  claimed_by   text,
  claimed_at   timestamptz,
  outcome      text        CHECK (outcome IN ('confirmed', 'false_positive', 'escalated')),
  decided_by   text,
  decided_at   timestamptz,
  escalations  integer     NOT NULL DEFAULT 0,
  notes        text        NOT NULL,
  due_at       timestamptz NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX abuse_cases_queue_idx ON abuse_cases (tenant_id, queue, status, id DESC);
CREATE INDEX abuse_cases_rule_idx ON abuse_cases (tenant_id, rule);
CREATE INDEX abuse_cases_subject_idx ON abuse_cases (tenant_id, subject_kind, subject_id);
CREATE INDEX abuse_cases_due_idx ON abuse_cases (tenant_id, due_at) WHERE status <> 'closed';

DO $rls$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['abuse_labels', 'abuse_mitigations', 'abuse_cases'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting('warden.tenant', true)) WITH CHECK (tenant_id = current_setting('warden.tenant', true))$p$, t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I TO warden_tenant', t);
  END LOOP;
END
$rls$;
GRANT DELETE ON abuse_labels TO warden_tenant;
`,
};
