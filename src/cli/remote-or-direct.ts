import type { Core } from '../main/core.js';
import { CliError, EXIT, type CliIo } from './io.js';
import { RemoteError, remoteOf, type Remote } from './remote.js';
import { withCore, type StoreFlags } from './with-core.js';

/** The flags of a command that runs through a server or on the database: the database's, and the tenant there. */
export type DirectFlags = StoreFlags & { tenant?: string | undefined; policies?: readonly string[] | undefined };

/** The tenant a direct command works in when `--tenant` is not given. */
export const DEFAULT_TENANT = 'default';

/** Refuses the database's own flags when a server is named: through it, the token names the tenant and the server its database. */
function checkRemoteFlags(flags: DirectFlags): void {
  const given = [flags.tenant !== undefined && '--tenant', flags.policies !== undefined && '--policies', flags.dataDir !== undefined && '--data-dir', flags.databaseUrl !== undefined && '--database-url'].filter((f): f is string => f !== false);
  if (given.length > 0) {
    throw new CliError(`${given.map((f) => `\`${f}\``).join(', ')} ${given.length > 1 ? 'apply' : 'applies'} to the database directly; WARDEN_URL is set, so the server's database and your token's tenant are used (unset WARDEN_URL to work on a database)`, EXIT.usage);
  }
}

/**
 * Runs a command through `WARDEN_URL` when it is set (as the token, in its tenant), else straight on
 * the database as the local operator. Both sides return the same value, so the command prints the
 * same output either way.
 */
export async function remoteOrDirect<T>(io: CliIo, flags: DirectFlags, remote: (r: Remote) => Promise<T>, direct: (core: Core) => Promise<T>): Promise<T> {
  const r = await remoteOf(io);
  if (r) {
    checkRemoteFlags(flags);
    return remote(r);
  }
  return withCore(io, flags, direct);
}

/** Refuses an option that needs the database when `WARDEN_URL` is set. */
export function directOnly(io: CliIo, what: string, why: string): void {
  if (io.env.WARDEN_URL !== undefined && io.env.WARDEN_URL !== '') throw new CliError(`${what} works on the database directly (${why}); unset WARDEN_URL and give --data-dir or --database-url`, EXIT.usage);
}

/** A GET that answers undefined for a 404, as a lookup on the database answers undefined for a missing row. */
export async function getOrUndefined<T>(r: Remote, path: string): Promise<T | undefined> {
  try {
    return await r.request<T>('GET', path);
  } catch (err) {
    if (err instanceof RemoteError && err.status === 404) return undefined;
    throw err;
  }
}

/** One path segment: a server, tool or agent name as the API's routes take it. */
export const seg = (s: string): string => encodeURIComponent(s);
