import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { createCore, createServerApp, type Core } from '../../src/main/index.js';

/** The API as `warden serve` builds it, in process: the routes over one core. */
export interface ApiUnderTest {
  core: Core;
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * `createServerApp` over a core on an in-memory store with one policy file and one configured
 * streaming destination, `siem` (the core's timers never run here, so nothing is delivered).
 */
export async function apiCore(policyYaml: string, opts: { logger?: Logger } = {}): Promise<ApiUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-api-'));
  writeFileSync(join(dir, 'p.yaml'), policyYaml);
  // Beside, not inside, the policy directory: every `*.yaml` in it is read as a policy.
  const destinations = join(mkdtempSync(join(tmpdir(), 'warden-api-dest-')), 'destinations.yaml');
  writeFileSync(destinations, 'apiVersion: warden.dev/v1\nkind: AuditDestination\nmetadata: { name: siem }\nspec: { webhook: { url: "http://127.0.0.1:9/none", secretEnv: SIEM_SECRET } }\n');
  const core = await createCore({ database: { memory: true }, policies: [dir], destinationsFile: destinations }, { logger: pino({ level: 'silent' }), env: { SIEM_SECRET: 'x' } });
  const app = createServerApp(core, opts.logger ? { logger: opts.logger } : {});
  return {
    core,
    app,
    async close() {
      await app.close();
      await core.close();
    },
  };
}
