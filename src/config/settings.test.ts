import { describe, expect, it } from 'vitest';
import { resolveServeConfig } from './config.js';
import { resolveGatewayConfig } from './gateway-settings.js';
import { resolveSetting, SERVE_SETTINGS } from './settings.js';
import { resolveStoreConfig } from './store-config.js';
import { readConfigFile } from './warden-file.js';

const file = readConfigFile(
  '/srv/warden.yaml',
  `apiVersion: warden.dev/v1
kind: Warden
spec:
  policies: [policies]
  dataDir: data
  redis: redis://file:6379
  allowHosts: [file.example]
  abuseDefaultPack: false
  serve: { port: 9000, host: 0.0.0.0, watch: false, behindProxy: true, logLevel: debug }
  gateway:
    scope: acme/file
    http: 8931
    registryCacheMs: 100
    sessions: { maxPerAgent: 4, idleTimeout: 2m }
    audit: { mode: before-respond }
`,
);

describe('one resolver: flag > environment > file > default', () => {
  it('takes the file over the defaults, paths resolved against the file', () => {
    const { config, sources } = resolveServeConfig({}, {}, file);
    expect(config).toMatchObject({ port: 9000, host: '0.0.0.0', policies: ['/srv/policies'], dataDir: '/srv/data', watchPolicies: false, behindProxy: true, logLevel: 'debug', sessionRedisUrl: 'redis://file:6379', abuseDefaultPack: false, allowedHosts: ['file.example'] });
    expect(config.auditKeyFile).toBe('/srv/data.audit-key.pem');
    expect(sources).toMatchObject({ port: 'file', policies: 'file', checkpointInterval: 'default' });
  });

  it('lets an environment variable beat the file, and a flag beat the environment', () => {
    const env = { WARDEN_PORT: '9100', WARDEN_DATA_DIR: '/env/data', WARDEN_REDIS_URL: 'redis://env:6379', WARDEN_ABUSE_DEFAULT_PACK: '1', WARDEN_BEHIND_PROXY: 'no' };
    const fromEnv = resolveServeConfig({}, env, file);
    expect(fromEnv.config).toMatchObject({ port: 9100, dataDir: '/env/data', sessionRedisUrl: 'redis://env:6379', abuseDefaultPack: true, behindProxy: false });
    expect(fromEnv.sources).toMatchObject({ port: 'env', dataDir: 'env', host: 'file' });
    const fromFlag = resolveServeConfig({ port: '9200', dataDir: '/flag/data', redis: 'redis://flag:6379', watch: true }, env, file);
    expect(fromFlag.config).toMatchObject({ port: 9200, dataDir: '/flag/data', sessionRedisUrl: 'redis://flag:6379', watchPolicies: true });
    expect(fromFlag.sources).toMatchObject({ port: 'flag', dataDir: 'flag', watch: 'flag' });
    // The store's paths follow the same order, for every command that opens it.
    expect(resolveStoreConfig({}, env, file).dataDir).toBe('/env/data');
    expect(resolveStoreConfig({ dataDir: '/flag' }, env, file).dataDir).toBe('/flag');
  });

  it('treats an empty variable as unset, and refuses a variable that is not the setting’s kind', () => {
    expect(resolveServeConfig({}, { WARDEN_PORT: '' }, file).config.port).toBe(9000);
    expect(() => resolveServeConfig({}, { WARDEN_PORT: 'eighty' }, file)).toThrow(expect.objectContaining({ code: 'config.invalid', message: 'WARDEN_PORT `eighty` is not a whole number' }));
    expect(() => resolveServeConfig({}, { WARDEN_BEHIND_PROXY: 'maybe' }, file)).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    expect(resolveSetting('port', SERVE_SETTINGS.port, { flags: {}, env: {} })).toBeUndefined();
  });

  it('checks the file’s values as it checks flags: a public suffix on the allow-list is refused', () => {
    const bad = readConfigFile('/srv/w.yaml', 'apiVersion: warden.dev/v1\nkind: Warden\nspec: { policies: [p], allowHosts: [github.io] }\n');
    expect(() => resolveServeConfig({}, {}, bad)).toThrow(expect.objectContaining({ code: 'config.invalid', message: expect.stringContaining('`github.io`') }));
  });

  it('resolves the gateway from the same order, its file section and the shared settings', () => {
    const fromFile = resolveGatewayConfig({}, {}, file).config;
    expect(fromFile).toMatchObject({ scope: 'acme/file', http: 8931, stdio: false, redis: 'redis://file:6379', registryCacheMs: 100, auditMode: 'before-respond', sessionLimits: { maxSessionsPerAgent: 4, idleTimeoutMs: 120_000 }, policies: ['/srv/policies'], logLevel: 'warn', host: '127.0.0.1' });
    const env = { WARDEN_REDIS_URL: 'redis://env:6379', WARDEN_AGENT_ID: 'env-agent', WARDEN_POLICIES: '/env/p1,/env/p2' };
    expect(resolveGatewayConfig({}, env, file).config).toMatchObject({ redis: 'redis://env:6379', agent: 'env-agent', policies: ['/env/p1', '/env/p2'] });
    const flags = { scope: 'acme/flag', redis: 'redis://flag:6379', maxSessionsPerAgent: '9', auditMode: 'before-forward', policies: ['/flag/p'], stdio: true };
    expect(resolveGatewayConfig(flags, env, file).config).toMatchObject({ scope: 'acme/flag', redis: 'redis://flag:6379', sessionLimits: { maxSessionsPerAgent: 9, idleTimeoutMs: 120_000 }, auditMode: 'before-forward', policies: ['/flag/p'], stdio: true, http: 8931 });
    expect(() => resolveGatewayConfig({ maxSessionsPerAgent: '0' }, {}, file)).toThrow(expect.objectContaining({ code: 'config.invalid', message: expect.stringContaining('--max-sessions-per-agent') }));
  });

  it('keeps the defaults with no file', () => {
    expect(resolveGatewayConfig({}, {}).config).toMatchObject({ stdio: true, host: '127.0.0.1', logLevel: 'warn', agent: 'stdio-agent', tenant: 'default', registryCacheMs: 500, upstreamEnv: 'inherit', abuseDefaultPack: true, servers: [], policies: [] });
    expect(resolveServeConfig({ policies: ['p'] }, {}).config).toMatchObject({ port: 8080, host: '127.0.0.1', dataDir: '.warden/data', watchPolicies: true, checkpointIntervalSec: 60, logLevel: 'info' });
  });
});
