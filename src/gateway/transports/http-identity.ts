import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { narrowingLosses, type NarrowingLoss, type PolicyProvider } from '../../checkpoint/index.js';
import type { ErrorCode, Principal } from '../../domain/index.js';
import type { SessionIdentity } from '../ports.js';
import { printableName } from '../printable-name.js';

/** An agent allowed to connect over HTTP, and the bearer token that proves it. */
export interface AgentCredential {
  id: string;
  token: string;
  principal?: Principal | undefined;
  /** The agent's own scope; defaults to the gateway's. */
  scope?: string | undefined;
  /**
   * Subscopes of `scope` the agent may narrow to with `X-Warden-Scope` even where that stops a
   * deny or require_approval rule (or a scan section) applying, because a policy excludes them.
   */
  scopes?: readonly string[] | undefined;
}

/** A request whose identity is known but whose scope claim is refused: the edge answers `status` with the code and message. */
export interface IdentityRefusal {
  refused: { status: 403; code: ErrorCode; message: string };
}

/** How HTTP sessions are identified. */
export interface HttpIdentityOptions {
  /** The scope sessions act in unless a narrower one is asked for. */
  scope: string;
  /** The policy set in force, read on every request: narrowing is checked against the rules of the moment. */
  policies: Pick<PolicyProvider, 'current'>;
  agents: readonly AgentCredential[];
  /**
   * Accept `X-Warden-Agent: <id>` without a token. Only for a gateway bound to a trusted network.
   * @default false
   */
  trustAgentHeader?: boolean | undefined;
}

/** A scope equal to or below another (`a/b` is under `a`, `ab` is not). */
export function isUnderScope(scope: string, base: string): boolean {
  return scope === base || scope.startsWith(`${base}/`);
}

const SCOPE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/**
 * Resolves an HTTP request's identity from `Authorization: Bearer <token>`. An `X-Warden-Scope`
 * header may narrow the scope to a descendant of the agent's, never widen it, and never reach a
 * scope where a deny or require_approval rule, a scan section or a stricter default that holds at
 * the agent's scope no longer applies (`narrowingLosses`), unless the agent's `scopes` lists it.
 * Unknown credentials resolve to undefined (401); a refused scope to an `IdentityRefusal` (403).
 */
export function createHttpIdentity(opts: HttpIdentityOptions): (req: IncomingMessage) => SessionIdentity | IdentityRefusal | undefined {
  const tokens = opts.agents.map((a) => ({ agent: a, token: Buffer.from(a.token) }));
  const losses = lossCache(opts.policies);
  return (req) => {
    const auth = req.headers.authorization;
    let agent: AgentCredential | undefined;
    let via = 'token';
    if (auth?.startsWith('Bearer ')) {
      const given = Buffer.from(auth.slice(7).trim());
      agent = tokens.find((t) => t.token.length === given.length && timingSafeEqual(t.token, given))?.agent;
      if (!agent) return undefined;
    } else if (opts.trustAgentHeader) {
      const id = header(req, 'x-warden-agent');
      if (!id) return undefined;
      agent = opts.agents.find((a) => a.id === id) ?? { id, token: '' };
      via = 'header';
    } else {
      return undefined;
    }
    const base = agent.scope ?? opts.scope;
    const asked = header(req, 'x-warden-scope');
    if (asked !== undefined && asked !== base) {
      const why = narrowingRefusal(agent, base, asked, losses);
      if (why) return { refused: { status: 403, code: 'gateway.scope_refused', message: why } };
    }
    const ua = req.headers['user-agent'];
    return {
      agentId: agent.id,
      scope: asked ?? base,
      principal: agent.principal,
      via,
      ...(req.socket.remoteAddress ? { ip: req.socket.remoteAddress } : {}),
      ...(ua ? { userAgent: ua } : {}),
    };
  };
}

/** Why an agent bound to `base` may not act in `asked`, or undefined when it may. */
function narrowingRefusal(agent: AgentCredential, base: string, asked: string, losses: ReturnType<typeof lossCache>): string | undefined {
  const shown = printableName(asked);
  if (!SCOPE.test(asked)) return `the \`X-Warden-Scope\` header \`${shown}\` is not a scope path such as \`acme/platform/payments\``;
  if (!isUnderScope(asked, base)) return `agent \`${agent.id}\` is bound to scope \`${base}\` and \`X-Warden-Scope\` may only narrow it, not move it to \`${shown}\``;
  // A subscope the binding lists is narrowed to from there: what it lets go of was the operator's choice.
  const listed = (agent.scopes ?? []).filter((s) => isUnderScope(s, base) && isUnderScope(asked, s)).sort((a, b) => b.length - a.length)[0];
  const from = listed ?? base;
  const lost = losses(from, asked, { agentId: agent.id, roles: agent.principal?.roles });
  if (lost.length === 0) return undefined;
  const more = lost.length > 1 ? ` (and ${lost.length - 1} more)` : '';
  return `agent \`${agent.id}\` may not narrow its scope \`${from}\` to \`${asked}\`: ${describeLoss(lost[0]!, from, asked)}${more}; list \`${asked}\` in the agent's \`scopes\` to allow it`;
}

/** One loss, as the middle of a refusal sentence. */
function describeLoss(loss: NarrowingLoss, from: string, asked: string): string {
  switch (loss.kind) {
    case 'rule':
      return `the ${loss.effect} rule \`${loss.rule}\` of policy \`${loss.policy}\` applies at \`${from}\` and its exclude \`${loss.exclude}\` would lift it`;
    case 'scan':
      return `the scan section of policy \`${loss.policy}\` applies at \`${from}\` and its exclude \`${loss.exclude}\` would lift it`;
    case 'default':
      return `the default effect is \`${loss.bound}\` at \`${from}\` but \`${loss.requested}\` at \`${asked}\``;
  }
}

/** Most narrowing verdicts kept per policy set; a set's verdicts go with it when policies reload. */
const LOSS_CACHE_MAX = 1024;

/** `narrowingLosses` over the set in force, remembered per set (it scans every rule). */
function lossCache(policies: Pick<PolicyProvider, 'current'>) {
  let cached: { set: object; verdicts: Map<string, NarrowingLoss[]> } | undefined;
  return (from: string, asked: string, subject: { agentId: string; roles?: readonly string[] | undefined }): NarrowingLoss[] => {
    const set = policies.current();
    if (cached?.set !== set || cached.verdicts.size >= LOSS_CACHE_MAX) cached = { set, verdicts: new Map() };
    const key = JSON.stringify([from, asked, subject.agentId, subject.roles ?? []]);
    let lost = cached.verdicts.get(key);
    if (!lost) cached.verdicts.set(key, (lost = narrowingLosses(set, from, asked, subject)));
    return lost;
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
