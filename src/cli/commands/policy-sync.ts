import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import { readPolicyFiles } from '../../config/policy-files.js';
import { isWardenError } from '../../domain/index.js';
import type { Credential } from '../../identity/index.js';
import type { Core } from '../../main/core.js';
import { isPolicyName, isSafePolicyPath, policyNameOfFile, type PolicyRecord, type PolicyService, type PolicyVersion } from '../../policies/index.js';
import { CliError, EXIT, printableLines, type CliIo } from '../io.js';
import { jsonText } from '../json-output.js';
import { localCredential } from '../local-actor.js';
import { RemoteError, type Remote } from '../remote.js';
import { DEFAULT_TENANT, remoteOrDirect, seg, type DirectFlags } from '../remote-or-direct.js';
import { withStoreOptions } from '../with-core.js';
import { formatOf, withFormatOption } from './format.js';

/** What push and pull need of managed policies, through a server or on the database. */
interface PolicyClient {
  get(name: string): Promise<{ policy: PolicyRecord; active: PolicyVersion | null } | undefined>;
  version(name: string, n: number): Promise<PolicyVersion>;
  list(): Promise<PolicyRecord[]>;
  put(name: string, source: string, ifMatch: number | null, path: string): Promise<PolicyVersion>;
  submit(name: string, n: number): Promise<PolicyVersion>;
  activate(name: string, n: number, ifMatch: number): Promise<PolicyVersion>;
}

const codeOf = (err: unknown): string | undefined => (err instanceof RemoteError ? err.code : isWardenError(err) ? err.code : undefined);

function remoteClient(r: Remote): PolicyClient {
  const base = (name: string) => `/api/v1/policies/${seg(name)}`;
  return {
    async get(name) {
      try {
        return await r.request('GET', base(name));
      } catch (err) {
        if (err instanceof RemoteError && err.status === 404) return undefined;
        throw err;
      }
    },
    version: (name, n) => r.request('GET', `${base(name)}/versions/${n}`),
    list: async () => (await r.request<{ entities?: PolicyRecord[] }>('GET', '/api/v1/policies')).entities ?? [],
    put: (name, source, ifMatch, path) =>
      r.request('PUT', `${base(name)}?path=${encodeURIComponent(path)}`, undefined, { raw: { body: source, contentType: 'application/yaml' }, headers: ifMatch === null ? { 'if-none-match': '*' } : { 'if-match': `"${ifMatch}"` } }),
    submit: (name, n) => r.request('POST', `${base(name)}/versions/${n}/submit`),
    activate: (name, n, ifMatch) => r.request('POST', `${base(name)}/versions/${n}/activate`, undefined, { headers: { 'if-match': `"${ifMatch}"` } }),
  };
}

function directClient(service: PolicyService, c: Credential): PolicyClient {
  return {
    async get(name) {
      try {
        const got = await service.get(c, name);
        return { policy: got.policy, active: got.active ?? null };
      } catch (err) {
        if (codeOf(err) === 'policy.not_found') return undefined;
        throw err;
      }
    },
    version: (name, n) => service.version(c, name, n),
    list: () => service.list(c),
    put: (name, source, ifMatch, path) => service.put(c, name, source, ifMatch, path),
    submit: (name, n) => service.submit(c, name, n),
    activate: (name, n, ifMatch) => service.activate(c, name, n, ifMatch),
  };
}

function either<T>(io: CliIo, flags: DirectFlags, fn: (client: PolicyClient) => Promise<T>): Promise<T> {
  return remoteOrDirect(io, flags, (r) => fn(remoteClient(r)), (core: Core) => fn(directClient(core.managedPolicies, localCredential(flags.tenant ?? DEFAULT_TENANT))));
}

/** One pushed file's outcome. */
interface Pushed {
  file: string;
  name: string;
  outcome: 'unchanged' | 'created' | 'updated' | 'would-change' | 'active' | 'awaiting-approval' | 'in-review';
  version?: number;
  diff?: string;
  message?: string;
}

type Flags = DirectFlags & { format?: string; json?: boolean; dryRun?: boolean; activate?: boolean };

