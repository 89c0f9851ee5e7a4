import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readConfigFile } from '../src/config/index.js';

/**
 * Docker is not available where these tests run, so the Dockerfile and docker-compose.yml are
 * checked as files: what they name must exist, and the image must keep its promises (multi-stage,
 * production dependencies only, a non-root user, a health check on /healthz). `docker compose config`
 * and a real build were not run here.
 */
const ROOT = join(import.meta.dirname, '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ op: l.split(/\s+/)[0]!.toUpperCase(), args: l.slice(l.split(/\s+/)[0]!.length).trim() }));
}

describe('Dockerfile', () => {
  const ins = instructions(dockerfile);
  const stages = ins.reduce<Array<Array<{ op: string; args: string }>>>((acc, i) => (i.op === 'FROM' ? [...acc, [i]] : (acc.at(-1)!.push(i), acc)), []);
  const runtime = stages.at(-1)!;

  it('is multi-stage: a build stage with dev dependencies, a runtime stage on node 20 slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]!.some((i) => i.op === 'RUN' && /npm ci(?!.*--omit=dev)/.test(i.args))).toBe(true);
    expect(stages[0]!.some((i) => i.op === 'RUN' && i.args.includes('npm run build'))).toBe(true);
    expect(runtime[0]!.args).toMatch(/^node:20[.\d]*-slim$/);
  });

  it('gives the runtime stage production dependencies only, and no sources or compiler', () => {
    const copies = runtime.filter((i) => i.op === 'COPY');
    const fromStage = (args: string) => /--from=(\S+)/.exec(args)?.[1];
    const nodeModules = copies.find((c) => c.args.includes('node_modules'))!;
    const depsStage = stages.find((s) => s[0]!.args.endsWith(` AS ${fromStage(nodeModules.args)!}`))!;
    expect(depsStage.some((i) => i.op === 'RUN' && i.args.includes('npm ci --omit=dev'))).toBe(true);
    expect(copies.map((c) => c.args).filter((a) => /(^|\s)(\.\/)?(src|test)(\s|$)/.test(a))).toEqual([]);
  });

  it('copies only what exists in the repository', () => {
    for (const c of ins.filter((i) => i.op === 'COPY' && !i.args.includes('--from='))) {
      const sources = c.args.split(/\s+/).slice(0, -1);
      for (const s of sources) expect(existsSync(join(ROOT, s)), `COPY ${s}`).toBe(true);
    }
  });

  it('runs as a non-root user and checks /healthz', () => {
    const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    const health = runtime.find((i) => i.op === 'HEALTHCHECK')!;
    expect(health.args).toContain('/healthz');
    expect(runtime.find((i) => i.op === 'ENTRYPOINT')!.args).toContain('warden');
  });

  it('keeps node_modules and dist of the host out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', 'dist', '.git']) expect(ignored).toContain(p);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; volumes?: string[]; depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] } }>;
    volumes: Record<string, unknown>;
  };
  const services = compose.services;

  it('runs Warden on PostgreSQL, Redis and NATS, with the demo gateway', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'migrate', 'nats', 'postgres', 'redis', 'warden']);
    for (const name of ['warden', 'gateway', 'migrate']) expect(services[name]!.build, name).toBe('.');
    expect(services.warden!.command).toEqual(['serve']);
    expect(services.gateway!.command).toEqual(['gateway']);
    expect(services.migrate!.command).toEqual(['migrate']);
    expect(services.nats!.command).toContain('-js');
  });

  it('pins every image and gives every long-running service a health check', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.image) expect(s.image, name).toMatch(/:[0-9][\w.-]*$/);
      if (name !== 'migrate') expect(s.healthcheck?.test.length, name).toBeGreaterThan(1);
    }
    expect(services.warden!.healthcheck!.test.join(' ')).toContain('127.0.0.1:8080/healthz');
    expect(services.gateway!.healthcheck!.test.join(' ')).toContain('127.0.0.1:8931/healthz');
  });

  it('waits only on services it has, and on the conditions those can reach', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} → ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(services[dep]!.healthcheck, `${name} → ${dep}`).toBeDefined();
        else expect(condition).toBe('service_completed_successfully');
      }
    }
  });

  it('mounts files that exist and named volumes it declares; its warden.yaml is valid', () => {
    for (const s of Object.values(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(ROOT, source)), source).toBe(true);
        else expect(compose.volumes, source).toHaveProperty(source);
      }
    }
    const file = join(ROOT, 'deploy', 'warden.yaml');
    const spec = readConfigFile(file, readFileSync(file, 'utf8'));
    expect(spec.gateway?.http).toBe(8931);
    expect(services.warden!.environment!.WARDEN_CONFIG).toBe('/etc/warden/warden.yaml');
    expect(services.warden!.environment!.WARDEN_DATABASE_URL).toMatch(/@postgres:5432\//);
  });
});
