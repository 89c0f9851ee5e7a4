import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditWriter, createDispatcher, natsTransport, signWebhook, WEBHOOK_HEADERS, webhookTransport, type DestinationDoc } from '../src/audit/index.js';
import { newAuditEvent, type AuditCategory, type AuditEvent } from '../src/domain/index.js';
import { createAuditRepo, createDeliveryRepo } from '../src/store/index.js';
import { dialects } from './support/databases.js';
import { fakeClock } from './support/fake-clock.js';

const SECRET = 'test-secret';
const all = await dialects();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const ev = (i: number, scope = 'acme/a', category: AuditCategory = 'decision'): AuditEvent =>
  newAuditEvent({ scope, category, type: category === 'decision' ? 'tool.call.decided' : 'registry.tool.blocked', outcome: 'success', actor: { type: 'agent', id: `a${i}` }, details: { i } });

/** A receiver that answers 500 while `failing` says so, checks every signature and records what it got. */
async function receiver(failing: () => boolean) {
  const received: { ids: string[]; seqs: number[]; delivery: string }[] = [];
  let badSignatures = 0;
  let requests = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests++;
      const ts = String(req.headers[WEBHOOK_HEADERS.timestamp]);
      if (req.headers[WEBHOOK_HEADERS.signature] !== signWebhook(SECRET, ts, body)) badSignatures++;
      if (failing()) {
        res.writeHead(500).end();
        return;
      }
      const parsed = JSON.parse(body) as { events: AuditEvent[] };
      received.push({ ids: parsed.events.map((e) => e.id), seqs: parsed.events.map((e) => e.integrity!.seq), delivery: String(req.headers[WEBHOOK_HEADERS.delivery]) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, badSignatures: () => badSignatures, requests: () => requests };
}

function doc(name: string, spec: Partial<DestinationDoc['spec']>): DestinationDoc {
  return { apiVersion: 'warden.dev/v1', kind: 'AuditDestination', metadata: { name }, spec: { batchSize: 7, retry: { maxAttempts: 50, initialBackoffMs: 1, maxBackoffMs: 2 }, ...spec } };
}

for (const dialect of all) {
  describe(`audit streaming on ${dialect.name}`, () => {
    async function setup() {
      const f = await dialect.fresh();
      cleanups.push(f.dispose);
      const repo = createAuditRepo(f.database);
      const writer = createAuditWriter({ store: repo, clock: { now: () => new Date() } });
      return { repo, writer, delivery: createDeliveryRepo(f.database.db) };
    }

    it('delivers everything in order exactly once (after dedupe by id) to a webhook that fails and recovers, across a restart', async () => {
      const { repo, writer, delivery } = await setup();
      let down = true;
      const hook = await receiver(() => down);
      const events = Array.from({ length: 40 }, (_, i) => ev(i, i % 5 === 0 ? 'other/x' : `acme/p${i % 3}`));
      await writer.append(events);
      const dest = doc('siem', { scope: 'acme', webhook: { url: hook.url, secretEnv: 'X' } });
      // Backoff (at most maxBackoffMs = 2 ms) is measured on this clock; each pass moves it past the backoff.
      const clock = fakeClock();
      const make = (owner: string) => createDispatcher({ destinations: [{ doc: dest, transport: webhookTransport({ url: hook.url, secret: SECRET }) }], chain: repo, store: delivery, clock, owner });
      const pass = async (d: { tick(): Promise<void> }) => {
        clock.advance(3);
        await d.tick();
      };

      const first = make('replica-1');
      for (let i = 0; i < 5; i++) await pass(first);
      expect(hook.received).toHaveLength(0);
      const [status] = await delivery.status();
      expect(status).toMatchObject({ destination: 'siem', cursorSeq: 0, attempts: 5, lastError: 'webhook answered 500' });
      await first.stop();

      // The receiver recovers; a new dispatcher (a restart) picks up from the stored cursor.
      down = false;
      await writer.append([ev(100, 'acme/late')]);
      const second = make('replica-2');
      for (let i = 0; i < 20; i++) await pass(second);
      const got = hook.received.flatMap((r) => r.ids);
      const expected = [...events.filter((e) => e.scope.startsWith('acme/')).map((e) => e.id), expect.any(String)];
      expect([...new Set(got)]).toEqual(expected);
      const seqs = hook.received.flatMap((r) => r.seqs);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(hook.badSignatures()).toBe(0);
      expect(Math.max(...hook.received.map((r) => r.ids.length))).toBeLessThanOrEqual(7);
      expect((await delivery.status())[0]).toMatchObject({ cursorSeq: 41, attempts: 0, lastError: undefined, delivered: 33 });
      await second.stop();
    });

    it('dead-letters an event after the last attempt and moves on; replay sends again from a cursor', async () => {
      const { repo, writer, delivery } = await setup();
      const hook = await receiver(() => false);
      await writer.append(Array.from({ length: 5 }, (_, i) => ev(i)));
      let calls = 0;
      const flaky = {
        async deliver(d: string, t: string, events: readonly AuditEvent[]) {
          calls++;
          if (events[0]!.integrity!.seq === 3) throw new Error('receiver rejects event 3');
          return webhookTransport({ url: hook.url, secret: SECRET }).deliver(d, t, events);
        },
        close: async () => {},
      };
      const clock = fakeClock();
      const dispatcher = createDispatcher({ destinations: [{ doc: doc('flaky', { batchSize: 1, retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 1 } }), transport: flaky }], chain: repo, store: delivery, clock, owner: 'r' });
      // Each pass moves the clock past the 1 ms backoff, so every pass is allowed to retry.
      for (let i = 0; i < 15; i++) {
        clock.advance(3);
        await dispatcher.tick();
      }
      expect(hook.received.flatMap((r) => r.seqs)).toEqual([1, 2, 4, 5]);
      expect(await delivery.deadLetters('flaky', 10)).toEqual([expect.objectContaining({ seq: 3, attempts: 3, error: 'receiver rejects event 3' })]);
      expect((await delivery.status())[0]).toMatchObject({ cursorSeq: 5, dead: 1 });
      expect(calls).toBe(7);

      await delivery.replay('flaky', 'default', 4);
      for (let i = 0; i < 3; i++) await dispatcher.tick();
      expect(hook.received.flatMap((r) => r.seqs)).toEqual([1, 2, 4, 5, 4, 5]);
      await dispatcher.stop();
    });

    it('keeps two replicas from sending the same batch at once', async () => {
      const { repo, writer, delivery } = await setup();
      const hook = await receiver(() => false);
      await writer.append(Array.from({ length: 30 }, (_, i) => ev(i)));
      const mk = (owner: string) => createDispatcher({ destinations: [{ doc: doc('dup', {}), transport: webhookTransport({ url: hook.url, secret: SECRET }) }], chain: repo, store: delivery, clock: { now: () => new Date() }, owner });
      const a = mk('a');
      const b = mk('b');
      for (let i = 0; i < 6; i++) await Promise.all([a.tick(), b.tick()]);
      const ids = hook.received.flatMap((r) => r.ids);
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
    });
  });
}

