import { beforeAll, describe, expect, it } from 'vitest';
import { createDetectorSet, type DetectorSet } from '../../detect/index.js';
import type { AuditEvent } from '../../domain/index.js';
import { call, setOf, settings } from '../../policy/test-helpers.js';
import { createCheckpoint, type CaptureOptions } from '../checkpoint.js';

let detectors: DetectorSet;
beforeAll(() => {
  detectors = createDetectorSet();
}, 30_000);

function harness(capture: CaptureOptions, ...docs: string[]) {
  const events: AuditEvent[] = [];
  const checkpoint = createCheckpoint({
    policies: { current: () => setOf(settings('acme', '{ defaultEffect: allow }'), ...docs) },
    registry: { findTool: async () => undefined, findAgent: async () => undefined },
    audit: { append: async (e) => void events.push(...e) },
    clock: { now: () => new Date('2026-11-24T12:00:00Z') },
    detectors,
    capture,
  });
  return { checkpoint, events };
}

const REDACTING = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: guard, scope: acme }
spec:
  scan: { detectors: [secret], redact: [secret] }
  rules:
    - { name: ok, effect: allow }
`;
// Structured credentials: the key names them, the value alone looks like nothing (issue 11 item 5).
const ARGS = { user: 'svc', password: 'hunter2!x', api_key: 'a8f3kd93jfk2', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG', headers: { Authorization: 'Bearer abc123def456' } };
const SECRETS = ['hunter2!x', 'a8f3kd93jfk2', 'wJalrXUtnFEMI/K7MDENG', 'abc123def456'];

describe('detect stage: credentials in structured arguments', () => {
  it('masks them in the forwarded arguments and redactedArgs where the scan section redacts secrets', async () => {
    const { checkpoint, events } = harness({}, REDACTING);
    const r = await checkpoint.check(call('acme/x', 'db.connect', { args: ARGS }));
    const forwarded = JSON.stringify(r.action.args);
    for (const s of SECRETS) expect(forwarded).not.toContain(s);
    expect(r.decision.redactedArgs).toEqual(r.action.args);
    expect(r.action.args).toMatchObject({ user: 'svc', password: '[REDACTED:secret]', headers: { Authorization: 'Bearer [REDACTED:secret]' } });
    expect(r.decision.findings.filter((f) => f.type === 'credential_field').map((f) => f.path).sort()).toEqual(['args.SecretAccessKey', 'args.api_key', 'args.headers.Authorization', 'args.password']);
    for (const s of SECRETS) expect(JSON.stringify(events)).not.toContain(s);
  });

  it('masks them in captured arguments whatever the scan section says', async () => {
    const { checkpoint, events } = harness({ args: true });
    await checkpoint.check(call('acme/x', 'db.connect', { args: ARGS }));
    const captured = JSON.stringify(events[0]!.payload!.args);
    expect(captured).toContain('"user":"svc"');
    for (const s of SECRETS) expect(captured).not.toContain(s);
  });
});
