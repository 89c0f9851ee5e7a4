import type { Action, Decision, EntityLabels, Finding, SessionStep, SessionView } from '../domain/index.js';
import { toCelValue, type CelVariable } from './cel.js';

/** The values of `context.weekday`, in `Date.getDay()` order. */
export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const MAX_FORMATTERS = 512;
// INVARIANT: pure memo, bounded
const formatters = new Map<string, Intl.DateTimeFormat>();

function zoned(time: Date, timezone: string): { hour: number; weekday: string } {
  if (timezone === 'UTC') return { hour: time.getUTCHours(), weekday: WEEKDAYS[time.getUTCDay()]! };
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hour: 'numeric', hourCycle: 'h23', weekday: 'long' });
    // Time zone names match case-insensitively, so the keys are not a closed set: keep it bounded.
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timezone, f);
  }
  let hour = 0;
  let weekday = 'sunday';
  for (const p of f.formatToParts(time)) {
    if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'weekday') weekday = p.value.toLowerCase();
  }
  return { hour, weekday };
}

/** Context fields the activation sets whatever the action carries (`time` too, when the action has none). */
const DERIVED_CONTEXT = ['context.hour', 'context.weekday', 'context.timezone'] as const;
/** At most this many caller-asserted field names are listed in a decision, each at most this long. */
const MAX_LISTED = 32;
const MAX_NAME = 64;

/**
 * The time conditions see: the action's `context.time` when it carries one (the checkpoint keeps it
 * only for a caller trusted to assert it, or offline), else `now`. A time `Date` cannot hold (the
 * schema refuses them; a programmatic caller might not) never reaches a condition: `now` is used.
 */
export function decisionTime(action: Action, now: Date): Date {
  const raw = action.context?.time;
  if (raw === undefined) return now;
  // Consecutive actions often carry the same time string: parse it once, hand out a new Date each time.
  let ms: number;
  if (typeof raw !== 'string') ms = new Date(raw).getTime();
  else {
    if (raw !== lastTime.raw) {
      lastTime.raw = raw;
      lastTime.ms = new Date(raw).getTime();
    }
    ms = lastTime.ms;
  }
  return Number.isNaN(ms) ? now : new Date(ms);
}

// The last time string parsed and its milliseconds.
// INVARIANT: pure memo, bounded (one entry: ms = f(raw)).
const lastTime: { raw: string | undefined; ms: number } = { raw: undefined, ms: Number.NaN };

/**
 * What a decision says about the context its policies saw: the time, the caller's claimed time,
 * and which fields Warden set versus which the caller asserted (passed on unverified).
 */
export function explainContext(action: Action, now: Date): NonNullable<Decision['context']> {
  const time = decisionTime(action, now);
  const callerTime = action.context?.time !== undefined && time !== now;
  const setByWarden: string[] = [...(callerTime ? [] : ['context.time']), ...DERIVED_CONTEXT];
  const asserted = Object.keys(action.context ?? {})
    .map((k) => `context.${k}`)
    .filter((k) => !setByWarden.includes(k) && (callerTime || k !== 'context.time'))
    .sort();
  const listed = asserted.slice(0, MAX_LISTED).map((k) => (k.length > MAX_NAME ? `${k.slice(0, MAX_NAME)}…` : k));
  if (asserted.length > MAX_LISTED) listed.push(`…and ${asserted.length - MAX_LISTED} more`);
  const claimed = action.context?.claimedTime;
  return {
    time: time.toISOString(),
    ...(typeof claimed === 'string' ? { claimedTime: claimed.slice(0, MAX_NAME) } : {}),
    setByWarden,
    assertedByCaller: listed,
  };
}

/** What an activation is built from: the decision's inputs besides the action. */
export interface ActivationInputs {
  now: Date;
  timezone: string;
  findings: readonly Finding[];
  session?: SessionView | undefined;
  labels?: EntityLabels | undefined;
}

/**
 * The variables a `when` condition sees. `context.hour` (0–23) and `context.weekday` (`monday`…)
 * derive from `context.time` (see `decisionTime`) in the scope's time zone; `context.time` itself
 * is a CEL timestamp.
 */
export function buildActivation(action: Action, opts: ActivationInputs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of ACTIVATION_ORDER) out[name] = activationVariable(name, action, opts);
  return out;
}

