import type { Action, Finding } from '../domain/index.js';
import { toCelValue } from './cel.js';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
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

/**
 * The variables a `when` condition sees. `context.hour` (0–23) and `context.weekday` (`monday`…)
 * derive from `context.time` in the scope's time zone; `context.time` itself is a CEL timestamp.
 */
export function buildActivation(action: Action, opts: { now: Date; timezone: string; findings: readonly Finding[] }): Record<string, unknown> {
  const rawTime = action.context?.time;
  const time = rawTime ? new Date(rawTime) : opts.now;
  const { hour, weekday } = zoned(time, opts.timezone);
  const context = { ...(toCelValue(action.context ?? {}) as Record<string, unknown>), time, hour: BigInt(hour), weekday, timezone: opts.timezone };
  const tool = action.tool ? toCelValue(action.tool) : {};
  return {
    action: { kind: action.kind, scope: action.scope },
    principal: action.principal ? toCelValue({ roles: [], attributes: {}, ...action.principal }) : {},
    agent: action.agent ? toCelValue({ attributes: {}, ...action.agent }) : {},
    tool,
    resource: action.resource ? toCelValue(action.resource) : {},
    server: action.tool ? { name: action.tool.server } : action.resource?.server ? { name: action.resource.server } : {},
    args: toCelValue(action.args ?? {}),
    context,
    findings: toCelValue(opts.findings),
  };
}
