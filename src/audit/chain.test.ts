import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newAuditEvent, type AuditEvent } from '../domain/index.js';
import { canonicalJson } from '../domain/index.js';
import { chainEvents, eventHash, GENESIS_HASH } from './chain.js';
import { leafOfDigest, merkleRoot, MerkleBuilder } from './merkle.js';
import { sanitizeForLog } from './sanitize.js';
import { checkCheckpointSignature, signCheckpoint } from './signing.js';
import { verifyChain, type ChainEntry, type ChainStub, type VerifyOptions } from './verify.js';

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

  it('takes leaves made from the digest (as the reader makes them) and from the text alike, mixed', () => {
    const leaves = chain(70).map((e) => e.integrity!.hash);
    // An odd text (upper-case hex, a short one) is still leafed from the text, as it always was.
    leaves[5] = leaves[5]!.toUpperCase().replace('SHA256', 'sha256');
    leaves[40] = 'sha256:abc';
    const mixed = new MerkleBuilder();
    const slab = new Uint8Array(32 * 4);
    leaves.forEach((x, i) => {
      if (i % 3 === 0 || i === 5 || i === 40) return mixed.add(x);
      leafOfDigest(Buffer.from(x.slice(7), 'hex'), slab, 32 * (i % 4));
      mixed.addLeaf(slab, 32 * (i % 4));
    });
    expect(mixed.size).toBe(70);
    expect(mixed.root()).toBe(merkleRoot(leaves));
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
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'changed', seq: 5 }));
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

  it('reports, and does not throw on, an event whose hash was nulled under a signed checkpoint', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const cp = signCheckpoint({ tenantId: 'default', fromSeq: 1, toSeq: 10, root: merkleRoot(ok.map((e) => e.integrity!.hash)), lastHash: ok[9]!.integrity!.hash, createdAt: T.toISOString() }, privateKey);
    const evs = ok.map((e) => ({ ...e }));
    evs[4] = { ...evs[4]!, integrity: { ...evs[4]!.integrity!, hash: null as unknown as string } };
    const r = await verifyChain(evs, { checkpoints: [cp] });
    expect(r.ok).toBe(false);
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'changed', seq: 5 }));
    expect(r.findings.some((f) => f.kind === 'checkpoint')).toBe(true);
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

describe('verify: first bad row and sealing', () => {
  const ok = chain(10);
  const { privateKey } = generateKeyPairSync('ed25519');
  const sign = (toSeq: number, createdAt: string) =>
    signCheckpoint({ tenantId: 'default', fromSeq: 1, toSeq, root: merkleRoot(ok.slice(0, toSeq).map((e) => e.integrity!.hash)), lastHash: ok[toSeq - 1]!.integrity!.hash, createdAt }, privateKey);

  it('names the deleted row, not the first sequence of the checkpoint that covers it', async () => {
    const r = await verifyChain([...ok.slice(0, 6), ...ok.slice(7)], { checkpoints: [sign(10, T.toISOString())] });
    expect(r.findings.map((f) => f.kind)).toEqual(['checkpoint', 'deleted']);
    expect(r.firstBadSeq).toBe(7);
  });

  it('reports a chain with no checkpoint, and one whose last checkpoint is older than the sealing interval allows', async () => {
    const none = await verifyChain(ok, { seal: { maxAgeMs: 180_000 } });
    expect(none).toMatchObject({ ok: false, firstBadSeq: 1 });
    expect(none.findings[0]).toMatchObject({ kind: 'unsealed', message: expect.stringContaining('no signed checkpoint') });
    // Events 9 and 10 were logged (at T) ten minutes after the checkpoint over 1..8 was signed.
    const old = new Date(T.getTime() - 600_000).toISOString();
    const stale = await verifyChain(ok, { checkpoints: [sign(8, old)], seal: { maxAgeMs: 180_000 } });
    expect(stale.findings).toEqual([expect.objectContaining({ kind: 'unsealed', seq: 9, message: expect.stringContaining('600 s older than event 10') })]);
    expect((await verifyChain(ok, { checkpoints: [sign(8, old)], seal: { maxAgeMs: 900_000 } })).ok).toBe(true);
    // A checkpoint over every event is never stale, and without the option nothing is required.
    expect((await verifyChain(ok, { checkpoints: [sign(10, old)], seal: { maxAgeMs: 0 } })).ok).toBe(true);
    expect((await verifyChain(ok)).ok).toBe(true);
  });
});

