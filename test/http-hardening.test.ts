import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type WardenConfig } from '../src/config/index.js';
import { createServerApp, httpOptionsOf, startServer } from '../src/main/index.js';
import { apiCore, withHeaders, type ApiUnderTest } from './support/api-core.js';

const POLICY = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: baseline, scope: acme, version: 1 }
spec:
  rules:
    - { name: reads, effect: allow, match: { tools: ["*.read*"] } }
`;
const DECIDE = { kind: 'tool.call', scope: 'acme/p1', agent: { id: 'agent-1' }, tool: { server: 'files', name: 'files.read' } };
const CONSOLE = 'https://console.example.com';

// Policies and data directories for the tests that start `warden serve` whole.
const dir = mkdtempSync(join(tmpdir(), 'warden-http-'));
const policies = join(dir, 'policies');
mkdirSync(policies);
writeFileSync(join(policies, 'p.yaml'), POLICY);

let api: ApiUnderTest;
/** As `warden serve` builds it on `--host 10.0.0.5 --public-host warden.example.com --cors-origin https://console.example.com`. */
let pub: FastifyInstance;
/** The same behind a proxy, bound to loopback. */
let proxied: FastifyInstance;

function httpConfig(over: Partial<WardenConfig>): Parameters<typeof httpOptionsOf>[0] {
  return { host: '127.0.0.1', publicHosts: [], corsOrigins: [], behindProxy: false, ...over };
}

/** The app with a token on every request: an enforcer decides, an owner reads (authentication is test/route-roles.test.ts's). */
const signed = (app: FastifyInstance): FastifyInstance => withHeaders(app, (url) => api.auth(url.startsWith('/api/v1/decide') ? 'enforcer' : 'owner'));
let app0: FastifyInstance;

beforeAll(async () => {
  api = await apiCore(POLICY);
  app0 = signed(api.app);
  pub = signed(createServerApp(api.core, { http: httpOptionsOf(httpConfig({ host: '10.0.0.5', publicHosts: ['warden.example.com'], corsOrigins: [CONSOLE] })) }));
  proxied = signed(createServerApp(api.core, { http: httpOptionsOf(httpConfig({ behindProxy: true, publicHosts: ['warden.example.com'] })) }));
});
afterAll(async () => {
  await pub?.close();
  await proxied?.close();
  await api?.close();
});