/** `warden policy push DIR` and `warden policy pull DIR`: the managed policies of a tenant as files (GitOps). */
export function registerPolicySync(policy: Command, io: CliIo, done: (code: number) => void): void {
  const opts = (cmd: Command) => withFormatOption(withStoreOptions(cmd)).option('--tenant <id>', `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}]`);

  opts(
    policy
      .command('push')
      .description('send the policy files of a directory as managed policies: a new draft for each file that changed (name: the file name without .yaml)')
      .argument('<dir>', 'a directory of policy files (*.yaml; *.test.yaml are left out)')
      .option('--dry-run', 'print what would change (a unified diff against the active version) and change nothing')
      .option('--activate', 'submit each new version and activate it where its scopes need no approval; the others wait for a second person'),
  ).action(async (dir: string, o: Flags) => {
    const format = formatOf(o);
    const files = await readPolicyFiles([dir], io.cwd);
    const root = resolve(io.cwd, dir);
    const results = await either(io, o, async (client) => {
      const out: Pushed[] = [];
      for (const src of files.sources) {
        const path = relative(root, resolve(io.cwd, src.file)).split(sep).join('/');
        const name = policyNameOfFile(path);
        if (!isPolicyName(name)) throw new CliError(`\`${path}\`: a managed policy is named after its file, and \`${name}\` is not a name (lowercase letters, digits and \`-\`)`, EXIT.usage);
        const text = await readFile(resolve(io.cwd, src.file), 'utf8');
        const existing = await client.get(name);
        const latest = existing && existing.policy.latestVersion > 0 ? await client.version(name, existing.policy.latestVersion) : undefined;
        const activeText = existing?.active?.source;
        if (o.dryRun) {
          if (activeText === text) out.push({ file: path, name, outcome: 'unchanged' });
          else out.push({ file: path, name, outcome: 'would-change', diff: createTwoFilesPatch(`${name} (active)`, path, activeText ?? '', text) });
          continue;
        }
        let v: PolicyVersion;
        let outcome: Pushed['outcome'];
        if (latest && latest.source === text && latest.path === path && latest.status !== 'superseded' && latest.status !== 'archived') {
          v = latest;
          outcome = latest.status === 'active' ? 'unchanged' : latest.status === 'in_review' ? 'in-review' : 'updated';
          if (latest.status === 'active' || !o.activate) {
            out.push({ file: path, name, outcome, version: v.number });
            continue;
          }
        } else {
          v = await client.put(name, text, existing ? existing.policy.latestVersion : null, path);
          outcome = existing ? 'updated' : 'created';
        }
        if (o.activate) {
          if (v.status === 'draft') v = await client.submit(name, v.number);
          try {
            v = await client.activate(name, v.number, v.number);
            outcome = 'active';
          } catch (err) {
            if (codeOf(err) !== 'policy.approvals_missing') throw err;
            out.push({ file: path, name, outcome: 'awaiting-approval', version: v.number, message: err instanceof Error ? err.message : String(err) });
            continue;
          }
        }
        out.push({ file: path, name, outcome, version: v.number });
      }
      return out;
    });
    if (format === 'json') io.stdout(jsonText({ results }));
    else {
      for (const r of results) {
        io.stdout(`${printableLines(`${r.outcome.padEnd(17)} ${r.name}${r.version !== undefined ? `@${r.version}` : ''}  (${r.file})${r.message ? `: ${r.message}` : ''}`)}\n`);
        if (r.diff) io.stdout(printableLines(r.diff));
      }
    }
    done(EXIT.ok);
  });

  opts(
    policy
      .command('pull')
      .description('write the active managed policies of the tenant to a directory as files, byte for byte as they were pushed')
      .argument('<dir>', 'the directory to write to (created if missing; other files are left alone)'),
  ).action(async (dir: string, o: Flags) => {
    const format = formatOf(o);
    const root = resolve(io.cwd, dir);
    const written = await either(io, o, async (client) => {
      const out: { name: string; version: number; file: string }[] = [];
      for (const p of await client.list()) {
        if (p.source !== 'managed' || p.activeVersion === null) continue;
        const v = await client.version(p.name, p.activeVersion);
        // A path from the server is checked again here: a hostile server must not write outside the directory.
        if (!isSafePolicyPath(v.path)) throw new CliError(`policy \`${p.name}\` names the file \`${v.path.slice(0, 260)}\`, which is not inside the directory; nothing of it was written`, EXIT.runtime);
        const file = join(root, ...v.path.split('/'));
        await mkdir(dirname(file), { recursive: true });
        // By rename: a reader (or a watching `warden serve --policies`) never sees half a file.
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, v.source, 'utf8');
        await rename(tmp, file);
        out.push({ name: p.name, version: v.number, file: v.path });
      }
      return out;
    });
    if (format === 'json') io.stdout(jsonText({ written }));
    else io.stdout(printableLines(written.length === 0 ? 'no active managed policy to pull\n' : written.map((w) => `wrote ${w.file} (${w.name}@${w.version})`).join('\n') + '\n'));
    done(EXIT.ok);
  });
}
