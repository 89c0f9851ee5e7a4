// What one durable audit append costs on the embedded database (PGlite) and in memory: an empty
// transaction, a one-row update, and `appendChained` of one event (the decision before each call).
// Run: npx tsx bench/gateway/commit-cost.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { chainEvents } from '../../src/audit/chain.js';
import { newAuditEvent } from '../../src/domain/index.js';
import { createAuditRepo, migrate, openDatabase } from '../../src/store/index.js';
const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!.toFixed(3);
for (const where of ['dataDir', 'memory'] as const) {
const database = await openDatabase(where === 'memory' ? { memory: true } : { dataDir: join(mkdtempSync(join(tmpdir(), 'c-')), 'data') });
await migrate(database.db);
const repo = createAuditRepo(database);
const ev = () => newAuditEvent({ scope: 'acme/bench', category: 'decision', type: 'tool.call.decided', outcome: 'success', actor: { type: 'agent', id: 'a' }, target: { kind: 'tool', server: 'everything', name: 'everything.echo' }, action: { kind: 'tool.call' } });
const parts: Record<string, number[]> = { emptyTx: [], updateTx: [], insertTx: [], full: [] };
for (let i = 0; i < 400; i++) {
  let s = performance.now(); await database.db.transaction().execute(async (trx) => { await sql`SELECT 1`.execute(trx); }); parts.emptyTx!.push(performance.now() - s);
  s = performance.now(); await database.db.transaction().execute(async (trx) => { await sql`UPDATE audit_chain_heads SET seq = seq WHERE tenant_id = 'zz'`.execute(trx); }); parts.updateTx!.push(performance.now() - s);
  s = performance.now(); await repo.appendChained('default', (h) => chainEvents(h, [ev()], new Date())); parts.full!.push(performance.now() - s);
}
console.log(where, Object.entries(parts).filter(([, v]) => v.length).map(([k, v]) => `${k} ${med(v.slice(50))}`).join('  '));
await database.close();
}
