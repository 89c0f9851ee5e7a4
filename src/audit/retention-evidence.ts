import type { AuditEvent } from '../domain/index.js';

const DAY_MS = 86_400_000;

/** The event types that justify a retention stub: removals, the periods in force, and legal holds. */
export const EVIDENCE_TYPES: ReadonlySet<string> = new Set([
  'audit.retention.deleted',
  'audit.retention.partition_dropped',
  'audit.retention.updated',
  'audit.retention.cleared',
  'audit.hold.created',
  'audit.hold.released',
]);

/** Whether an event is retention evidence (kept forever: retention never removes it). */
export function isRetentionEvidence(e: { type?: string | undefined }): boolean {
  return e.type !== undefined && EVIDENCE_TYPES.has(e.type);
}

/** What a stub says about the event it replaced (claimed by the store, not hashed). */
export interface StubFacts {
  seq: number;
  /** The id of the `audit.retention.*` event that declares the removal. */
  removedBy?: string | undefined;
  category?: string | undefined;
  time?: string | undefined;
  scope?: string | undefined;
}

interface Hold {
  id: string;
  scope: string;
  from: number;
  to: number;
}

interface Declaration {
  seq: number;
  id: string;
  partition: boolean;
  category: string | undefined;
  fromSeq: number;
  toSeq: number;
  removed: number;
  /** Exact removed sequence numbers as sorted runs, when the declaration lists them. */
  runs: [number, number][] | undefined;
  cutoff: number | undefined;
  days: number | undefined;
  time: number;
  bounds: [number, number] | undefined;
  periods: ReadonlyMap<string, number>;
  holds: readonly Hold[];
  claimed: number;
}

/** Formats sorted sequence numbers as runs, `1-3,7,9-12`, the form retention declares them in. */
export function formatRuns(runs: readonly (readonly [number, number])[]): string {
  return runs.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}

function parseRuns(text: unknown): [number, number][] | undefined {
  if (typeof text !== 'string') return undefined;
  if (text === '') return [];
  return text.split(',').map((part) => {
    const [lo, hi] = part.split('-').map(Number);
    return [lo!, hi ?? lo!];
  });
}

function inRuns(runs: readonly [number, number][], seq: number): boolean {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = runs[mid]!;
    if (seq < a) hi = mid - 1;
    else if (seq > b) lo = mid + 1;
    else return true;
  }
  return false;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const time = (v: unknown, fallback: number): number => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : fallback);

/**
 * Judges retention stubs against the chain's own evidence: the removal declarations, the periods
 * set before each, and the legal holds active at each. Built from the evidence events in chain
 * order; memory is bounded by the number of evidence events, not of stubs.
 */
export interface StubJudge {
  /** Why this stub is not a valid retention removal, or undefined when it is. */
  judge(stub: StubFacts, sealedThrough: number): string | undefined;
  /** Declarations that fewer stubs name than they declared, after every stub was judged. */
  miscounted(): { seq: number; message: string }[];
}

