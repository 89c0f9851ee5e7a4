import { WardenError } from '../domain/errors.js';

/**
 * A listen error (`EADDRINUSE`, `EACCES`) as one coded sentence naming the port and what to do, for
 * every surface that listens (`warden serve`, `warden gateway --http`); any other error as it is.
 * The port and host come from the error itself when Node sets them, else from `at`.
 */
export function listenErrorOf(err: unknown, at: { port?: number; host?: string } = {}): unknown {
  const e = err as { code?: unknown; port?: unknown; address?: unknown } | null;
  const port = typeof e?.port === 'number' ? e.port : at.port;
  const host = typeof e?.address === 'string' ? e.address : at.host;
  const where = `port ${port ?? '(unknown)'}${host ? ` on \`${host}\`` : ''}`;
  if (e?.code === 'EADDRINUSE') {
    return new WardenError('server.port_unavailable', `${where} is already in use`, { help: 'stop the process that holds it or pass another `--port` (or `--http` for a gateway)', cause: err });
  }
  if (e?.code === 'EACCES' && (err as { syscall?: unknown }).syscall === 'listen') {
    return new WardenError('server.port_unavailable', `this user may not listen on ${where}`, { help: 'use a port above 1023', cause: err });
  }
  return err;
}
