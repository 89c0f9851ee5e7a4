import type { AuditEvent, Integrity } from '../domain/index.js';
import { digestJson } from '../domain/index.js';

/** The link the first event of a chain points back to. */
export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

/** Where a tenant's chain ends: the last committed sequence number, hash and log time. */
export interface ChainHead {
  seq: number;
  hash: string;
  loggedAt: string | undefined;
}

/** The hash an event must carry: over its canonical form with every field but `integrity.hash`. */
export function eventHash(event: AuditEvent): string {
  const { integrity, ...rest } = event;
  return digestJson({ ...rest, integrity: { seq: integrity?.seq, prevHash: integrity?.prevHash } });
}

/**
 * Chains a batch onto a head: numbers the events, links each to its predecessor, stamps
 * `loggedAt` (never earlier than the head's, so log time is monotonic along the chain) and hashes.
 */
export function chainEvents(head: ChainHead, events: readonly AuditEvent[], now: Date): { events: AuditEvent[]; head: ChainHead } {
  let seq = head.seq;
  let prevHash = head.hash;
  const nowIso = now.toISOString();
  const loggedAt = head.loggedAt !== undefined && head.loggedAt > nowIso ? head.loggedAt : nowIso;
  const out: AuditEvent[] = [];
  for (const e of events) {
    seq++;
    const unsealed: AuditEvent = { ...e, loggedAt, integrity: { seq, prevHash, hash: '' } };
    const hash = eventHash(unsealed);
    const integrity: Integrity = { seq, prevHash, hash };
    out.push({ ...unsealed, integrity });
    prevHash = hash;
  }
  return { events: out, head: { seq, hash: prevHash, loggedAt } };
}
