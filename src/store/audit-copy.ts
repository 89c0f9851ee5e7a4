import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ChainedBatch, ChainHead } from '../audit/chain.js';

/**
 * A chained append on PostgreSQL by `COPY … FROM STDIN`: the server parses tab-separated text
 * instead of planning an INSERT over array parameters. Three round trips per commit: BEGIN with
 * the head lock, the COPY, and the head's move with COMMIT.
 */
export interface CopyAppend {
  /** The columns `row` fills, in its order, after `tenant_id`; the body is the last one. */
  columns: readonly string[];
  /** Called under the head lock, before any row is sent: creates missing partitions for these times. */
  beforeCopy(events: ChainedBatch['events']): Promise<void>;
  /** One event's column values after `tenant_id`; throws when the event cannot be stored. */
  row(event: ChainedBatch['events'][number], body: string): (string | null)[];
}

/** The chain head as `HEAD_LOCK` returns it. */
export interface HeadRow {
  seq: string | number;
  hash: string;
  logged_at: string | null;
}

/**
 * Creates a tenant's chain head if missing and takes its row lock (DO UPDATE locks the row), in
 * one statement: `$1` the tenant, `$2` the genesis hash. Both append paths start with it.
 */
export const HEAD_LOCK = `INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES ($1, 0, $2)
  ON CONFLICT (tenant_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id
  RETURNING seq, hash, to_char(logged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS logged_at`;

// COPY's text format: backslash, tab, newline and carriage return are escaped; NULL is \N.
const SPECIAL = /[\\\t\n\r]/;
function field(v: string | null): string {
  if (v === null) return '\\N';
  if (!SPECIAL.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

// Rows per chunk written to the COPY stream: large writes, few callbacks.
const CHUNK_ROWS = 256;

/** Runs one chained append in its own transaction on a pooled connection; resolves after COMMIT. */
export async function appendByCopy(
  pool: pg.Pool,
  tenantId: string,
  genesis: string,
  build: (head: ChainHead) => ChainedBatch,
  spec: CopyAppend,
): Promise<void> {
  const client = await pool.connect();
  // Set when ROLLBACK itself failed: the connection's state is unknown and it is not pooled again.
  let broken: Error | undefined;
  try {
    const lit = (v: string | null) => (v === null ? 'NULL' : client.escapeLiteral(v));
    // BEGIN and the head lock in one round trip (the simple protocol takes both statements).
    // One pass over the template: a second replace would find a `$2` inside the tenant's literal.
    const lock = HEAD_LOCK.replace(/\$([12])/g, (_, n: string) => (n === '1' ? lit(tenantId) : lit(genesis)));
    try {
      const results = (await client.query(`BEGIN; ${lock}`)) as unknown as pg.QueryResult<HeadRow>[];
      const r = results[1]!.rows[0]!;
      const { events, bodies, head } = build({ seq: Number(r.seq), hash: r.hash, loggedAt: r.logged_at ?? undefined });
      if (events.length === 0) {
        await client.query('COMMIT');
        return;
      }
      await spec.beforeCopy(events);
      // Rows are printed a chunk at a time while the server parses the chunks before: the
      // database and this process work side by side. A bad event aborts the COPY, and with it
      // the transaction.
      const tenant = field(tenantId);
      await new Promise<void>((resolve, reject) => {
        const stream = client.query(copyFrom(`COPY audit_events (tenant_id, ${spec.columns.join(', ')}) FROM STDIN`));
        stream.on('error', reject);
        stream.on('finish', () => resolve());
        let at = 0;
        const write = (): void => {
          try {
            while (at < events.length) {
              const end = Math.min(at + CHUNK_ROWS, events.length);
              let chunk = '';
              for (; at < end; at++) {
                const values = spec.row(events[at]!, bodies[at]!);
                let line = tenant;
                for (const v of values) line += `\t${field(v)}`;
                chunk += `${line}\n`;
              }
              if (!stream.write(chunk)) {
                stream.once('drain', write);
                return;
              }
            }
            stream.end();
          } catch (e) {
            stream.destroy(e instanceof Error ? e : new Error(String(e)));
          }
        };
        write();
      });
      await client.query(
        `UPDATE audit_chain_heads SET seq = ${Number(head.seq)}, hash = ${lit(head.hash)}, logged_at = ${lit(head.loggedAt ?? null)}::timestamptz WHERE tenant_id = ${lit(tenantId)}; COMMIT`,
      );
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw err;
    }
  } finally {
    client.release(broken);
  }
}
