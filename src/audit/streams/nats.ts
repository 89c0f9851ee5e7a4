import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { AuditEvent } from '../../domain/index.js';
import type { Transport } from './destination.js';

/**
 * Publishes each event to JetStream with the event id as message id, so a batch retried after a
 * lost acknowledgement is de-duplicated by the server inside its duplicate window.
 */
export function natsTransport(opts: { servers: string; stream: string; subjectPrefix: string }): Transport {
  let conn: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  const open = () =>
    (conn ??= (async () => {
      const nc = await connect({ servers: opts.servers.split(','), reconnect: true, maxReconnectAttempts: -1 });
      const jsm = await jetstreamManager(nc);
      try {
        await jsm.streams.info(opts.stream);
      } catch {
        await jsm.streams.add({ name: opts.stream, subjects: [`${opts.subjectPrefix}.>`], duplicate_window: 10 * 60 * 1_000_000_000 });
      }
      return { nc, js: jetstream(nc) };
    })().catch((err: unknown) => {
      conn = undefined;
      throw err;
    }));
  return {
    async deliver(_destination, tenantId, events: readonly AuditEvent[]) {
      const { js } = await open();
      // In order, one at a time: JetStream keeps publish order per subject, and a failure stops the batch.
      for (const e of events) {
        await js.publish(`${opts.subjectPrefix}.${tenantId}.${e.category}`, JSON.stringify(e), { msgID: e.id, timeout: 5000 });
      }
    },
    async close() {
      const c = await conn?.catch(() => undefined);
      await c?.nc.close();
    },
  };
}
