import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { COPY_FIELDS, copyStatement, CopyTuples, Packer, type ReaderData, type ReaderMessage } from './audit-chain-copy.js';

/**
 * The reading half of `warden audit verify` on PostgreSQL, in a worker thread: the COPY, its
 * tuples, the column check against each body, the body's hash and the Merkle leaf run here while
 * the main thread links the batches before. Messages out: `{ batch }`, then `{ end: true }` or `{ error }`; in: `ack`
 * once a batch is taken, so at most IN_FLIGHT batches wait (memory stays bounded).
 */
const IN_FLIGHT = 4;
const port = parentPort!;
const { connection, tenantId } = workerData as ReaderData;

async function run(): Promise<void> {
  const client = new pg.Client(connection);
  // A lost connection is reported by the COPY stream; without a listener it would end the thread.
  client.on('error', () => {});
  await client.connect();
  const stream = client.query(copyTo(copyStatement(tenantId, (v) => client.escapeLiteral(v))));
  const tuples = new CopyTuples(COPY_FIELDS);
  let waiting = 0;
  const packer = new Packer(tenantId, (batch) => {
    waiting++;
    port.postMessage({ batch } satisfies ReaderMessage, [batch.bytes.buffer as ArrayBuffer, batch.index.buffer as ArrayBuffer, batch.seqs.buffer as ArrayBuffer]);
    if (waiting >= IN_FLIGHT) stream.pause();
  });
  port.on('message', () => {
    waiting--;
    if (waiting < IN_FLIGHT) stream.resume();
  });
  const add = packer.add.bind(packer);
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      try {
        tuples.push(chunk, add);
      } catch (e) {
        stream.destroy();
        reject(e instanceof Error ? e : new TypeError(String(e)));
      }
    });
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  if (!tuples.ended) throw new TypeError("the database's COPY of the audit log ended before its trailer");
  packer.flush();
  port.postMessage({ end: true } satisfies ReaderMessage);
  await client.end();
}

run().then(
  () => port.close(),
  (e: unknown) => {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) } satisfies ReaderMessage);
    port.close();
  },
);
