import { describe, expect, it } from 'vitest';
import { createMemoryRegistryRepo } from './memory-repo.js';
import type { RegistryRepo } from './records.js';
import { createRegistry } from './registry-service.js';

const clock = { now: () => new Date('2026-12-01T00:00:00Z') };
const audit = { append: async () => {} };
const ECHO = { name: 'echo', description: 'Echoes', inputSchema: { type: 'object' } };

describe('discovery racing an operator', () => {
  it('never overwrites a block another process writes between its read and its write', async () => {
    const repo = createMemoryRegistryRepo();
    const registry = createRegistry({ repo, audit, clock, cacheMs: 0 });
    await registry.discover({ name: 'srv', scope: 'acme' }, [ECHO]);
    await registry.approve('srv', 'echo');
    // The CLI (another process) blocks the tool and the server right after this gateway read them.
    const operator = createRegistry({ repo, audit, clock, cacheMs: 0 });
    let raced = false;
    const racing: RegistryRepo = {
      ...repo,
      async getTool(server, name) {
        const seen = await repo.getTool(server, name);
        if (!raced) {
          raced = true;
          await operator.block('srv', 'echo', 'incident 42', { type: 'user', id: 'bob' });
          await operator.block('srv', undefined, 'incident 42', { type: 'user', id: 'bob' });
        }
        return seen;
      },
    };
    const gateway = createRegistry({ repo: racing, audit, clock, cacheMs: 0 });
    const report = await gateway.discover({ name: 'srv', scope: 'acme' }, [ECHO]);
    expect(report.status).toEqual({ echo: 'blocked' });
    expect(await repo.getTool('srv', 'echo')).toMatchObject({ status: 'blocked', statusReason: 'incident 42' });
    expect(await repo.getServer('srv')).toMatchObject({ status: 'blocked' });
  });
});