describe('retention stubs', () => {
  const DAY = 86_400_000;
  const NOW = T.getTime();
  // Events 1..3 of 100 days ago; then a period of 30 days, a hold on acme/legal, and the removal of 1 and 3.
  const old = [0, 1, 2].map((i) =>
    newAuditEvent({ scope: i === 1 ? 'acme/legal/x' : 'acme/a', category: 'decision', type: 'tool.call.decided', outcome: 'success', actor: { type: 'agent', id: 'a' } }, new Date(NOW - 100 * DAY + i)),
  );
  const admin = (type: string, details: Record<string, unknown>, id?: string) =>
    newAuditEvent({ ...(id ? { id } : {}), scope: '*', category: 'audit_system', type, outcome: 'success', actor: { type: 'user', id: 'alice' }, details }, new Date(NOW));
  const removal = '01a24e0d-9258-7009-9c5a-5f26798c22b9';
  const before = new Date(NOW - 30 * DAY).toISOString();
  const declared = admin('audit.retention.deleted', { tenantId: 'default', category: 'decision', before, removed: 2, held: 1, fromSeq: 1, toSeq: 3, seqs: '1,3', days: 30 }, removal);
  const log = chainEvents(
    { seq: 0, hash: GENESIS_HASH, loggedAt: undefined },
    [...old, admin('audit.retention.updated', { category: 'decision', days: 30 }), admin('audit.hold.created', { id: 'h1', scope: 'acme/legal', from: null, to: null }), declared],
    new Date(NOW),
  ).events;
  const stubOf = (e: AuditEvent, extra: Partial<ChainStub> = {}): ChainStub => ({ stub: true, id: e.id, tenantId: 'default', integrity: e.integrity as ChainStub['integrity'], removedBy: removal, category: e.category, time: e.time, scope: e.scope, ...extra });
  const cp = (entries: readonly AuditEvent[]) => signCheckpoint({ tenantId: 'default', fromSeq: 1, toSeq: 6, root: merkleRoot(entries.map((e) => e.integrity!.hash)), lastHash: entries[5]!.integrity!.hash, createdAt: T.toISOString() }, generateKeyPairSync('ed25519').privateKey);
  const checkpoints = [cp(log)];
  const evidence = log.filter((e) => e.category === 'audit_system');
  const verify = (entries: ChainEntry[], opts: Partial<VerifyOptions> = {}) => verifyChain(entries, { checkpoints, evidence, ...opts });

  it('accepts stubs the chain declares, under the period in force and outside any hold', async () => {
    expect(await verify([stubOf(log[0]!), log[1]!, stubOf(log[2]!), ...log.slice(3)])).toMatchObject({ ok: true, removed: 2 });
  });

  it('names a stub that no sealed declaration, period or hold allows', async () => {
    const bad = async (entries: ChainEntry[], seq: number, message: string | RegExp, opts: Partial<VerifyOptions> = {}) => {
      const r = await verify(entries, opts);
      expect(r.firstBadSeq).toBe(seq);
      expect(r.findings.find((f) => f.seq === seq)?.message).toMatch(message);
    };
    const rest = log.slice(3);
    // The held event 2 replaced by a stub: not among those removed, and under the hold.
    await bad([stubOf(log[0]!), stubOf(log[1]!), stubOf(log[2]!), ...rest], 2, /does not list it/);
    await bad([stubOf(log[0]!), stubOf(log[1]!, { removedBy: undefined }), stubOf(log[2]!), ...rest], 2, /names no retention event/);
    await bad([stubOf(log[0]!, { removedBy: '01a24e0d-0000-7000-8000-000000000000' }), log[1]!, stubOf(log[2]!), ...rest], 1, /no retention event in this chain declares/);
    await bad([stubOf(log[0]!, { category: 'admin' }), log[1]!, stubOf(log[2]!), ...rest], 1, /removed as `admin`/);
    await bad([stubOf(log[0]!, { time: T.toISOString() }), log[1]!, stubOf(log[2]!), ...rest], 1, /before its retention period/);
    await bad([stubOf(log[0]!, { scope: 'acme/legal' }), log[1]!, stubOf(log[2]!), ...rest], 1, /legal hold `h1`/);
    // Unsealed declaration, and evidence that is not the chain's own.
    await bad([stubOf(log[0]!), log[1]!, stubOf(log[2]!), ...rest], 1, /no signed checkpoint covers/, { checkpoints: [] });
    await bad([stubOf(log[0]!), log[1]!, stubOf(log[2]!), ...rest], 1, /names no retention event|no retention event in this chain/, { evidence: [] });
  });
});
