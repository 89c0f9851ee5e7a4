import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isWardenError } from '../../domain/index.js';

/** Whether the client asked for JSON lines (`Accept: application/x-ndjson`). */
export const wantsNdjson = (req: FastifyRequest): boolean => (req.headers.accept ?? '').includes('application/x-ndjson');

/**
 * Answers a long run as JSON lines: `{"progress":{"read","total"}}` at most every 250 ms, then
 * `{"report"}`, or `{"error":{"code","message"}}` when it fails after the answer began. A client (the
 * CLI's bar) and any proxy see the connection alive over long ranges.
 */
export function sendProgress<T>(req: FastifyRequest, reply: FastifyReply, run: (onProgress: (read: number, total: number) => void) => Promise<T>): FastifyReply {
  const out = new PassThrough();
  let last = 0;
  run((read, total) => {
    const t = Date.now();
    if (t - last < 250) return;
    last = t;
    out.write(`${JSON.stringify({ progress: { read, total } })}\n`);
  })
    .then((report) => out.end(`${JSON.stringify({ report })}\n`))
    .catch((err: unknown) => {
      // As the error handler would answer: a coded error says what it is, anything else leaks nothing.
      if (!isWardenError(err)) req.log.error({ err }, 'replay failed');
      out.end(`${JSON.stringify({ error: isWardenError(err) ? { code: err.code, message: err.message } : { code: 'internal', message: 'the replay failed; the server log has the details' } })}\n`);
    });
  return reply.type('application/x-ndjson').send(out);
}