const get = (app: FastifyInstance, url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

function expectRefusedHost(res: LightMyRequestResponse, named?: string): void {
  expect(res.statusCode).toBe(421);
  const body = res.json() as { error: { code: string; message: string; help: string } };
  expect(body.error.code).toBe('request.host_refused');
  if (named !== undefined) expect(body.error.message).toContain(`\`${named}\``);
  expect(body.error.help).toContain('--public-host');
  expect(body.error.help).toContain('WARDEN_PUBLIC_HOSTS');
}

describe('the Host check (DNS rebinding)', () => {
  it('answers the loopback names by default, in any case, with a port, IPv6 in brackets, a trailing dot', async () => {
    for (const host of ['localhost', 'localhost:8080', 'LOCALHOST.:8080', '127.0.0.1', '127.0.0.1:8080', '[::1]', '[::1]:8080', '[0:0:0:0:0:0:0:1]:8080']) {
      expect((await get(app0, '/api/v1/policies', { host })).statusCode, host).toBe(200);
    }
  });

  it('refuses a page that rebinds its own name to 127.0.0.1, before any route or 404 is reached', async () => {
    expectRefusedHost(await get(app0, '/api/v1/policies', { host: 'attacker.example' }), 'attacker.example');
    expectRefusedHost(await get(app0, '/api/v1/policies', { host: 'attacker.example:8080' }), 'attacker.example');
    expectRefusedHost(await get(app0, '/api/v1/nowhere', { host: 'attacker.example' }));
    const post = await app0.inject({ method: 'POST', url: '/api/v1/decide', headers: { host: 'attacker.example' }, payload: DECIDE });
    expectRefusedHost(post, 'attacker.example');
    // Names that merely contain an allowed one, and spellings that are not a host name.
    for (const host of ['localhost.attacker.example', '127.0.0.1.nip.io', '::1', 'localhost:99999', 'user@localhost', 'localhost, attacker.example']) {
      expectRefusedHost(await get(app0, '/api/v1/policies', { host }));
    }
  });

  it('lets load balancers probe /healthz and /readyz under any Host', async () => {
    expect((await get(app0, '/healthz', { host: '10.1.2.3:8080' })).statusCode).toBe(200);
    expect((await get(app0, '/readyz?verbose=1', { host: 'attacker.example' })).statusCode).toBe(200);
  });

  it('on another bind address answers that address and the public names, not the loopback names', async () => {
    expect((await get(pub, '/api/v1/policies', { host: 'warden.example.com' })).statusCode).toBe(200);
    expect((await get(pub, '/api/v1/policies', { host: 'Warden.Example.com:443' })).statusCode).toBe(200);
    expect((await get(pub, '/api/v1/policies', { host: '10.0.0.5:8080' })).statusCode).toBe(200);
    expectRefusedHost(await get(pub, '/api/v1/policies', { host: 'localhost:8080' }), 'localhost');
    expectRefusedHost(await get(pub, '/api/v1/policies', { host: 'attacker.example' }), 'attacker.example');
  });

  it('behind a proxy checks X-Forwarded-Host too, every hop of it', async () => {
    expect((await get(proxied, '/api/v1/policies', { host: '127.0.0.1:8080', 'x-forwarded-host': 'warden.example.com' })).statusCode).toBe(200);
    expectRefusedHost(await get(proxied, '/api/v1/policies', { host: '127.0.0.1:8080', 'x-forwarded-host': 'attacker.example' }), 'attacker.example');
    expectRefusedHost(await get(proxied, '/api/v1/policies', { host: '127.0.0.1:8080', 'x-forwarded-host': 'warden.example.com, attacker.example' }), 'attacker.example');
    // Without --behind-proxy the header is the client's word, and ignored.
    expect((await get(app0, '/api/v1/policies', { 'x-forwarded-host': 'attacker.example' })).statusCode).toBe(200);
  });

  it('behind a proxy takes the client address the proxy appended, not one the client wrote', async () => {
    const app = createServerApp(api.core, { http: httpOptionsOf(httpConfig({ behindProxy: true })) });
    app.get('/test/ip', async (req) => ({ ip: req.ip, protocol: req.protocol }));
    const res = await get(app, '/test/ip', { 'x-forwarded-for': '198.51.100.66, 203.0.113.9', 'x-forwarded-proto': 'https' });
    expect(res.json()).toEqual({ ip: '203.0.113.9', protocol: 'https' });
    const direct = createServerApp(api.core);
    direct.get('/test/ip', async (req) => ({ ip: req.ip, protocol: req.protocol }));
    expect((await get(direct, '/test/ip', { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' })).json()).toEqual({ ip: '127.0.0.1', protocol: 'http' });
    await app.close();
    await direct.close();
  });

  it("with --public-host '*' answers every name, and says so at start", async () => {
    const options = httpOptionsOf(httpConfig({ publicHosts: ['*'] }));
    expect(options.allowedHosts).toBe('any');
    expect(options.warnings).toEqual([expect.stringContaining('DNS rebinding')]);
    const open = signed(createServerApp(api.core, { http: options }));
    expect((await get(open, '/api/v1/policies', { host: 'anything.example' })).statusCode).toBe(200);
    await open.close();
  });

  it('on a wildcard bind answers the loopback names and the interface addresses', () => {
    const options = httpOptionsOf(httpConfig({ host: '0.0.0.0', publicHosts: ['warden.example.com'] }), { interfaces: () => ['192.0.2.10', '[fe80::1]'] });
    expect(options.allowedHosts).toEqual(expect.arrayContaining(['warden.example.com', 'localhost', '127.0.0.1', '[::1]', '192.0.2.10', '[fe80::1]']));
    expect(options.allowedHosts).not.toContain('0.0.0.0');
  });

  it('refuses an HTTP/1.0 request without a Host header on a real socket', async () => {
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = api.app.server.address() as { port: number };
    const raw = await new Promise<string>((resolve, reject) => {
      let out = '';
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /api/v1/policies HTTP/1.0\r\n\r\n'));
      socket.on('data', (b) => (out += b.toString()));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 421 /);
    expect(raw).toContain('"code":"request.host_refused"');
    expect(raw).toContain('no `Host` header');
  });
});

describe('CORS, closed unless an origin is configured', () => {
  const preflight = (app: FastifyInstance, origin: string) =>
    app.inject({
      method: 'OPTIONS',
      url: '/api/v1/decide',
      headers: { host: app === pub ? 'warden.example.com' : 'localhost', origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
  const corsHeaders = (res: LightMyRequestResponse) => Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));

  it('refuses every preflight by default and sends no Access-Control header', async () => {
    const res = await preflight(api.app, CONSOLE);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'request.cors_refused', message: `cross-origin requests from \`${CONSOLE}\` are not allowed`, help: expect.stringContaining('--cors-origin') } });
    expect(corsHeaders(res)).toEqual([]);
    const simple = await app0.inject({ method: 'POST', url: '/api/v1/decide', headers: { origin: CONSOLE }, payload: DECIDE });
    expect(simple.statusCode).toBe(200);
    expect(corsHeaders(simple)).toEqual([]);
  });

  it('answers a preflight from a configured origin, without credentials', async () => {
    const res = await preflight(pub, CONSOLE);
    expect(res.statusCode).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': CONSOLE,
      'access-control-allow-methods': expect.stringContaining('POST'),
      'access-control-allow-headers': 'Authorization, Content-Type, If-Match',
      vary: 'Origin',
    });
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const call = await pub.inject({ method: 'POST', url: '/api/v1/decide', headers: { origin: CONSOLE, host: 'warden.example.com' }, payload: DECIDE });
    expect(call.statusCode).toBe(200);
    expect(call.headers).toMatchObject({ 'access-control-allow-origin': CONSOLE, vary: 'Origin' });
  });

  it('still refuses another origin, a lookalike one included', async () => {
    for (const origin of ['https://evil.example', 'https://console.example.com.evil.example', 'http://console.example.com', 'null']) {
      const res = await preflight(pub, origin);
      expect(res.statusCode, origin).toBe(403);
      expect(corsHeaders(res), origin).toEqual([]);
    }
    const call = await pub.inject({ method: 'POST', url: '/api/v1/decide', headers: { origin: 'https://evil.example', host: 'warden.example.com' }, payload: DECIDE });
    expect(call.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('checks the Host before the origin', async () => {
    const res = await pub.inject({ method: 'OPTIONS', url: '/api/v1/decide', headers: { origin: CONSOLE, host: 'attacker.example' } });
    expectRefusedHost(res, 'attacker.example');
  });
});

describe('security headers', () => {
  const COMMON = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };

  it('are on every answer: a success, a 404, a refused Host, a validation error', async () => {
    const answers = [
      await get(app0, '/api/v1/policies'),
      await get(app0, '/api/v1/nowhere'),
      await get(app0, '/api/v1/policies', { host: 'attacker.example' }),
      await app0.inject({ method: 'POST', url: '/api/v1/decide', payload: { kind: 'nope' } }),
    ];
    expect(answers.map((r) => r.statusCode)).toEqual([200, 404, 421, 400]);
    for (const res of answers) {
      expect(res.headers).toMatchObject({ ...COMMON, 'cache-control': 'no-store' });
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers.server).toBeUndefined();
    }
    const health = await get(app0, '/healthz');
    expect(health.headers).toMatchObject(COMMON);
    expect(health.headers['cache-control']).toBeUndefined();
  });

  it('leave a route its own Content-Security-Policy and Cache-Control', async () => {
    const app = createServerApp(api.core);
    app.get('/docs/test-page', async (_req, reply) => reply.header('content-security-policy', "default-src 'self'").header('cache-control', 'max-age=60').type('text/html').send('<p>hi</p>'));
    const res = await get(app, '/docs/test-page');
    expect(res.headers).toMatchObject({ 'content-security-policy': "default-src 'self'", 'cache-control': 'max-age=60', 'x-frame-options': 'DENY' });
    await app.close();
  });

  it('send HSTS behind a proxy only when the client spoke HTTPS to it, and never for a client that claims it directly', async () => {
    const https = await get(proxied, '/api/v1/policies', { 'x-forwarded-proto': 'https' });
    expect(https.headers['strict-transport-security']).toBe('max-age=31536000');
    expect((await get(proxied, '/api/v1/policies', { 'x-forwarded-proto': 'http' })).headers['strict-transport-security']).toBeUndefined();
    expect((await get(app0, '/api/v1/policies', { 'x-forwarded-proto': 'https' })).headers['strict-transport-security']).toBeUndefined();
  });
});

describe('the clear-text warning', () => {
  it('is given for a reachable bind address over plain HTTP, not on loopback, with TLS or behind a proxy', () => {
    const [warning, ...more] = httpOptionsOf(httpConfig({ host: '0.0.0.0' }), { interfaces: () => [] }).warnings;
    expect(more).toEqual([]);
    expect(warning).toContain('`0.0.0.0`');
    expect(warning).toContain('clear text');
    expect(warning).toMatch(/--tls-cert.*--behind-proxy.*--host 127\.0\.0\.1/);
    expect(httpOptionsOf(httpConfig({ host: '10.0.0.5' })).warnings).toHaveLength(1);
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(httpOptionsOf(httpConfig({ host })).warnings, host).toEqual([]);
    expect(httpOptionsOf(httpConfig({ host: '0.0.0.0', behindProxy: true }), { interfaces: () => [] }).warnings).toEqual([]);
  });

  it('`warden serve` on a reachable address without TLS logs the clear-text warning', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    const c = loadConfig({ policies: [policies], port: 0, host: '0.0.0.0', dataDir: join(dir, 'data-open'), checkpointInterval: 0 }, {});
    const server = await startServer(c, { logger });
    await server.close();
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.msg.includes('clear text'));
    expect(warnings).toEqual([expect.objectContaining({ level: 40, msg: expect.stringContaining('`0.0.0.0`') })]);
  });
});

const OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!OPENSSL) console.warn('http-hardening: `openssl` is not installed, so the TLS tests are skipped');