/** The order `buildActivation` sets the variables in. */
const ACTIVATION_ORDER: readonly CelVariable[] = ['action', 'principal', 'agent', 'tool', 'resource', 'server', 'args', 'context', 'findings', 'session'];

/** One variable of `buildActivation`'s result, built alone (a decision builds only those its conditions read). */
export function activationVariable(name: CelVariable, action: Action, opts: ActivationInputs): unknown {
  const labels = opts.labels ?? NO_LABELS;
  switch (name) {
    case 'action':
      return { kind: action.kind, scope: action.scope };
    // The defaults first, then the principal's own fields converted: what converting
    // `{ roles: [], attributes: {}, ...principal }` gives, without building that object first.
    // Labels are Warden's facts, set after the caller's fields (the schemas refuse a caller's `labels`).
    case 'principal':
      return action.principal ? withLabels(convertInto({ roles: [], attributes: {} }, action.principal), labels.principal) : { labels: labels.principal };
    case 'agent':
      return action.agent ? withLabels(convertInto({ attributes: {} }, action.agent), labels.agent) : { labels: labels.agent };
    case 'tool':
      return action.tool ? toCelValue(action.tool) : {};
    case 'resource':
      return action.resource ? toCelValue(action.resource) : {};
    case 'server':
      return action.tool ? { name: action.tool.server } : action.resource?.server ? { name: action.resource.server } : {};
    case 'args':
      return toCelValue(action.args ?? {});
    case 'context':
      return contextValue(action, opts.now, opts.timezone);
    case 'findings':
      return toCelValue(opts.findings);
    case 'session':
      return opts.session ? sessionValue(opts.session, labels.session) : labels.session.length > 0 ? { id: '', history: [], labels: labels.session } : NO_SESSION;
  }
}

/** `context`: the caller's fields converted, then Warden's (replacing any the caller set, in place). */
function contextValue(action: Action, now: Date, timezone: string): Record<string, unknown> {
  const time = decisionTime(action, now);
  const { hour, weekday } = zoned(time, timezone);
  // A `__proto__` field is dropped: converting it set a prototype that copying the fields left behind.
  const context: Record<string, unknown> = {};
  const given = action.context;
  // Object.keys then a read per key, rather than Object.entries: no pair array per field.
  if (given) for (const k of Object.keys(given)) if (k !== '__proto__') context[k] = toCelValue((given as Record<string, unknown>)[k]);
  context.time = time;
  context.hour = BigInt(hour);
  context.weekday = weekday;
  context.timezone = timezone;
  return context;
}

// A step never changes once recorded (a store replaces it to add findings), so its CEL form is
// converted once, not on every decision of the session.
// INVARIANT: pure memo, bounded (value = f(key), entries die with their step: a WeakMap).
const stepValues = new WeakMap<SessionStep, unknown>();

/** The session as conditions see it, each step converted once. */
function sessionValue(session: SessionView, labels: readonly string[]): Record<string, unknown> {
  const history = new Array<unknown>(session.history.length);
  for (let i = 0; i < session.history.length; i++) {
    const step = session.history[i]!;
    let v = stepValues.get(step);
    if (v === undefined) {
      v = toCelValue(step);
      stepValues.set(step, v);
    }
    history[i] = v;
  }
  return { id: session.id, history, labels: labels.length > 0 ? labels : toCelValue(session.labels) };
}

/** What `session` holds for an action outside any session: no id, no history, no labels. */
const NO_SESSION = Object.freeze({ id: '', history: Object.freeze([]), labels: Object.freeze([]) });

function withLabels(into: Record<string, unknown>, labels: readonly string[]): Record<string, unknown> {
  into.labels = labels;
  return into;
}

/** No labels on anything: what conditions see where no abuse store is consulted (offline). */
const NO_LABELS: EntityLabels = Object.freeze({ agent: Object.freeze([]), principal: Object.freeze([]), session: Object.freeze([]) });

/** Converts `from`'s own enumerable fields into `into` (after the fields `into` already has), as `toCelValue` converts an object's. */
function convertInto(into: Record<string, unknown>, from: object): Record<string, unknown> {
  for (const k of Object.keys(from)) into[k] = toCelValue((from as Record<string, unknown>)[k]);
  return into;
}
