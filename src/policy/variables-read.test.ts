import { describe, expect, it } from 'vitest';
import type { Action } from '../domain/index.js';
import { decisionTime } from './activation.js';
import { CEL_VARIABLES, compileCel, variablesRead, type CelProgram } from './cel.js';

function program(source: string): CelProgram {
  const r = compileCel(source);
  if (!r.ok) throw new Error(r.error.message);
  return r.program;
}

describe('variablesRead', () => {
  it('names the variables a condition reads, in CEL_VARIABLES order', () => {
    expect(variablesRead(program('context.hour < 8 || context.hour >= 20'))).toEqual(['context']);
    expect(variablesRead(program('has(args.environment) && args.environment == "production" || tool.risk == "high"'))).toEqual(['tool', 'args']);
    expect(variablesRead(program('findings.exists(f, f.kind == "secret") && session.history.size() > 2'))).toEqual(['findings', 'session']);
    expect(variablesRead(program('true'))).toEqual([]);
  });

  it('counts a comprehension variable that shadows one, which builds one variable too many and no fewer', () => {
    expect(variablesRead(program('findings.exists(tool, tool.kind == "x")'))).toEqual(['tool', 'findings']);
  });

  it('names every variable for a program whose syntax tree it cannot read', () => {
    const opaque: CelProgram = () => true;
    expect(variablesRead(opaque)).toEqual(CEL_VARIABLES);
  });
});

describe('decisionTime', () => {
  it('hands out a new Date for each call on the same time string', () => {
    const action: Action = { kind: 'tool.call', scope: 'org', context: { time: '2026-12-07T10:00:00Z' } };
    const now = new Date('2026-01-01T00:00:00Z');
    const a = decisionTime(action, now);
    const b = decisionTime(action, now);
    expect(a).not.toBe(b);
    expect(a.toISOString()).toBe('2026-12-07T10:00:00.000Z');
    expect(b.getTime()).toBe(a.getTime());
    expect(decisionTime({ ...action, context: { time: 'not a time' } }, now)).toBe(now);
  });
});
