import { actionOfDecisionEvent, type NotReplayable } from '../checkpoint/index.js';
import type { AuditEvent, Decision, Effect } from '../domain/index.js';
import { decide, type CompiledRule, type PolicySet } from '../policy/index.js';

/** One decision the draft would change, as a sample of its group. */
export interface ReplaySample {
  eventId: string;
  time: string;
  scope: string;
  target: string;
  from: { effect: Effect; reasons: string[] };
  to: { effect: Effect; reasons: string[] };
}

/** Decisions that change the same way: from one effect to another, by one rule. */
export interface ReplayChange {
  from: Effect;
  to: Effect;
  /** `policy/rule` that decides under the draft (or, when the draft's default decides, that decided before). */
  rule: string;
  count: number;
  samples: ReplaySample[];
}

/** What a replay found. */
export interface ReplayReport {
  /** Decision events read in the range. */
  read: number;
  /** Decided again under both sets. */
  evaluated: number;
  changed: number;
  /** Events that could not be decided again, by why: arguments a rule reads were not captured, the registry refused it (no policy decided), or the event does not hold a whole action. */
  notReplayable: { argsNotCaptured: number; registryRefusal: number; unreadable: number };
  /** Of the evaluated, how many the active set decides today otherwise than the event recorded (policies or facts changed since). */
  driftFromRecorded: number;
  changes: ReplayChange[];
  durationMs: number;
  eventsPerSecond: number;
}

/** Whether a rule's condition reads the arguments (then a replay without them would guess). */
const readsArgs = (r: CompiledRule) => r.whenSource !== undefined && /\bargs\b/.test(r.whenSource);

const ids = (d: Decision) => d.reasons.map((r) => `${r.policy}/${r.rule}`);

/**
 * Decides every recorded decision again under the active set and under the set with the draft in
 * place, and groups the decisions that differ. The baseline is today's active set, not the recorded
 * decision: what changes is what the draft changes (`driftFromRecorded` counts the rest). Findings
 * are the recorded ones (detectors are not run again). An event whose arguments were not captured is
 * decided only when no rule that could match it in either set reads `args`; otherwise it is counted
 * in `notReplayable.argsNotCaptured`. Pure over its input; `onProgress` sees the count read so far.
 */
export async function replayDecisions(
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>,
  active: PolicySet,
  draft: PolicySet,
  opts: { samples?: number; onProgress?: (read: number) => void; now?: () => number } = {},
): Promise<ReplayReport> {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const perGroup = opts.samples ?? 5;
  const groups = new Map<string, ReplayChange>();
  const notReplayable = { argsNotCaptured: 0, registryRefusal: 0, unreadable: 0 };
  const counts: Record<NotReplayable, keyof typeof notReplayable | undefined> = { 'not-a-decision': undefined, 'registry-refusal': 'registryRefusal', unreadable: 'unreadable' };
  let read = 0;
  let evaluated = 0;
  let changed = 0;
  let drift = 0;
  for await (const e of events) {
    read++;
    if (read % 10_000 === 0) opts.onProgress?.(read);
    const got = actionOfDecisionEvent(e);
    if ('notReplayable' in got) {
      const key = counts[got.notReplayable];
      if (key) notReplayable[key]++;
      else read--; // not a decision event at all: not part of what was asked
      continue;
    }
    if (got.hadArgs && !got.argsCaptured && (active.index.matches(got.action).some(readsArgs) || draft.index.matches(got.action).some(readsArgs))) {
      notReplayable.argsNotCaptured++;
      continue;
    }
    const at = got.time ? new Date(got.time) : new Date(e.time);
    const before = decide(active, got.action, { now: at, findings: got.findings });
    const after = decide(draft, got.action, { now: at, findings: got.findings });
    evaluated++;
    if (before.effect !== e.decision!.effect) drift++;
    // A decision is its effect: a draft that only changes which rule explains it changes nothing.
    if (before.effect === after.effect) continue;
    changed++;
    const deciding = after.reasons[0]?.policy === 'builtin' || after.reasons[0]?.policy === 'scope-settings' ? before.reasons[0] : after.reasons[0];
    const rule = deciding ? `${deciding.policy}/${deciding.rule}` : '(none)';
    const key = `${before.effect}>${after.effect}>${rule}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { from: before.effect, to: after.effect, rule, count: 0, samples: [] }));
    g.count++;
    if (g.samples.length < perGroup) {
      const t = got.action.tool ? `${got.action.tool.server}.${got.action.tool.name}` : (got.action.resource?.uri ?? got.action.kind);
      g.samples.push({ eventId: e.id, time: e.time, scope: e.scope, target: t, from: { effect: before.effect, reasons: ids(before) }, to: { effect: after.effect, reasons: ids(after) } });
    }
  }
  opts.onProgress?.(read);
  const durationMs = now() - started;
  return {
    read,
    evaluated,
    changed,
    notReplayable,
    driftFromRecorded: drift,
    changes: [...groups.values()].sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule)),
    durationMs: Math.round(durationMs),
    eventsPerSecond: durationMs > 0 ? Math.round((read / durationMs) * 1000) : 0,
  };
}
