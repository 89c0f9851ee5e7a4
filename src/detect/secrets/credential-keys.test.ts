import { describe, expect, it } from 'vitest';
import { createDetectorSet } from '../detector-set.js';
import { redact, redactValue } from '../redact.js';
import { credentialKey, keyWords } from './credential-keys.js';

const set = createDetectorSet({ detectors: ['secret'] });
const masked = (value: unknown) => JSON.stringify(redactValue(value, set.scanValue(value, 'tool_args', 'args'), 'args'));
const maskedText = (text: string) => redact(text, set.scanText(text, 'tool_args').findings);

describe('credentials named by their key (issue 11 item 5)', () => {
  it('splits keys into words and knows which name a credential', () => {
    expect(keyWords('SecretAccessKey')).toEqual(['secret', 'access', 'key']);
    expect(keyWords('X-API-Key')).toEqual(['x', 'api', 'key']);
    for (const k of ['password', 'api_key', 'SecretAccessKey', 'Authorization', 'x-api-key', 'client_secret', 'access_token', 'apiKey', 'DB_PASSWORD', 'passphrase', 'dbpassword', 'private_key']) expect(credentialKey(k), k).toBe('strong');
    for (const k of ['password_policy', 'token_count', 'secret_santa', 'max_tokens', 'next_page_token', 'primary_key', 'public_key', 'secret_name', 'password_reset_url', 'passwordless', 'tokenizer', 'key', 'password_hint']) expect(credentialKey(k), k).toBeUndefined();
  });

  it('masks values of credential fields in JSON arguments, nested or not', () => {
    const args = { password: 'hunter2!', api_key: 'a8f3kd93jfk2', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY', headers: { Authorization: 'Bearer abc123def456' }, db: { passwords: ['Tr0ub4dor&3'] } };
    const out = masked(args);
    for (const secret of ['hunter2!', 'a8f3kd93jfk2', 'wJalrXUtnFEMI', 'abc123def456', 'Tr0ub4dor&3']) expect(out).not.toContain(secret);
    expect(out).toContain('"Authorization":"Bearer [REDACTED:secret]"');
  });

  it('masks key/value credentials in YAML, env files, HTTP headers, query strings and URL userinfo', () => {
    const cases: Array<[string, string]> = [
      ['db:\n  password: hunter2!\n  port: 5432', 'hunter2!'],
      ['DB_PASSWORD=s3cr3tPass\nDB_HOST=db', 's3cr3tPass'],
      ['X-Api-Key: 9f8e7d6c5b4a\nAccept: */*', '9f8e7d6c5b4a'],
      ['curl -H "Authorization: Basic dXNlcjpwYXNz" https://api.example.com', 'dXNlcjpwYXNz'],
      ['GET /search?q=x&api_key=k3yV4lue99&page=2', 'k3yV4lue99'],
      ['clone https://deploy:gh0stPass@git.example.com/org/repo.git', 'gh0stPass'],
      ['REDIS_URL=redis://:cacheP4ss@cache.internal:6379/0', 'cacheP4ss'],
    ];
    for (const [text, secret] of cases) expect(maskedText(text), text).not.toContain(secret);
  });

  it('leaves look-alikes, masked values, placeholders, references and prose alone', () => {
    const values: unknown[] = [
      { password_policy: 'min 12 chars' },
      { token_count: 512 },
      { secret_santa: 'alice' },
      { password: '********' },
      { api_key: '<your-api-key>' },
      { api_key: '${API_KEY}' },
      { password: 'This field is required.' },
      { token: 'https://example.com/token' },
      { devDependencies: { 'pbkdf2-password': '1.2.1' } },
      'password: ********',
      'API_KEY=${API_KEY}',
      'Authorization: Bearer <token>',
      'password: must be at least 12 characters',
      'password = getPassword()',
      'token: `start` and `end` are offsets',
      'uri://user:pass@example.com',
    ];
    for (const v of values) {
      const found = typeof v === 'string' ? set.scanText(v, 'tool_args').findings : set.scanValue(v, 'tool_args', 'args');
      expect(found, JSON.stringify(v)).toEqual([]);
    }
  });
});
