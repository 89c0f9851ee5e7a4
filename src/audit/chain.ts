import type { AuditEvent } from '../domain/index.js';
import { jcs, sha256Of, str } from './jcs.js';
import { sanitizeSorted } from './sanitize.js';

/** The link the first event of a chain points back to. */
export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

/** Where a tenant's chain ends: the last committed sequence number, hash and log time. */
export interface ChainHead {
  seq: number;
  hash: string;
  loggedAt: string | undefined;
}

/**
 * An event's canonical JSON without the two members the writer sets under the chain lock
 * (`integrity`, `loggedAt`), cut where they go. Canonical keys sort, and the event's keys sort
 * as `… id < integrity < latencyMs < loggedAt < onBehalfOf …`, so the writer only splices.
 * Preparing is the costly part of hashing; the writer does it when an event is appended,
 * while the previous commit is still in flight, not under the lock.
 */
export interface PreparedEvent {
  readonly event: AuditEvent;
  /** Members sorting before `integrity`, comma-joined; '' when none. */
  readonly before: string;
  /** Members between `integrity` and `loggedAt`. */
  readonly between: string;
  /** Members after `loggedAt`. */
  readonly after: string;
}

/** A chained batch: the events as committed, the canonical text each one's hash is over, the new head. */
export interface ChainedBatch {
  events: AuditEvent[];
  /** `bodies[i]` is what `events[i].integrity.hash` is the SHA-256 of: the store keeps it as is. */
  bodies: string[];
  head: ChainHead;
}

/**
 * Makes an event storable (`sanitizeForLog`: NUL and lone surrogates become U+FFFD) and
 * canonicalizes it for chaining; `event` is the cleaned copy. Throws a TypeError for a value with
 * no canonical JSON (a non-finite number, say), so a bad event fails its own append, not a batch.
 */
export function prepareEvent(event: AuditEvent): PreparedEvent {
  return printEvent(sanitizeEvent(event));
}

/** An event cleaned into a copy of its own (`sanitizeSorted`), ready for `printEvent`. */
export interface SanitizedEvent {
  readonly value: AuditEvent;
  readonly ordered: boolean;
}

/**
 * The first half of `prepareEvent`: a deep, cleaned copy, so nothing the caller changes afterwards
 * reaches the log. Throws a TypeError for a value with no canonical JSON.
 */
export function sanitizeEvent(event: AuditEvent): SanitizedEvent {
  return sanitizeSorted(event);
}

/** The second half of `prepareEvent`: the canonical text of a sanitized copy, in parts. */
export function printEvent({ value, ordered }: SanitizedEvent): PreparedEvent {
  const e = value as unknown as Record<string, unknown>;
  // Keys added in canonical order print canonically with the native JSON.stringify (a replacer
  // allow-list would order them too, but takes V8 off its fast path: three times slower).
  const print = ordered ? (v: unknown) => JSON.stringify(v) : jcs;
  const keys = ordered ? Object.keys(e) : Object.keys(e).sort();
  const lo: string[] = [];
  const mid: string[] = [];
  const hi: string[] = [];
  for (const k of keys) {
    const v = e[k];
    if (k === 'integrity' || k === 'loggedAt' || v === undefined || typeof v === 'symbol') continue;
    (k < 'integrity' ? lo : k < 'loggedAt' ? mid : hi).push(`${str(k)}:${print(v)}`);
  }
  return { event: value, before: lo.join(','), between: mid.join(','), after: hi.join(',') };
}

/** The canonical text an event's hash is over, from its prepared parts and the writer's fields. */
function body(p: PreparedEvent, seq: number, prevHash: string, loggedAt: string): string {
  let s = '{';
  if (p.before !== '') s += `${p.before},`;
  s += `"integrity":{"prevHash":${str(prevHash)},"seq":${seq}}`;
  if (p.between !== '') s += `,${p.between}`;
  s += `,"loggedAt":${str(loggedAt)}`;
  if (p.after !== '') s += `,${p.after}`;
  return `${s}}`;
}

/** The canonical text an event's hash is over: its RFC 8785 form with every field but `integrity.hash`. */
export function hashedText(event: AuditEvent): string {
  const { integrity, ...rest } = event;
  return jcs({ ...rest, integrity: { seq: integrity?.seq, prevHash: integrity?.prevHash } });
}

/** The hash an event must carry: over its canonical form with every field but `integrity.hash`. */
export function eventHash(event: AuditEvent): string {
  return sha256Of(hashedText(event));
}

/**
 * Chains a batch onto a head: numbers the events, links each to its predecessor, stamps
 * `loggedAt` (never earlier than the head's, so log time is monotonic along the chain) and hashes.
 */
export function chainEvents(head: ChainHead, events: readonly AuditEvent[], now: Date): ChainedBatch {
  return chainPrepared(head, events.map(prepareEvent), now);
}

/** `chainEvents` over events prepared beforehand: under the chain lock, only splicing and hashing remain. */
export function chainPrepared(head: ChainHead, prepared: readonly PreparedEvent[], now: Date): ChainedBatch {
  let seq = head.seq;
  let prevHash = head.hash;
  const nowIso = now.toISOString();
  const loggedAt = head.loggedAt !== undefined && head.loggedAt > nowIso ? head.loggedAt : nowIso;
  const events: AuditEvent[] = new Array<AuditEvent>(prepared.length);
  const bodies: string[] = new Array<string>(prepared.length);
  for (let i = 0; i < prepared.length; i++) {
    const p = prepared[i]!;
    seq++;
    const text = body(p, seq, prevHash, loggedAt);
    const hash = sha256Of(text);
    events[i] = { ...p.event, loggedAt, integrity: { seq, prevHash, hash } };
    bodies[i] = text;
    prevHash = hash;
  }
  return { events, bodies, head: { seq, hash: prevHash, loggedAt } };
}
