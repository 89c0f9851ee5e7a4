import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { startServer, type RunningServer } from '../src/main/index.js';
import { operator } from './support/api-core.js';

// `warden serve` with a metrics port and a scrape token, as a deployment runs it: the metrics port
// answers the scrape and the probes, the API port serves /metrics only behind the token, and a decide
// call's traceparent header reaches the decision's audit event.

const TOKEN = 'scrape-0123456789abcdef-xyz';
const TRACE = '0af7651916cd43dd8448eb211c80319c';
let server: RunningServer;
let agentToken: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-obs-serve-'));
  const policies = join(dir, 'p.yaml');
  writeFileSync(policies, 'apiVersion: warden.dev/v1\nkind: Policy\nmetadata: { name: open, scope: acme }\nspec:\n  rules:\n    - { name: all, effect: allow, match: { actions: [tool.call] } }\n');
  const config = loadConfig({ port: 0, dataDir: join(dir, 'data'), policies: [policies], logLevel: 'silent', watch: false, metricsPort: '0' }, { WARDEN_METRICS_TOKEN: TOKEN });
  server = await startServer(config, { logger: pino({ level: 'silent' }) });
  agentToken = (await server.core.identity.createToken(operator(), { name: 'a', role: 'agent', agentId: 'a1' })).token;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('warden serve: metrics port, scrape token, traceparent', () => {
  it('records the traceparent header of a decide call in the decision event, and counts the decision', async () => {
    const res = await fetch(new URL('/api/v1/decide', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json', traceparent: `00-${TRACE}-b7ad6b7169203331-01` },
      body: JSON.stringify({ kind: 'tool.call', scope: 'acme/x', tool: { server: 'git', name: 'git.push' } }),
    });
    expect(res.status).toBe(200);
    const decision = (await res.json()) as { effect: string; auditEventId: string };
    expect(decision.effect).toBe('allow');
    await server.core.flush();
    const event = (await server.core.auditLog.list({ limit: 100 })).events.find((e) => e.id === decision.auditEventId);
    // No exporter configured: the decision keeps the caller's own span (tracing is a no-op), in its trace.
    expect(event?.trace).toEqual({ traceId: TRACE, spanId: 'b7ad6b7169203331' });

    const scrape = await fetch(server.metricsUrl!, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scrape.status).toBe(200);
    const text = await scrape.text();
    expect(text).toMatch(/^warden_decisions_total\{kind="tool\.call",effect="allow"\} 1$/m);
    // Process metrics are on for a long-running server.
    expect(text).toMatch(/^warden_process_resident_memory_bytes \d+/m);
  });

  it('refuses a scrape without the token on the metrics port and on the API port; the API port serves it with the token', async () => {
    expect((await fetch(server.metricsUrl!)).status).toBe(401);
    expect((await fetch(new URL('/metrics', server.url))).status).toBe(401);
    expect((await fetch(new URL('/metrics', server.url), { headers: { authorization: `Bearer ${agentToken}` } })).status).toBe(401);
    const ok = await fetch(new URL('/metrics', server.url), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('warden_checkpoint_stage_seconds_bucket');
  });

  it('answers the probes on the metrics port: ready with the database writable', async () => {
    const base = server.metricsUrl!.replace(/\/metrics$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, { detail?: string }> }).checks.database?.detail).toBe('pglite, writable');
    expect((await fetch(`${base}/api/v1/whoami`)).status).toBe(404);
  });
});
