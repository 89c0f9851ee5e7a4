/**
 * Secrets named by their key (issue 11 item 5): a seeded set of credentials in JSON fields, YAML, env
 * files, HTTP headers, query strings and URL userinfo, against look-alikes (`password_policy`,
 * `token_count`, `secret_santa`, masked and placeholder values, prose). A row counts as found when a
 * secret finding masks the value: the value is gone from the redacted text or arguments.
 *
 *   npx tsx bench/detect/secret-fields-eval.ts [--list]
 */
import { parseArgs } from 'node:util';
import { createDetectorSet, redact, redactValue } from '../../src/detect/index.js';
import { createRng } from '../support/rng.js';

const { values } = parseArgs({ options: { list: { type: 'boolean', default: false } } });
const rand = createRng(11).next;
const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
const one = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const AN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const passwords = [() => `${one(['hunter', 'summer', 'Dragon', 'monkey', 'Purple'])}${pick('0123456789', 2)}${one(['!', '#', '', '$'])}`, () => pick(AN, 16), () => pick('0123456789abcdef', 32), () => `${one(['correct', 'blue'])} ${one(['horse', 'river'])} ${one(['battery', 'stone'])} ${one(['staple', 'lamp'])}`, () => `Tr0ub4dor&${pick('0123456789', 1)}`];
const secret = () => one(passwords)();

