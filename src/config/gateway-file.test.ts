import { describe, expect, it } from 'vitest';
import { rateLimitsOf, sessionLimitsOf } from './gateway-file.js';
import { readConfigFile } from './warden-file.js';

const doc = (rateLimits: string) => `apiVersion: warden.dev/v1
kind: Gateway
spec:
  scope: acme
  servers:
    - { name: files, command: node, args: [server.js] }
  rateLimits:
${rateLimits}
`;
const gateway = (text: string) => readConfigFile('gw.yaml', text).gateway!;

describe('gateway config rate limits', () => {
  it('reads tool, resource and prompt globs and windows into rules', () => {
    const rules = rateLimitsOf(
      gateway(
        doc(`    - { agents: ["*"], resources: ["file:///srv/*"], limit: 100, window: 1m }
    - { agents: [ci], prompts: ["files.*"], tools: ["files.read*"], limit: 5, window: 2h, per: agent }
    - { agents: [ci], limit: 1000, window: 1d, per: agent }`),
      ),
    );
    expect(rules).toEqual([
      { agents: ['*'], tools: undefined, resources: ['file:///srv/*'], prompts: undefined, limit: 100, windowMs: 60_000, per: undefined },
      { agents: ['ci'], tools: ['files.read*'], resources: undefined, prompts: ['files.*'], limit: 5, windowMs: 7_200_000, per: 'agent' },
      { agents: ['ci'], tools: undefined, resources: undefined, prompts: undefined, limit: 1000, windowMs: 86_400_000, per: 'agent' },
    ]);
  });

  it('rejects a window it cannot read', () => {
    expect(() => gateway(doc(`    - { limit: 1, window: 1w }`))).toThrow(/window/);
  });

  it('rejects an unknown field in a rule with its path and place', () => {
    expect(() => gateway(doc(`    - { agents: ["*"], uris: ["x"], limit: 1, window: 1m }`))).toThrow(expect.objectContaining({ message: expect.stringContaining('uris'), span: { file: 'gw.yaml', line: 8, col: 24 } }));
  });
});

describe('gateway config audit mode and sessions', () => {
  const base = `apiVersion: warden.dev/v1
kind: Gateway
spec:
  scope: acme
  servers:
    - { name: files, command: node, args: [server.js] }
`;
  it('reads the mode, and leaves it undefined when the file names none', () => {
    expect(gateway(`${base}  audit: { mode: before-respond }\n`).audit?.mode).toBe('before-respond');
    expect(gateway(base).audit?.mode).toBeUndefined();
  });

  it('rejects a mode it does not know, and an unknown audit field', () => {
    expect(() => gateway(`${base}  audit: { mode: never }\n`)).toThrow(/audit/);
    expect(() => gateway(`${base}  audit: { mode: before-respond, sync: true }\n`)).toThrow(/sync/);
  });

  it('reads session limits in milliseconds, and refuses a cap of 0', () => {
    expect(sessionLimitsOf(gateway(`${base}  sessions: { max: 5, maxPerAgent: 2, idleTimeout: 2m }\n`))).toEqual({ maxSessions: 5, maxSessionsPerAgent: 2, idleTimeoutMs: 120_000 });
    expect(() => gateway(`${base}  sessions: { maxPerAgent: 0 }\n`)).toThrow(/maxPerAgent/);
  });

  it('refuses a server named twice, and one with both a command and a url', () => {
    expect(() => gateway(`${base}    - { name: files, command: x }\n`)).toThrow(/named twice/);
    expect(() => gateway(base.replace('command: node', 'command: node, url: "http://x"'))).toThrow(/exactly one of/);
  });
});
