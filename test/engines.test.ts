import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
// semver is in the tree (a runtime dependency of several packages); it ships no types of its own.
const semver = createRequire(import.meta.url)('semver') as { minVersion(range: string): { version: string } | null; satisfies(version: string, range: string): boolean };

interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  engines?: { node?: string } | string[];
}

/**
 * Runtime packages whose `engines` ask for Node 22 although Warden runs them on Node 20: each is
 * exercised on Node 20.20 by the suite (CI's Node), and only declares 22 as what its authors test.
 * npm prints an EBADENGINE warning for each on Node 20; it does not stop the install.
 */
const DECLARED_22_RUN_ON_20: Readonly<Record<string, string>> = {
  'node_modules/@nats-io/nuid': 'id generator of the NATS client (audit streams to JetStream; test/audit-streams.test.ts)',
  'node_modules/cookie': "light-my-request's cookie parser (Fastify's inject, used by every API test)",
  'node_modules/@fastify/static/node_modules/content-disposition': "mercurius's static files (GraphiQL), not served by Warden",
};

describe('package.json engines match the runtime dependencies', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const runtime = Object.entries(lock.packages).filter(([path, e]) => path !== '' && !e.dev && !e.devOptional);
  const nodeRange = (e: LockEntry) => (Array.isArray(e.engines) ? undefined : e.engines?.node);

  it('the lowest Node the package admits satisfies every runtime package (save the listed ones)', () => {
    const lowest = semver.minVersion(pkg.engines.node)!.version;
    const refused = runtime.filter(([path, e]) => nodeRange(e) !== undefined && !semver.satisfies(lowest, nodeRange(e)!) && !(path in DECLARED_22_RUN_ON_20));
    expect(refused.map(([path, e]) => `${path}@${e.version ?? '?'} needs ${nodeRange(e)!}`)).toEqual([]);
  });

  it('is no lower than it must be: some runtime package needs at least the lowest Node admitted', () => {
    const lowest = semver.minVersion(pkg.engines.node)!.version;
    const floors = runtime.map(([, e]) => nodeRange(e)).filter((r): r is string => r !== undefined).map((r) => semver.minVersion(r)?.version ?? '0.0.0');
    expect(floors).toContain(lowest);
  });

  it('lists only exceptions that are still in the tree and still ask for more', () => {
    const lowest = semver.minVersion(pkg.engines.node)!.version;
    for (const path of Object.keys(DECLARED_22_RUN_ON_20)) {
      const e = lock.packages[path];
      expect(e, path).toBeDefined();
      expect(semver.satisfies(lowest, nodeRange(e!)!), path).toBe(false);
    }
  });
});
