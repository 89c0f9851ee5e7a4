import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newAuditEvent, type AuditEvent } from '../domain/index.js';
import { canonicalJson } from '../domain/index.js';
import { chainEvents, eventHash, GENESIS_HASH } from './chain.js';
import { merkleRoot, MerkleBuilder } from './merkle.js';
import { sanitizeForLog } from './sanitize.js';
import { checkCheckpointSignature, signCheckpoint } from './signing.js';
import { verifyChain } from './verify.js';

const T = new Date('2026-11-24T12:00:00Z');
function events(n: number): AuditEvent[] {
  return Array.from({ length: n }, (_, i) =>
    newAuditEvent({ scope: 'acme/x', category: 'decision', type: 'tool.call.decided', outcome: 'success', actor: { type: 'agent', id: `a${i}` }, latencyMs: i + 0.5 }, new Date(T.getTime() + i)),
  );
}
function chain(n: number): AuditEvent[] {
  return chainEvents({ seq: 0, hash: GENESIS_HASH, loggedAt: undefined }, events(n), T).events;
}

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys and prints numbers in ES form', () => {
    expect(canonicalJson({ b: 1, a: [1e21, 0.1 + 0.2, -0], c: 'é' })).toBe('{"a":[1e+21,0.30000000000000004,0],"b":1,"c":"é"}');
  });
});

describe('chain', () => {
  it('numbers, links and hashes a batch onto a head', () => {
    const first = chainEvents({ seq: 0, hash: GENESIS_HASH, loggedAt: undefined }, events(3), T);
    expect(first.events.map((e) => e.integrity!.seq)).toEqual([1, 2, 3]);
    expect(first.events[0]!.integrity!.prevHash).toBe(GENESIS_HASH);
    expect(first.events[1]!.integrity!.prevHash).toBe(first.events[0]!.integrity!.hash);
    for (const e of first.events) expect(eventHash(e)).toBe(e.integrity!.hash);
    const second = chainEvents(first.head, events(1), new Date(T.getTime() - 5000));
    expect(second.events[0]!.integrity).toMatchObject({ seq: 4, prevHash: first.head.hash });
    // Log time never runs backwards along the chain, even when the clock does.
    expect(second.events[0]!.loggedAt).toBe(T.toISOString());
  });

  it('hashes independently of key order', () => {
    const [e] = chain(1);
    const reordered = Object.fromEntries(Object.entries(e!).reverse()) as AuditEvent;
    expect(eventHash(reordered)).toBe(e!.integrity!.hash);
  });
});