describe('audit streaming to NATS JetStream', () => {
  it('publishes in order with message-id de-duplication', async () => {
    const f = await all[0]!.fresh();
    cleanups.push(f.dispose);
    const repo = createAuditRepo(f.database);
    const delivery = createDeliveryRepo(f.database.db);
    await createAuditWriter({ store: repo, clock: { now: () => new Date() } }).append(Array.from({ length: 12 }, (_, i) => ev(i, 'acme/a', i % 4 ? 'decision' : 'admin')));
    const stream = `WARDEN_TEST_${process.pid}_${Date.now()}`;
    const prefix = `wardentest${process.pid}${Date.now()}`;
    const transport = natsTransport({ servers: '127.0.0.1:4222', stream, subjectPrefix: prefix });
    const dispatcher = createDispatcher({ destinations: [{ doc: doc('nats', { nats: { servers: '127.0.0.1:4222', stream, subjectPrefix: prefix } }), transport }], chain: repo, store: delivery, clock: { now: () => new Date() }, owner: 'n' });
    const nc = await connect({ servers: '127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    try {
      await dispatcher.tick();
      await dispatcher.tick();
      // A lost acknowledgement: the same events published again must not duplicate.
      await delivery.replay('nats', 'default', 1);
      await dispatcher.tick();
      await dispatcher.tick();
      const info = await jsm.streams.info(stream);
      expect(info.state.messages).toBe(12);
      const seqs: number[] = [];
      for (let s = 1; s <= 12; s++) {
        const m = await jsm.streams.getMessage(stream, { seq: s });
        const e = m!.json<AuditEvent>();
        seqs.push(e.integrity!.seq);
        expect(m!.subject).toBe(`${prefix}.default.${e.category}`);
      }
      expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    } finally {
      await dispatcher.stop();
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  });
});
