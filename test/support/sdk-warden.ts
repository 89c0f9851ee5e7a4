import type { AddressInfo } from 'node:net';
import type { ApprovalRequest, AuditEvent } from '../../src/domain/index.js';
import { apiCore, operator, type ApiUnderTest } from './api-core.js';
import { fakeClock, type FakeClock } from './fake-clock.js';
import { waitFor } from './wait-for.js';

/** The policy the SDK suites run against: reads are cacheable, shell is denied, deploys need one approver, secrets are masked. */
export const SDK_POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: deny }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: sdk, scope: acme }
spec:
  scan: { detectors: [secret], on: [input, output], redact: [secret] }
  rules:
    - { name: reads, match: { actions: [tool.call], tools: ["files.read"] }, effect: allow, cache: 1m }
    - { name: queries, match: { actions: [tool.call], tools: ["db.query", "notes.*"] }, effect: allow }
    - { name: no-shell, match: { actions: [tool.call], tools: ["shell.*"] }, effect: deny, message: Shell tools are not for agents. }
    - name: deploys
      match: { actions: [tool.call], tools: ["deploy.*"] }
      effect: require_approval
      approval: { approvers: { roles: [approver] }, count: 1, timeout: 10m }
`;

/** A secret the detectors find and the scan section masks. */
export const DSN = 'postgres://admin:hunter2secret@db.internal:5432/prod';

/** A Warden listening on a loopback port, as `warden serve` answers, with an approver `alice`. */
export interface RunningWarden {
  api: ApiUnderTest;
  url: string;
  /** Warden's clock: it starts at the real time and moves only when a test moves it. */
  clock: FakeClock;
  /** An `agent` token acting as `agent-1`. */
  agentToken: string;
  /** Approves the first pending request for `tool` as `alice`, once one appears. */
  approveNext(tool: string, vote?: 'approve' | 'deny'): Promise<ApprovalRequest>;
  /** The tenant's events of a type, newest first. */
  events(type: string): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

/** Starts the API over an in-memory core with {@link SDK_POLICY} on 127.0.0.1. */
export async function startWarden(policy = SDK_POLICY): Promise<RunningWarden> {
  const clock = fakeClock(new Date());
  const api = await apiCore(policy, { clock });
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  const alice = (await api.core.identity.createToken(operator(), { name: 'alice', role: 'approver', principal: 'alice' })).token;
  return {
    api,
    url,
    clock,
    agentToken: api.tokens.agent,
    async approveNext(tool, vote = 'approve') {
      const pending = await waitFor(
        async () => {
          const res = await api.app.inject({ method: 'GET', url: '/api/v1/approvals?status=pending', headers: { authorization: `Bearer ${alice}` } });
          return res.json<{ approvals: ApprovalRequest[] }>().approvals.find((a) => a.subject.tool?.name === tool);
        },
        { timeoutMs: 20_000, intervalMs: 50, what: `a pending approval request for \`${tool}\`` },
      );
      const res = await api.app.inject({ method: 'POST', url: `/api/v1/approvals/${pending.id}/${vote}`, headers: { authorization: `Bearer ${alice}` }, payload: { comment: vote === 'deny' ? 'not today' : 'ok' } });
      if (res.statusCode !== 200) throw new Error(`could not ${vote} ${pending.id}: ${res.body}`);
      return res.json<ApprovalRequest>();
    },
    async events(type) {
      return (await api.core.auditLog.list({ tenant: 'default', type, limit: 100 })).events;
    },
    close: () => api.close(),
  };
}
