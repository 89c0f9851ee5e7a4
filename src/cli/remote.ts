import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT, printableLines, type CliIo } from './io.js';

/** Largest answer the CLI reads (a page of 1 000 events with captured bodies fits well within it). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** A running Warden server the CLI talks to instead of the database (`WARDEN_URL`). */
export interface Remote {
  url: string;
  /** A JSON request; `opts.raw` sends a text body of its own type instead (YAML), `opts.headers` adds headers (`If-Match`). */
  request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, opts?: RequestOptions): Promise<T>;
  /** A POST whose answer is JSON lines (`application/x-ndjson`), each handed to `onLine` as it arrives. */
  lines(path: string, body: unknown, onLine: (value: unknown) => void): Promise<void>;
}

/** What a request sends besides a JSON body. */
export interface RequestOptions {
  raw?: { body: string; contentType: string };
  headers?: Record<string, string>;
}

/** A server's error answer: the command failed there, with the API's status and error code. */
export class RemoteError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message, status >= 500 ? EXIT.runtime : EXIT.usage);
    this.name = 'RemoteError';
  }
}

/** Where `warden login` keeps tokens, per server URL: the user's config directory, mode 0600. */
export function credentialsFile(env: Readonly<Record<string, string | undefined>>): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'warden', 'credentials.json');
}

type Stored = { servers: Record<string, { token: string }> };

async function readStored(file: string): Promise<Stored> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<Stored>;
    return { servers: typeof parsed.servers === 'object' && parsed.servers !== null ? parsed.servers : {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
}

/** The URL without a trailing slash: one key per server. */
export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`\`${url}\` is not a URL; WARDEN_URL looks like http://127.0.0.1:8080`, EXIT.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CliError(`\`${url}\` is not an http(s) URL`, EXIT.usage);
  return parsed.origin + parsed.pathname.replace(/\/+$/, '');
}

/** Saves a token for a server, replacing the file by rename so a crash never leaves half of it. */
export async function storeToken(env: Readonly<Record<string, string | undefined>>, url: string, token: string | undefined): Promise<string> {
  const file = credentialsFile(env);
  const stored = await readStored(file);
  if (token === undefined) delete stored.servers[url];
  else stored.servers[url] = { token };
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/** The token for `url`: `WARDEN_TOKEN`, else the one `warden login` stored. */
async function tokenFor(env: Readonly<Record<string, string | undefined>>, url: string): Promise<string | undefined> {
  if (env.WARDEN_TOKEN && env.WARDEN_TOKEN !== '') return env.WARDEN_TOKEN;
  return (await readStored(credentialsFile(env))).servers[url]?.token;
}

/** A client for `url` with `token`. */
/** `fetch`, with a network failure said as the CLI says it: the server named, the likely cause. */
async function reach(url: string, path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${url}${path}`, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new CliError(`cannot reach Warden at ${url} (${cause}); is \`warden serve\` running there?`, EXIT.runtime);
  }
}

export function remoteClient(url: string, token: string | undefined): Remote {
  return {
    url,
    async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
      const type: Record<string, string> = opts.raw ? { 'content-type': opts.raw.contentType } : body !== undefined ? { 'content-type': 'application/json' } : {};
      const sent = opts.raw ? { body: opts.raw.body } : body !== undefined ? { body: JSON.stringify(body) } : {};
      const res = await reach(url, path, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...type, ...(opts.headers ?? {}), accept: 'application/json' },
        ...sent,
        signal: AbortSignal.timeout(30_000),
      });
      // A body larger than any answer of the API is not read whole: a hostile server cannot exhaust memory.
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > MAX_ANSWER_BYTES) throw new CliError(`${url}${path} answered with ${declared} bytes, more than any answer of the API`, EXIT.runtime);
      const text = await res.text();
      if (text.length > MAX_ANSWER_BYTES) throw new CliError(`${url}${path} answered with more than ${MAX_ANSWER_BYTES} bytes`, EXIT.runtime);
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        throw new CliError(`${url}${path} answered ${res.status} with a body that is not JSON`, EXIT.runtime);
      }
      if (!res.ok) {
        const e = (parsed as { error?: { code?: string; message?: string; help?: string } } | undefined)?.error;
        const help = e?.help ? `\n  help: ${e.help}` : '';
        const hint = res.status === 401 && !token ? '\n  help: set WARDEN_TOKEN or run `warden login`' : '';
        // The server's words, made printable: a hostile server must not drive the terminal.
        throw new RemoteError(res.status, e?.code, printableLines(`[${e?.code ?? res.status}] ${e?.message ?? `${method} ${path} answered ${res.status}`}${help}${hint}`));
      }
      return parsed as T;
    },

    async lines(path, body, onLine) {
      const res = await reach(url, path, {
        method: 'POST',
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json', accept: 'application/x-ndjson' },
        body: JSON.stringify(body),
      });
      if (!res.ok || !res.body) {
        const text = (await res.text()).slice(0, 4096);
        let e: { code?: string; message?: string } | undefined;
        try {
          e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        } catch {
          e = undefined;
        }
        throw new RemoteError(res.status, e?.code, printableLines(`[${e?.code ?? res.status}] ${e?.message ?? `POST ${path} answered ${res.status}`}`));
      }
      const decoder = new TextDecoder();
      let buffered = '';
      let total = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > MAX_ANSWER_BYTES) throw new CliError(`${url}${path} answered with more than ${MAX_ANSWER_BYTES} bytes`, EXIT.runtime);
        buffered += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() === '') continue;
          try {
            onLine(JSON.parse(line));
          } catch (err) {
            if (err instanceof CliError) throw err;
            throw new CliError(`${url}${path} answered a line that is not JSON`, EXIT.runtime);
          }
        }
      }
    },
  };
}

/**
 * The server the CLI should talk to: `WARDEN_URL` with `WARDEN_TOKEN` (or the token `warden login`
 * stored for it); undefined when `WARDEN_URL` is not set, and commands use the database directly.
 */
export async function remoteOf(io: CliIo): Promise<Remote | undefined> {
  const raw = io.env.WARDEN_URL;
  if (raw === undefined || raw === '') return undefined;
  const url = normalizeUrl(raw);
  return remoteClient(url, await tokenFor(io.env, url));
}
