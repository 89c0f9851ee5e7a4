import type { KeyObject } from 'node:crypto';
import type { AuditEvent } from '../domain/index.js';
import { eventHash, GENESIS_HASH, type ChainHead } from './chain.js';
import { MerkleBuilder } from './merkle.js';
import { checkCheckpointSignature, type SignedCheckpoint } from './signing.js';

/** The kinds of damage verification names. */
export type TamperKind = 'changed' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'checkpoint';

/** One problem found, at the first sequence number it affects. */
export interface TamperFinding {
  kind: TamperKind;
  seq: number;
  message: string;
}

/** A range of the chain removed on purpose (retention), with the links that bridge it. */
export interface SealedRange {
  fromSeq: number;
  toSeq: number;
  /** prevHash of event `fromSeq`, i.e. the hash of `fromSeq - 1`. */
  prevHash: string;
  /** hash of event `toSeq`, which event `toSeq + 1` links to. */
  lastHash: string;
}

/**
 * A removed event's place in the chain (kept by retention): its links and hash, not its content.
 * The verifier checks its links like any event's but cannot recompute its hash.
 */
export interface ChainStub {
  stub: true;
  id: string;
  tenantId: string;
  integrity: { seq: number; prevHash: string; hash: string };
}

/** What the verifier reads: stored events and the stubs of removed ones, in storage order. */
export type ChainEntry = AuditEvent | ChainStub;

function isStub(e: ChainEntry): e is ChainStub {
  return (e as ChainStub).stub === true;
}

/** What verification saw and found. */
export interface VerifyReport {
  ok: boolean;
  events: number;
  /** How many of them were removed by retention (stubs). */
  removed: number;
  lastSeq: number;
  checkpoints: number;
  /** The first bad sequence number, when any. */
  firstBadSeq: number | undefined;
  findings: TamperFinding[];
}

/** Options: what else the verifier knows besides the events. */
export interface VerifyOptions {
  /** The head the log claims; events missing at the tail are caught against it. */
  head?: ChainHead;
  checkpoints?: readonly SignedCheckpoint[];
  /** Keys a checkpoint must be signed with; without, embedded keys are used. */
  trustedKeys?: ReadonlyMap<string, KeyObject>;
  sealed?: readonly SealedRange[];
  /** Stop collecting after this many findings. @default 100 */
  maxFindings?: number;
  onProgress?: (events: number) => void;
}

const WINDOW = 65_536;

/**
 * Verifies one tenant's chain from events in storage order: each event's own hash, its link to
 * its predecessor, sequence continuity (gaps, duplicates, moves), the tail against the head, and
 * every signed checkpoint's Merkle root and last hash. Streams: memory stays bounded.
 */