describe('merkle', () => {
  it('matches the recursive RFC 6962 definition for every size up to 33', () => {
    const leaves = chain(33).map((e) => e.integrity!.hash);
    const h = (...b: Buffer[]) => b.reduce((x, y) => x.update(y), createHash('sha256')).digest();
    const mth = (xs: string[]): Buffer => {
      if (xs.length === 1) return h(Buffer.from([0]), Buffer.from(xs[0]!.slice(7), 'hex'));
      let k = 1;
      while (k * 2 < xs.length) k *= 2;
      return h(Buffer.from([1]), mth(xs.slice(0, k)), mth(xs.slice(k)));
    };
    for (let n = 1; n <= 33; n++) expect(merkleRoot(leaves.slice(0, n))).toBe(`sha256:${mth(leaves.slice(0, n)).toString('hex')}`);
    expect(new MerkleBuilder().root()).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('sanitize', () => {
  it('replaces NUL and lone surrogates so jsonb accepts the event', () => {
    expect(sanitizeForLog({ 'k\u0000': ['a\u0000b', '\ud800x'], n: 1 })).toEqual({ 'k\uFFFD': ['a\uFFFDb', '\uFFFDx'], n: 1 });
  });
});

describe('verify', () => {
  const ok = chain(10);
  const run = (evs: AuditEvent[], extra = {}) => verifyChain(evs, { head: { seq: 10, hash: ok[9]!.integrity!.hash, loggedAt: undefined }, ...extra });

  it('accepts an untouched chain', async () => {
    expect(await run(ok)).toMatchObject({ ok: true, events: 10, lastSeq: 10, firstBadSeq: undefined });
  });

  it('names a changed event', async () => {
    const evs = ok.map((e) => ({ ...e }));
    evs[4] = { ...evs[4]!, scope: 'acme/other' };
    const r = await run(evs);
    expect(r).toMatchObject({ ok: false, firstBadSeq: 5 });
    expect(r.findings[0]).toMatchObject({ kind: 'changed', seq: 5 });
  });

  it('names a deleted event, a truncated tail and an inserted duplicate', async () => {
    expect((await run([...ok.slice(0, 3), ...ok.slice(4)])).findings[0]).toMatchObject({ kind: 'deleted', seq: 4 });
    expect((await run(ok.slice(0, 8))).findings[0]).toMatchObject({ kind: 'truncated', seq: 9 });
    const forged = { ...ok[5]!, id: '01a20eea-0000-7000-8000-000000000000' };
    expect((await run([...ok.slice(0, 6), forged, ...ok.slice(6)])).findings[0]).toMatchObject({ kind: 'inserted', seq: 6 });
  });

  it('names a reordered pair', async () => {
    const evs = [...ok];
    [evs[6], evs[7]] = [evs[7]!, evs[6]!];
    const r = await run(evs);
    expect(r.firstBadSeq).toBe(7);
    expect(r.findings.map((f) => f.kind)).toContain('reordered');
    expect(r.findings.map((f) => f.kind)).not.toContain('deleted');
  });

  it('catches a forged event whose own hash was recomputed, through the next link', async () => {
    const evs = [...ok];
    const { integrity, ...rest } = evs[3]!;
    const forged = { ...rest, scope: 'acme/forged', integrity: { ...integrity!, hash: '' } } as AuditEvent;
    forged.integrity!.hash = eventHash(forged);
    evs[3] = forged;
    expect((await run(evs)).findings[0]).toMatchObject({ kind: 'changed', seq: 4 });
  });

  it('catches a re-chained log against a signed checkpoint, and a bad signature', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const cp = signCheckpoint({ tenantId: 'default', fromSeq: 1, toSeq: 10, root: merkleRoot(ok.map((e) => e.integrity!.hash)), lastHash: ok[9]!.integrity!.hash, createdAt: T.toISOString() }, privateKey);
    expect(checkCheckpointSignature(cp)).toBeUndefined();
    expect((await run(ok, { checkpoints: [cp] })).ok).toBe(true);
    // An attacker rewrites event 3 and re-chains everything after it: links and hashes all agree.
    const evs = ok.map((e) => ({ ...e }));
    evs[2] = { ...evs[2]!, scope: 'acme/forged' };
    const rechained = chainEvents({ seq: 2, hash: ok[1]!.integrity!.hash, loggedAt: undefined }, evs.slice(2).map(({ integrity: _i, loggedAt: _l, ...e }) => e as AuditEvent), T).events;
    const forgedLog = [...ok.slice(0, 2), ...rechained];
    const r = await verifyChain(forgedLog, { checkpoints: [cp] });
    expect(r.ok).toBe(false);
    expect(r.findings.every((f) => f.kind === 'checkpoint')).toBe(true);
    expect(checkCheckpointSignature({ ...cp, toSeq: 9 })).toMatch(/signature that does not match/);
    const other = generateKeyPairSync('ed25519');
    expect(checkCheckpointSignature(cp, new Map([['nope', other.publicKey]]))).toMatch(/not trusted/);
  });

  it('accepts a gap that a sealed range accounts for', async () => {
    const evs = [...ok.slice(0, 2), ...ok.slice(5)];
    const sealed = [{ fromSeq: 3, toSeq: 5, prevHash: ok[1]!.integrity!.hash, lastHash: ok[4]!.integrity!.hash }];
    expect((await run(evs, { sealed })).ok).toBe(true);
  });
});
