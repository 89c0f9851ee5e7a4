import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWardenError } from '../domain/index.js';
import { createOidcVerifier } from '../identity/index.js';
import { loadOidcConfig, parseOidcConfig } from './oidc-config.js';

const yaml = `apiVersion: warden.dev/v1
kind: OidcProvider
spec:
  issuer: https://login.example.com/realms/acme
  audience: warden
  clockSkewSec: 30
  tenant: { claim: org }
  roles:
    - { claim: groups, value: warden-admins, grants: [{ role: admin }] }
    - { claim: realm_access.roles, value: payments-audit, grants: [{ role: auditor, scope: acme/payments }] }
`;

/** The `config.invalid` message `text` is refused with. */
function refusal(text: string): string {
  try {
    parseOidcConfig('oidc.yaml', text);
  } catch (e) {
    if (isWardenError(e) && e.code === 'config.invalid') return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('OIDC configuration file', () => {
  it('reads YAML into the OidcConfig the verifier takes', () => {
    const config = parseOidcConfig('oidc.yaml', yaml);
    expect(config).toEqual({
      issuer: 'https://login.example.com/realms/acme',
      audience: 'warden',
      clockSkewSec: 30,
      tenant: { claim: 'org' },
      roles: [
        { claim: 'groups', value: 'warden-admins', grants: [{ role: 'admin' }] },
        { claim: 'realm_access.roles', value: 'payments-audit', grants: [{ role: 'auditor', scope: 'acme/payments' }] },
      ],
    });
    expect(() => createOidcVerifier(config)).not.toThrow();
  });

  it('reads JSON, a fixed tenant and a list of audiences', () => {
    const json = JSON.stringify({
      apiVersion: 'warden.dev/v1',
      kind: 'OidcProvider',
      spec: { issuer: 'http://127.0.0.1:8080', audience: ['warden', 'warden-cli'], jwksUri: 'http://localhost:8080/jwks', tenant: { value: 'acme' }, roles: [{ claim: 'groups', value: 'ops', grants: [{ role: 'viewer' }] }] },
    });
    expect(parseOidcConfig('oidc.json', json)).toMatchObject({ audience: ['warden', 'warden-cli'], tenant: { value: 'acme' }, jwksUri: 'http://localhost:8080/jwks' });
  });

  it('names the file and the problem for a shape error', () => {
    expect(refusal(yaml.replace('audience: warden', 'audiense: warden'))).toMatch(/^oidc\.yaml: .*audiense/);
    expect(refusal(yaml.replace('kind: OidcProvider', 'kind: AuditDestination'))).toMatch(/oidc\.yaml: .*kind/);
    expect(refusal(yaml.replace('{ role: admin }', '{ role: wizard }'))).toMatch(/oidc\.yaml: .*role/);
    expect(refusal(yaml.replace('tenant: { claim: org }', 'tenant: { value: ACME }'))).toMatch(/oidc\.yaml: .*tenant/);
    expect(refusal(yaml.replace('clockSkewSec: 30', 'clockSkewSec: -1'))).toMatch(/oidc\.yaml: .*clockSkewSec/);
    expect(refusal(yaml.replace(/ {2}roles:[\s\S]*$/, '  roles: []\n'))).toMatch(/oidc\.yaml: .*roles/);
    expect(refusal('')).toMatch(/^oidc\.yaml: /);
  });

  it('refuses what a valid shape can still get wrong: machine roles, plain http, symmetric algorithms', () => {
    expect(refusal(yaml.replace('{ role: admin }', '{ role: enforcer }'))).toMatch(/oidc\.yaml: roles\[0\] grants `enforcer`, a machine role/);
    expect(refusal(yaml.replace('{ role: admin }', '{ role: agent }'))).toMatch(/machine role/);
    expect(refusal(yaml.replace('https://login.example.com', 'http://login.example.com'))).toMatch(/oidc\.yaml: issuer .* must use https/);
    expect(refusal(yaml.replace('clockSkewSec: 30', 'algorithms: [HS256]'))).toMatch(/oidc\.yaml: .*algorithms/);
    expect(refusal(yaml.replace('clockSkewSec: 30', 'algorithms: [none]'))).toMatch(/oidc\.yaml: .*algorithms/);
  });

  it('names a YAML syntax error and a file it cannot read', async () => {
    expect(refusal('spec: { issuer: [')).toMatch(/^oidc\.yaml: /);
    const dir = mkdtempSync(join(tmpdir(), 'warden-oidc-'));
    await expect(loadOidcConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml: cannot read/);
    const f = join(dir, 'oidc.yaml');
    writeFileSync(f, yaml);
    expect((await loadOidcConfig(f)).issuer).toBe('https://login.example.com/realms/acme');
  });

  it('the verifier refuses the same bad configuration when built directly', () => {
    const config = parseOidcConfig('oidc.yaml', yaml);
    expect(() => createOidcVerifier({ ...config, roles: [{ claim: 'groups', value: 'x', grants: [{ role: 'agent' }] }] })).toThrow(/machine role/);
    expect(() => createOidcVerifier({ ...config, jwksUri: 'ftp://keys.example.com' })).toThrow(/jwksUri/);
  });
});