interface Row {
  kind: string;
  label: boolean;
  /** A JSON value (arguments) or a text. */
  value: unknown;
  /** The secret that must not survive redaction (positives). */
  secret?: string;
}
const rows: Row[] = [];
const jsonKeys = ['password', 'api_key', 'SecretAccessKey', 'client_secret', 'access_token', 'apiKey', 'DB_PASSWORD', 'x-api-key', 'private_key', 'passphrase', 'auth_token', 'token', 'secret', 'refresh_token', 'aws_secret_access_key', 'smtpPassword'];
for (let i = 0; i < 160; i++) {
  const key = jsonKeys[i % jsonKeys.length]!;
  const s = secret();
  const nested = i % 3 === 0;
  rows.push({ kind: 'json field', label: true, value: nested ? { config: { db: { host: 'db.internal', [key]: s } } } : { user: 'svc', [key]: s }, secret: s });
}
for (let i = 0; i < 40; i++) {
  const s = pick(AN, 24 + (i % 10));
  rows.push({ kind: 'json Authorization', label: true, value: { headers: { Authorization: `${one(['Bearer', 'Basic', 'Token'])} ${s}`, Accept: 'application/json' } }, secret: s });
}
const textForms: Array<(s: string) => string> = [
  (s) => `db:\n  host: db.internal\n  password: ${s}\n  port: 5432`,
  (s) => `api_key: "${s}"`,
  (s) => `DB_PASSWORD=${s}\nDB_HOST=db.internal`,
  (s) => `export API_TOKEN=${s}`,
  (s) => `GET /v1/items HTTP/1.1\nHost: api.example.com\nX-Api-Key: ${s}\nAccept: */*`,
  (s) => `curl -H "Authorization: Bearer ${s}" https://api.example.com/v1/me`,
  (s) => `fetch https://api.example.com/search?q=shoes&api_key=${s}&page=2`,
  (s) => `client_secret = "${s}"`,
];
for (let i = 0; i < 160; i++) {
  const s = i % 2 ? pick(AN, 20) : secret().replace(/ /g, '-');
  rows.push({ kind: 'text key/value', label: true, value: textForms[i % textForms.length]!(s), secret: s });
}
for (let i = 0; i < 60; i++) {
  const s = `${one(['p', 'Zk', 's3'])}${pick(AN, 10)}`;
  const url = [`https://deploy:${s}@git.example.com/org/repo.git`, `redis://:${s}@cache.internal:6379/0`, `amqp://guest:${s}@mq.internal:5672`, `ftp://backup:${s}@files.example.com/dump.sql`][i % 4]!;
  rows.push({ kind: 'url userinfo', label: true, value: i % 2 ? { url } : `clone ${url} and run`, secret: s });
}
// Look-alikes: the same shapes, nothing to mask.
const negatives: unknown[] = [
  { password_policy: 'min 12 chars' },
  { token_count: 512 },
  { token_count: '512' },
  { secret_santa: 'alice' },
  { password: '********' },
  { password: '••••••••' },
  { api_key: '<your-api-key>' },
  { api_key: '${API_KEY}' },
  { api_key: 'your_api_key_here' },
  { password: '' },
  { token_type: 'Bearer' },
  { max_tokens: '1024' },
  { secret_name: 'prod-db-credentials' },
  { password_reset_url: 'https://example.com/reset' },
  { next_page_token: 'CiAKGjBpNDd2Nmp2Zml2cXRkMjR' },
  { passwordless: 'true' },
  { password: 'This field is required.' },
  { primary_key: 'id' },
  { sort_key: 'created_at' },
  { public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH1x3pA deploy@ci' },
  { secret: true },
  { password: null },
  { auth: 'oauth2' },
  { key: 'name' },
  { Authorization: 'Bearer <token>' },
  { Authorization: 'Bearer ${TOKEN}' },
  { password: 'changeme' },
  { token: 'REDACTED' },
  { api_key: '[REDACTED:secret]' },
  { password_hint: 'your first pet' },
  { has_password: 'yes' },
  { tokenizer: 'cl100k_base' },
  { credential_type: 'service_account' },
  'password: ********',
  'api_key: <your-api-key>',
  'API_KEY=${API_KEY}',
  'password: must be at least 12 characters',
  'token_count: 512',
  'Authorization: Bearer <token>',
  'postgres://user:password@localhost:5432/db',
  'secret_santa: alice',
  'password_policy: min 12 chars',
  'Set a strong password: at least 12 characters, one digit.',
  'The token: a string returned by /login, valid for an hour.',
  'password = getPassword()',
  'token = process.env.GITHUB_TOKEN',
  'password: ${DB_PASSWORD}',
  'secret_name = "prod-database-credentials"',
  'max_tokens=1024',
  'https://example.com/docs?page=2&sort=asc',
  'ssh://git@github.com:22/org/repo.git',
  'http://localhost:8080/health',
  'Use key: value pairs in the YAML file.',
  'the passwords: they must be rotated every 90 days',
  'auth: none',
  'key = "created_at"',
  'token_type: bearer',
  'password_min_length: 12',
];
for (const v of negatives) rows.push({ kind: typeof v === 'string' ? 'text look-alike' : 'json look-alike', label: false, value: v });

const set = createDetectorSet({ detectors: ['secret'] });
const byKind = new Map<string, { tp: number; fp: number; fn: number; tn: number }>();
const all = { tp: 0, fp: 0, fn: 0, tn: 0 };
for (const r of rows) {
  let masked: string;
  let found: boolean;
  if (typeof r.value === 'string') {
    const f = set.scanText(r.value, 'tool_args').findings;
    found = f.length > 0;
    masked = redact(r.value, f);
  } else {
    const f = set.scanValue(r.value, 'tool_args', 'args');
    found = f.length > 0;
    masked = JSON.stringify(redactValue(r.value, f, 'args'));
  }
  const predicted = r.label ? found && !masked.includes(r.secret!) : found;
  const c = byKind.get(r.kind) ?? { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const x of [c, all]) {
    if (predicted && r.label) x.tp++;
    else if (predicted) x.fp++;
    else if (r.label) x.fn++;
    else x.tn++;
  }
  byKind.set(r.kind, c);
  if (values.list && predicted !== r.label) process.stdout.write(`${r.label ? 'missed' : 'false alarm'}: ${JSON.stringify(r.value)}\n`);
}
const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '  -  ');
process.stdout.write('| kind | n | precision | recall | tp fp fn tn |\n|---|---|---|---|---|\n');
for (const [k, c] of [...byKind, ['all', all] as const]) process.stdout.write(`| ${k} | ${c.tp + c.fp + c.fn + c.tn} | ${fmt(c.tp / (c.tp + c.fp))} | ${fmt(c.tp / (c.tp + c.fn))} | ${c.tp} ${c.fp} ${c.fn} ${c.tn} |\n`);