export async function verifyChain(events: AsyncIterable<ChainEntry> | Iterable<ChainEntry>, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const max = opts.maxFindings ?? 100;
  const findings: TamperFinding[] = [];
  const add = (f: TamperFinding) => {
    if (findings.length < max) findings.push(f);
  };
  const sealed = [...(opts.sealed ?? [])].sort((a, b) => a.fromSeq - b.fromSeq);
  const checkpoints = [...(opts.checkpoints ?? [])].sort((a, b) => a.fromSeq - b.fromSeq);
  for (const cp of checkpoints) {
    const bad = checkCheckpointSignature(cp, opts.trustedKeys);
    if (bad) add({ kind: 'checkpoint', seq: cp.fromSeq, message: bad });
  }

  // Recent hashes by seq, for link checks that survive a moved event; bounded.
  const seen = new Map<number, string>();
  const remember = (seq: number, hash: string) => {
    seen.set(seq, hash);
    if (seen.size > WINDOW) seen.delete(seen.keys().next().value!);
  };
  for (const s of sealed) remember(s.toSeq, s.lastHash);
  remember(0, GENESIS_HASH);
  const gaps: { from: number; to: number }[] = [];
  let maxSeq = 0;
  let count = 0;
  let removed = 0;
  let cpIndex = 0;
  let merkle: MerkleBuilder | undefined;

  const isSealed = (from: number, to: number) => sealed.some((s) => s.fromSeq <= from && s.toSeq >= to);

  for await (const e of events) {
    count++;
    if (isStub(e)) removed++;
    if (count % 10_000 === 0) opts.onProgress?.(count);
    const seq = e.integrity?.seq;
    if (seq === undefined) {
      add({ kind: 'inserted', seq: maxSeq + 1, message: `event \`${e.id}\` has no chain position` });
      continue;
    }
    const claimed = e.integrity!.hash;
    const actual = isStub(e) ? claimed : eventHash(e);
    if (seen.has(seq) && seq !== 0) {
      add({ kind: 'inserted', seq, message: `sequence number ${seq} appears twice (event \`${e.id}\`)` });
      continue;
    }
    if (claimed !== actual) add({ kind: 'changed', seq, message: `event ${seq} (\`${e.id}\`) does not match its hash` });
    if (seq < maxSeq) {
      const gi = gaps.findIndex((g) => g.from <= seq && seq <= g.to);
      add({ kind: 'reordered', seq, message: `event ${seq} is stored after event ${maxSeq}` });
      if (gi !== -1) {
        const g = gaps[gi]!;
        gaps.splice(gi, 1, ...[{ from: g.from, to: seq - 1 }, { from: seq + 1, to: g.to }].filter((x) => x.from <= x.to));
      }
    } else if (seq > maxSeq + 1 && !isSealed(maxSeq + 1, seq - 1)) {
      gaps.push({ from: maxSeq + 1, to: seq - 1 });
    }
    const prev = seen.get(seq - 1);
    if (prev !== undefined && prev !== e.integrity!.prevHash && claimed === actual) {
      add({ kind: 'changed', seq: seq - 1, message: `event ${seq - 1} is not the event that event ${seq} links to` });
    }
    remember(seq, claimed);
    maxSeq = Math.max(maxSeq, seq);

    // Checkpoint ranges are contiguous and in order on an untampered log; feed their Merkle trees.
    while (cpIndex < checkpoints.length && checkpoints[cpIndex]!.toSeq < seq) {
      closeCheckpoint(checkpoints[cpIndex]!, merkle, add);
      merkle = undefined;
      cpIndex++;
    }
    const cp = checkpoints[cpIndex];
    if (cp && seq >= cp.fromSeq && seq <= cp.toSeq) {
      merkle ??= new MerkleBuilder();
      merkle.add(claimed);
      if (seq === cp.toSeq) {
        if (cp.lastHash !== claimed) add({ kind: 'checkpoint', seq, message: `event ${seq} differs from the one checkpoint ${cp.fromSeq}..${cp.toSeq} signed` });
        closeCheckpoint(cp, merkle, add);
        merkle = undefined;
        cpIndex++;
      }
    }
  }
  for (; cpIndex < checkpoints.length; cpIndex++) {
    closeCheckpoint(checkpoints[cpIndex]!, merkle, add);
    merkle = undefined;
  }
  for (const g of gaps) add({ kind: 'deleted', seq: g.from, message: g.from === g.to ? `event ${g.from} is missing` : `events ${g.from}..${g.to} are missing` });
  if (opts.head && opts.head.seq > maxSeq && !isSealed(maxSeq + 1, opts.head.seq)) {
    add({ kind: 'truncated', seq: maxSeq + 1, message: `the log ends at ${maxSeq} but its head says ${opts.head.seq}` });
  } else if (opts.head && opts.head.seq === maxSeq && seen.get(maxSeq) !== undefined && seen.get(maxSeq) !== opts.head.hash) {
    add({ kind: 'changed', seq: maxSeq, message: `the last event does not match the chain head` });
  }
  const lastCp = checkpoints.at(-1);
  if (lastCp && lastCp.toSeq > maxSeq) add({ kind: 'truncated', seq: maxSeq + 1, message: `checkpoint ${lastCp.fromSeq}..${lastCp.toSeq} covers events the log no longer has` });

  findings.sort((a, b) => a.seq - b.seq);
  return { ok: findings.length === 0, events: count, removed, lastSeq: maxSeq, checkpoints: checkpoints.length, firstBadSeq: findings[0]?.seq, findings };
}

function closeCheckpoint(cp: SignedCheckpoint, merkle: MerkleBuilder | undefined, add: (f: TamperFinding) => void): void {
  const expected = cp.toSeq - cp.fromSeq + 1;
  if (!merkle || merkle.size !== expected) {
    add({ kind: 'checkpoint', seq: cp.fromSeq, message: `checkpoint ${cp.fromSeq}..${cp.toSeq} covers ${expected} events but ${merkle?.size ?? 0} were found in order` });
    return;
  }
  if (merkle.root() !== cp.root) add({ kind: 'checkpoint', seq: cp.fromSeq, message: `events ${cp.fromSeq}..${cp.toSeq} do not match the Merkle root their checkpoint signed` });
}
