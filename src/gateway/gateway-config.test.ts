import { describe, expect, it } from 'vitest';
import { auditModeOf, parseGatewayConfig, rateLimitsOf } from './gateway-config.js';

const doc = (rateLimits: string) => `apiVersion: warden.dev/v1
kind: Gateway
spec:
  scope: acme
  servers:
    - { name: files, command: node, args: [server.js] }
  rateLimits:
${rateLimits}
`;

describe('gateway config rate limits', () => {
  it('reads tool, resource and prompt globs and windows into rules', () => {
    const rules = rateLimitsOf(
      parseGatewayConfig(
        'gw.yaml',
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
    expect(() => parseGatewayConfig('gw.yaml', doc(`    - { limit: 1, window: 1w }`))).toThrow(/window/);
  });

  it('rejects an unknown field in a rule with its path', () => {
    expect(() => parseGatewayConfig('gw.yaml', doc(`    - { agents: ["*"], uris: ["x"], limit: 1, window: 1m }`))).toThrow(/uris/);
  });
});

describe('gateway config audit mode', () => {
  const base = `apiVersion: warden.dev/v1
kind: Gateway
spec:
  scope: acme
  servers:
    - { name: files, command: node, args: [server.js] }
`;
  it('reads the mode, and leaves it undefined when the file names none', () => {
    expect(auditModeOf(parseGatewayConfig('gw.yaml', `${base}  audit: { mode: before-respond }\n`))).toBe('before-respond');
    expect(auditModeOf(parseGatewayConfig('gw.yaml', `${base}  audit: { mode: before-forward }\n`))).toBe('before-forward');
    expect(auditModeOf(parseGatewayConfig('gw.yaml', base))).toBeUndefined();
    expect(auditModeOf(parseGatewayConfig('gw.yaml', `${base}  audit: {}\n`))).toBeUndefined();
  });

  it('rejects a mode it does not know, and an unknown audit field', () => {
    expect(() => parseGatewayConfig('gw.yaml', `${base}  audit: { mode: never }\n`)).toThrow(/audit/);
    expect(() => parseGatewayConfig('gw.yaml', `${base}  audit: { mode: before-respond, sync: true }\n`)).toThrow(/sync/);
  });
});
