import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../audit/verify.js';
import { CopyTuples, unpack, workerBatches } from './audit-chain-copy.js';

/** A binary COPY stream of rows of text (or NULL) fields, as PostgreSQL sends it. */
function copyStream(rows: (string | null)[][]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])];
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const v of row) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(v === null ? -1 : Buffer.byteLength(v));
      parts.push(len);
      if (v !== null) parts.push(Buffer.from(v));
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

function read(stream: Buffer, cut: (i: number) => number, fields: number): { rows: (string | null)[][]; ended: boolean } {
  const tuples = new CopyTuples(fields);
  const rows: (string | null)[][] = [];
  for (let i = 0, n = 0; i < stream.length; n++) {
    const end = Math.min(stream.length, i + cut(n));
    // A copy, as a socket hands over fresh memory: nothing may point into an earlier chunk by accident.
    tuples.push(Buffer.from(stream.subarray(i, end)), (buf, at) => {
      rows.push(Array.from({ length: fields }, (_, f) => (at[2 * f + 1]! < 0 ? null : buf.toString('utf8', at[2 * f]!, at[2 * f]! + at[2 * f + 1]!))));
    });
    i = end;
  }
  return { rows, ended: tuples.ended };
}

describe('CopyTuples', () => {
  const rows = Array.from({ length: 40 }, (_, r) => [String(r), r % 5 === 0 ? null : 'x'.repeat(r * 97), '', `é${r}🙂`]);
  const stream = copyStream(rows);

  it('reads every tuple whatever the chunks are cut at, a tuple straddling any number of them', () => {
    for (const size of [1, 2, 3, 7, 19, 20, 100, 4095, 4096, 5000, stream.length]) {
      expect(read(stream, () => size, 4), `chunks of ${size}`).toEqual({ rows, ended: true });
    }
    let seed = 1;
    const random = () => (seed = (seed * 48271) % 2147483647) % 9000;
    expect(read(stream, () => 1 + random(), 4)).toEqual({ rows, ended: true });
  });

  it('says when the trailer never came, and refuses a stream it cannot read', () => {
    expect(read(stream.subarray(0, stream.length - 2), () => 100, 4).ended).toBe(false);
    expect(() => read(stream, () => 100, 3)).toThrow(/a row has 4 columns, not 3/);
    expect(() => read(Buffer.concat([stream, Buffer.from([0])]), () => 100, 4)).toThrow(/data follows its end/);
    expect(() => read(Buffer.from('not a copy stream at all'), () => 100, 4)).toThrow(/does not start as binary COPY does/);
  });
});

describe('workerBatches', () => {
  // A reader thread that dies is a failed read with a code, never a short chain that verifies.
  const entries = async function* (worker: string) {
    for await (const packed of workerBatches({}, 'default', () => new Worker(worker, { eval: true }))) {
      yield unpack(packed, 'default', () => {
        throw new Error('no slow rows here');
      }, []).entries;
    }
  };

  it('fails with store.unavailable when the reader thread throws', async () => {
    await expect(verifyChain(entries(`throw new Error('boom')`))).rejects.toMatchObject({ code: 'store.unavailable', message: expect.stringContaining('boom') });
  });

  it('fails with store.unavailable when the reader thread exits before its end message', async () => {
    await expect(verifyChain(entries(`process.exit(0)`))).rejects.toMatchObject({ code: 'store.unavailable', message: expect.stringContaining('stopped before the end') });
  });

  it('fails with store.unavailable when the reader thread reports an error after a batch', async () => {
    const batch = `{ rows: 0, bytes: new Uint8Array(0), index: new Int32Array(0), seqs: new Float64Array(0), slow: [], suspects: [] }`;
    const worker = `const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ batch: ${batch} }); parentPort.postMessage({ error: 'connection lost' });`;
    await expect(verifyChain(entries(worker))).rejects.toMatchObject({ code: 'store.unavailable', message: expect.stringContaining('connection lost') });
  });
});
