import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDestinations, parseDestinations } from './destinations-file.js';

const hook = `apiVersion: warden.dev/v1
kind: AuditDestination
metadata: { name: siem }
spec:
  scope: acme
  types: ["tool.call.*"]
  webhook: { url: "https://siem.example/hook", secretEnv: SIEM_SECRET }
`;
const nats = `apiVersion: warden.dev/v1
kind: AuditDestination
metadata: { name: bus }
spec: { nats: { servers: "127.0.0.1:4222", stream: WARDEN_AUDIT, subjectPrefix: warden.audit } }
`;

describe('destinations file', () => {
  it('parses webhook and NATS destinations', () => {
    expect(parseDestinations('d.yaml', `${hook}---\n${nats}`).map((d) => d.metadata.name)).toEqual(['siem', 'bus']);
  });

  it('rejects unknown fields, both transports, none, and duplicate names with the file named', () => {
    expect(() => parseDestinations('d.yaml', hook.replace('scope: acme', 'scoop: acme'))).toThrow(/d\.yaml.*unknown field `scoop`/);
    expect(() => parseDestinations('d.yaml', hook.replace('  scope: acme', '  nats: { servers: x, stream: S, subjectPrefix: p }'))).toThrow(/exactly one of/);
    expect(() => parseDestinations('d.yaml', `${hook}---\n${hook}`)).toThrow(/defined twice/);
    expect(() => parseDestinations('d.yaml', hook.replace('https://siem.example/hook', 'ftp://x'))).toThrow(/an http\(s\) URL/);
  });

  it('needs the webhook secret in the environment', async () => {
    const f = join(mkdtempSync(join(tmpdir(), 'warden-dest-')), 'd.yaml');
    writeFileSync(f, hook);
    await expect(loadDestinations(f, {})).rejects.toThrow(/SIEM_SECRET/);
    expect((await loadDestinations(f, { SIEM_SECRET: 's' }))[0]!.doc.metadata.name).toBe('siem');
  });
});
