import type { Action, ActionKind, AuditEvent, Effect, Finding } from '../domain/index.js';
import type { RuleEntity } from './rule-document.js';

/** A finding as rules see it: no evidence, no position. */
export interface ObservedFinding {
  category: string;
  type: string;
  score: number;
}

/**
 * One thing a rule runs on, from either source: a recorded audit event (asynchronous rules, replay)
 * or the action being decided (synchronous rules). The entity ids are what features and verdicts key on.
 */
export interface Observed {
  tenantId: string;
  /** The audit event's id; absent for an action not yet decided. */
  eventId?: string | undefined;
  /** The audit event's type; `<kind>.requested` for an action not yet decided. */
  type: string;
  scope: string;
  time: Date;
  kind?: ActionKind | undefined;
  tool?: { server: string; name: string; capabilities?: readonly string[] } | undefined;
  resource?: { uri: string; server?: string | undefined } | undefined;
  entities: Partial<Record<RuleEntity, string>>;
  effect?: Effect | undefined;
  findings: readonly ObservedFinding[];
  /** The arguments: only for the action being decided (events keep a digest). */
  args?: Record<string, unknown> | undefined;
  argsDigest?: string | undefined;
  /** The arguments' strings, joined by newlines, at most 64 KB (synchronous rules; empty for events). */
  text: string;
  /** `fingerprintOf(text)`, computed on first use. */
  fingerprint?: string | undefined;
  /** What CEL sees as `event`. */
  event: Record<string, unknown>;
}

function capabilitiesOf(e: AuditEvent): readonly string[] | undefined {
  const facts = (e.details as { action?: { tool?: { capabilities?: unknown } } } | undefined)?.action?.tool?.capabilities;
  return Array.isArray(facts) ? facts.filter((c): c is string => typeof c === 'string') : undefined;
}

/** An audit event as rules see it. */
export function observedFromEvent(e: AuditEvent): Observed {
  const entities: Partial<Record<RuleEntity, string>> = { scope: e.scope };
  const agent = e.agent?.id ?? (e.actor.type === 'agent' ? e.actor.id : undefined);
  if (agent !== undefined) entities.agent = agent;
  const principal = e.onBehalfOf?.id ?? (e.actor.type === 'user' || e.actor.type === 'service' ? e.actor.id : undefined);
  if (principal !== undefined) entities.principal = principal;
  if (e.actor.sessionId !== undefined) entities.session = e.actor.sessionId;
  if (e.actor.ip !== undefined) entities.ip = e.actor.ip;
  const t = e.target;
  const tool = t?.kind === 'tool' && t.server !== undefined && t.name !== undefined ? { server: t.server, name: t.name } : undefined;
  if (tool) {
    entities.server = tool.server;
    entities.tool = qualifiedTool(tool.server, tool.name);
  } else if (t?.server !== undefined) entities.server = t.server;
  const capabilities = capabilitiesOf(e);
  const { payload: _payload, integrity: _integrity, ...rest } = e;
  return {
    tenantId: e.tenantId,
    eventId: e.id,
    type: e.type,
    scope: e.scope,
    time: new Date(e.time),
    kind: e.action?.kind,
    tool: tool ? { ...tool, ...(capabilities ? { capabilities } : {}) } : undefined,
    resource: t?.kind === 'resource' && t.uri !== undefined ? { uri: t.uri, server: t.server } : undefined,
    entities,
    effect: e.decision?.effect,
    findings: (e.findings ?? e.decision?.findings ?? []).map((f) => ({ category: f.category, type: f.type, score: f.score })),
    argsDigest: e.payload?.argsDigest,
    text: '',
    event: e.payload?.argsDigest !== undefined ? { ...rest, argsDigest: e.payload.argsDigest } : rest,
  };
}

/** The action being decided, as synchronous rules see it (no effect yet). */
export function observedFromAction(input: { tenantId: string; action: Action; sessionId?: string | undefined; ip?: string | undefined; findings: readonly Finding[]; time: Date }): Observed {
  const { action } = input;
  const entities: Partial<Record<RuleEntity, string>> = { scope: action.scope };
  if (action.agent) entities.agent = action.agent.id;
  if (action.principal) entities.principal = action.principal.id;
  if (input.sessionId !== undefined) entities.session = input.sessionId;
  if (input.ip !== undefined) entities.ip = input.ip;
  const tool = action.tool ? { server: action.tool.server, name: action.tool.name, ...(action.tool.capabilities ? { capabilities: action.tool.capabilities } : {}) } : undefined;
  if (tool) {
    entities.server = tool.server;
    entities.tool = qualifiedTool(tool.server, tool.name);
  } else if (action.resource?.server !== undefined) entities.server = action.resource.server;
  const type = `${action.kind}.requested`;
  return {
    tenantId: input.tenantId,
    type,
    scope: action.scope,
    time: input.time,
    kind: action.kind,
    tool,
    resource: action.resource ? { uri: action.resource.uri, server: action.resource.server } : undefined,
    entities,
    findings: input.findings.map((f) => ({ category: f.category, type: f.type, score: f.score })),
    args: action.args,
    text: textOf(action.args),
    event: { type, scope: action.scope, tenantId: input.tenantId, time: input.time.toISOString(), category: 'decision' },
  };
}

const MAX_TEXT = 64 * 1024;

/** The strings inside a value, depth first, joined by newlines and cut at 64 KB: what pattern rules read. */
export function textOf(value: unknown): string {
  const parts: string[] = [];
  let size = 0;
  const walk = (v: unknown, depth: number): void => {
    if (size >= MAX_TEXT || depth > 32) return;
    if (typeof v === 'string') {
      parts.push(v);
      size += v.length + 1;
    } else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], depth + 1);
  };
  walk(value, 0);
  const text = parts.join('\n');
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}

/**
 * A near-duplicate key of a text: lower-cased, digit runs as `#`, URLs' paths dropped, whitespace and
 * punctuation runs as one space, the first 256 characters. Two posts that differ only in a number, a
 * tracking link or spacing share it, so `distinct(…, of: fingerprint)` counts templates, not posts.
 */
export function fingerprintOf(text: string): string {
  return text
    .toLowerCase()
    .replace(/(https?:\/\/[^\s/]+)\S*/g, '$1')
    .replace(/[0-9]+/g, '#')
    .replace(/[\s\p{P}]+/gu, ' ')
    .trim()
    .slice(0, 256);
}

/**
 * A tool's name with its server: the gateway's tool names already carry their server (`toy.echo`),
 * a decision API caller's may not (`github` + `create_issue`); both become `server.tool` once.
 */
export function qualifiedTool(server: string, name: string): string {
  return name.startsWith(`${server}.`) ? name : `${server}.${name}`;
}