describe.skipIf(!OPENSSL)('TLS from --tls-cert and --tls-key', () => {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const otherKey = join(dir, 'other-key.pem');
  const encryptedKey = join(dir, 'encrypted-key.pem');

  beforeAll(() => {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1');
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', otherKey);
    openssl('pkey', '-in', key, '-aes256', '-passout', 'pass:secret', '-out', encryptedKey);
  });

  const config = (over: Partial<WardenConfig>) => ({ ...httpConfig({}), tlsCertFile: cert, tlsKeyFile: key, ...over });
  const invalid = (message: string) => expect.objectContaining({ code: 'config.invalid', message });

  it('refuses a missing, unreadable, non-PEM, mismatched or encrypted file with config.invalid', () => {
    const missing = join(dir, 'nope.pem');
    expect(() => httpOptionsOf(config({ tlsCertFile: missing }))).toThrow(invalid(`the TLS certificate file \`${missing}\` does not exist`));
    expect(() => httpOptionsOf(config({ tlsKeyFile: missing }))).toThrow(invalid(`the TLS key file \`${missing}\` does not exist`));
    expect(() => httpOptionsOf(config({ tlsCertFile: dir }))).toThrow(invalid(`the TLS certificate file \`${dir}\` is a directory`));
    expect(() => httpOptionsOf(config({ tlsCertFile: key }))).toThrow(invalid(`the TLS certificate file \`${key}\` is not a PEM certificate`));
    expect(() => httpOptionsOf(config({ tlsKeyFile: cert }))).toThrow(invalid(`the TLS key file \`${cert}\` is not a PEM private key`));
    expect(() => httpOptionsOf(config({ tlsKeyFile: otherKey }))).toThrow(invalid(`the TLS key \`${otherKey}\` is not the key of the certificate \`${cert}\``));
    expect(() => httpOptionsOf(config({ tlsKeyFile: encryptedKey }))).toThrow(invalid(`the TLS key file \`${encryptedKey}\` is encrypted with a passphrase`));
  });

  it('warns about an expired certificate but serves with it', () => {
    const later = new Date(Date.now() + 10 * 24 * 3600 * 1000);
    expect(httpOptionsOf(config({}), { now: later }).warnings).toEqual([expect.stringContaining('expired on')]);
    expect(httpOptionsOf(config({ host: '0.0.0.0' }), { interfaces: () => [] }).warnings).toEqual([]);
  });

  it('sends HSTS when the app serves HTTPS', async () => {
    const app = signed(createServerApp(api.core, { http: httpOptionsOf(config({})) }));
    const res = await get(app, '/api/v1/policies');
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    await app.close();
  });

  it('`warden serve` listens with TLS, prints an https URL, and logs no clear-text warning', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    const c = loadConfig({ policies: [policies], port: 0, dataDir: join(dir, 'data'), tlsCert: cert, tlsKey: key, checkpointInterval: 0 }, {});
    const server = await startServer(c, { logger });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await new Promise<{ status: number; hsts: unknown; body: string }>((resolve, reject) => {
        const req = httpsRequest(`${server.url}/api/v1/policies`, { ca: readFileSync(cert), headers: { authorization: `Bearer ${server.bootstrap!.token}` } }, (r) => {
          let body = '';
          r.on('data', (b: Buffer) => (body += b.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'], body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(res.status).toBe(200);
      expect(res.hsts).toBe('max-age=31536000');
      expect(lines.filter((l) => l.includes('clear text'))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('`warden serve` refuses a missing certificate before it creates anything on disk', async () => {
    const c = loadConfig({ policies: [policies], port: 0, dataDir: join(dir, 'data-never'), tlsCert: join(dir, 'gone.pem'), tlsKey: key }, {});
    await expect(startServer(c, { logger: pino({ level: 'silent' }) })).rejects.toMatchObject({ code: 'config.invalid' });
    expect(existsSync(join(dir, 'data-never'))).toBe(false);
  });
});