/** Builds the judge over the chain's evidence events (`EVIDENCE_TYPES`), in chain order. */
export function createStubJudge(evidence: readonly AuditEvent[]): StubJudge {
  const periods = new Map<string, number>();
  const holds = new Map<string, Hold>();
  const byId = new Map<string, Declaration>();
  for (const e of [...evidence].sort((a, b) => (a.integrity?.seq ?? 0) - (b.integrity?.seq ?? 0))) {
    const d = (e.details ?? {}) as Record<string, unknown>;
    const seq = e.integrity?.seq ?? 0;
    if (e.type === 'audit.retention.updated' && typeof d.category === 'string' && num(d.days) !== undefined) periods.set(d.category, num(d.days)!);
    else if (e.type === 'audit.retention.cleared' && typeof d.category === 'string') periods.delete(d.category);
    else if (e.type === 'audit.hold.created' && typeof d.id === 'string') holds.set(d.id, { id: d.id, scope: String(d.scope ?? e.scope), from: time(d.from, -Infinity), to: time(d.to, Infinity) });
    else if (e.type === 'audit.hold.released' && typeof d.id === 'string') holds.delete(d.id);
    else if (e.type === 'audit.retention.deleted' || e.type === 'audit.retention.partition_dropped') {
      const partition = e.type === 'audit.retention.partition_dropped';
      byId.set(e.id, {
        seq,
        id: e.id,
        partition,
        category: typeof d.category === 'string' ? d.category : undefined,
        fromSeq: num(d.fromSeq) ?? Infinity,
        toSeq: num(d.toSeq) ?? -Infinity,
        removed: num(d.removed) ?? 0,
        runs: parseRuns(d.seqs),
        cutoff: typeof d.before === 'string' ? time(d.before, NaN) : undefined,
        days: num(d.days),
        time: Date.parse(e.time),
        bounds: partition ? [time(d.from, NaN), time(d.to, NaN)] : undefined,
        periods: new Map(periods),
        holds: [...holds.values()],
        claimed: 0,
      });
    }
  }
  return {
    judge(stub, sealedThrough) {
      const s = stub.seq;
      if (stub.removedBy === undefined) return `event ${s} was removed, and its stub names no retention event that removed it`;
      const d = byId.get(stub.removedBy);
      if (!d) return `event ${s} was removed, and no retention event in this chain declares the removal its stub names (\`${stub.removedBy}\`)`;
      const by = `retention event ${d.seq}`;
      if (d.seq <= s) return `event ${s} was removed by ${by}, which comes before it`;
      if (s < d.fromSeq || s > d.toSeq || (d.runs && !inRuns(d.runs, s))) return `event ${s} was removed, but ${by} does not list it among the events it removed`;
      // Without a list (too many runs to declare), the count bounds the stubs: one too many is forged.
      if (++d.claimed > d.removed) return `event ${s} was removed, but ${by} declares only ${d.removed} removed event(s) and more stubs name it`;
      if (d.seq > sealedThrough) return `event ${s} was removed by ${by}, which no signed checkpoint covers yet; run \`warden audit seal\``;
      const category = d.partition ? stub.category : d.category;
      if (!d.partition && stub.category !== d.category) return `event ${s} was removed as \`${stub.category}\` but ${by} removed \`${d.category}\` events`;
      const days = category === undefined ? undefined : d.periods.get(category);
      if (days === undefined) return `event ${s} was removed by ${by}, but no retention period for \`${category}\` was in force`;
      if (!d.partition && d.days !== days) return `event ${s} was removed by ${by} under ${d.days} day(s), but the period in force for \`${category}\` was ${days} day(s)`;
      const limit = d.time - days * DAY_MS;
      if (!d.partition && !(d.cutoff! <= limit)) return `event ${s} was removed by ${by}, whose cutoff is later than the period of ${days} day(s) allows`;
      const cutoff = d.partition ? limit : d.cutoff!;
      const t = stub.time === undefined ? NaN : Date.parse(stub.time);
      if (!(t < cutoff)) return `event ${s} was removed by ${by} before its retention period of ${days} day(s) had passed`;
      if (d.bounds && !(t >= d.bounds[0] && t < d.bounds[1])) return `event ${s} was removed with a partition its time is not in`;
      for (const h of d.holds) {
        const scoped = stub.scope === undefined || stub.scope === h.scope || stub.scope.startsWith(`${h.scope}/`);
        if (scoped && t >= h.from && t < h.to) return `event ${s} was removed by ${by} while legal hold \`${h.id}\` kept it`;
      }
      return undefined;
    },
    miscounted() {
      const out: { seq: number; message: string }[] = [];
      for (const d of byId.values()) {
        if (d.claimed < d.removed) out.push({ seq: d.seq, message: `retention event ${d.seq} declares ${d.removed} removed event(s) but only ${d.claimed} stub(s) name it` });
      }
      return out;
    },
  };
}
