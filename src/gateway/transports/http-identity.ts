import type { IncomingMessage } from 'node:http';
import { narrowingLosses, policySetFor, type NarrowingLoss, type PolicyProvider } from '../../checkpoint/index.js';
import { WardenError, type ErrorCode, type Principal } from '../../domain/index.js';
import type { Credential, Grant } from '../../identity/index.js';
import type { SessionIdentity } from '../ports.js';
import { printableName } from '../printable-name.js';

/**
 * How an agent the gateway file names is bound: who it acts for and where. Its tokens are `agent`
 * tokens in the identity store (a file's `token` is only imported into it at start).
 */
export interface AgentBinding {
  id: string;
  /** Who the agent acts for; its roles are the operator's statement, a token never carries roles. */
  principal?: Principal | undefined;
  /** The agent's own scope; defaults to the gateway's. */
  scope?: string | undefined;
  /**
   * Subscopes of `scope` the agent may narrow to with `X-Warden-Scope` even where that stops a
   * deny or require_approval rule (or a scan section) applying, because a policy excludes them.
   */
  scopes?: readonly string[] | undefined;
}

/** A request whose credential is refused, or whose scope claim is: the edge answers `status` with the code and message. */
export interface IdentityRefusal {
  refused: { status: 401 | 403 | 503; code: ErrorCode; message: string };
}

/** How HTTP sessions are identified. */
export interface HttpIdentityOptions {
  /** The scope sessions act in unless a narrower one is asked for (or granted). */
  scope: string;
  /** The tenant the gateway serves: a token of another tenant is refused. @default 'default' */
  tenant?: string | undefined;
  /** The policy set in force, read on every request: narrowing is checked against the rules of the moment. */
  policies: Pick<PolicyProvider, 'current' | 'forTenant'>;
  /** The file's agents: principal, scope and listed subscopes of each. An agent with a token and no binding acts at the gateway's scope for its token's principal. @default none */
  agents?: readonly AgentBinding[] | undefined;
  /**
   * The identity store's authentication (`core.identity.authenticate`): it answers from a cache for
   * at most half a second, so each request re-checks its token and a revoked one is refused at once.
   */
  authenticate(bearer: string): Promise<Credential>;
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
/** An agent id an `X-Warden-Agent` header may name: printable ASCII without spaces, as it shows in events as sent. */
const AGENT_ID = /^[!-~]{1,256}$/;

function refused(status: 401 | 403 | 503, code: ErrorCode, message: string): IdentityRefusal {
  return { refused: { status, code, message } };
}

/** Who a credential connects as: an `agent` token its own agent, an `enforcer` the agent it names. */
type Subject = { agentId: string; grant: Grant; enforcer: boolean };

/**
 * Resolves an HTTP request's identity from `Authorization: Bearer <token>`, a token of the identity
 * store: an `agent` token connects as its agent, for its principal, in its tenant; an `enforcer`
 * token connects for the agent it names with `X-Warden-Agent`. The token's grant scope and the
 * agent's binding bound where it acts (the narrower of the two; refused when they do not overlap).
 * An `X-Warden-Scope` header may narrow the scope to a descendant, never widen it, and never reach a
 * scope where a deny or require_approval rule, a scan section or a stricter default that holds at
 * the bound scope no longer applies (`narrowingLosses`), unless the binding's `scopes` lists it.
 * No credential resolves to undefined (401); a refused one to an `IdentityRefusal` (401, 403, or
 * 503 while the store does not answer: new sessions and requests fail closed).
 */
export function createHttpIdentity(opts: HttpIdentityOptions): (req: IncomingMessage) => Promise<SessionIdentity | IdentityRefusal | undefined> {
  const tenant = opts.tenant ?? 'default';
  const bindings = new Map((opts.agents ?? []).map((a) => [a.id, a]));
  const losses = lossCache(opts.policies);

  const subjectOf = (req: IncomingMessage, cred: Credential): Subject | IdentityRefusal => {
    const named = header(req, 'x-warden-agent');
    const agentGrant = cred.grants.find((g) => g.role === 'agent');
    if (agentGrant && cred.agentId !== undefined) {
      if (named !== undefined && named !== cred.agentId) return refused(403, 'auth.forbidden', `this token is agent \`${cred.agentId}\`'s and may not connect as \`${printableName(named)}\`; only an \`enforcer\` token names the agent with \`X-Warden-Agent\``);
      return { agentId: cred.agentId, grant: agentGrant, enforcer: false };
    }
    const enforcerGrant = cred.grants.find((g) => g.role === 'enforcer');
    if (enforcerGrant) {
      if (named === undefined || !AGENT_ID.test(named)) return refused(403, 'auth.forbidden', 'an `enforcer` token connects for an agent it names with the `X-Warden-Agent` header (an id of 1 to 256 printable ASCII characters, no spaces)');
      return { agentId: named, grant: enforcerGrant, enforcer: true };
    }
    const roles = [...new Set(cred.grants.map((g) => g.role))].map((r) => `\`${r}\``).join(', ');
    return refused(403, 'auth.forbidden', `a token of role ${roles} may not connect agents to the gateway; create an \`agent\` token for the agent (\`warden token create --role agent --agent ID\`)`);
  };

  return async (req) => {
    const auth = req.headers.authorization;
    const ua = req.headers['user-agent'];
    const conn = { ...(req.socket.remoteAddress ? { ip: req.socket.remoteAddress } : {}), ...(ua ? { userAgent: ua } : {}) };
    let binding: AgentBinding;
    let base: string;
    let principal: Principal | undefined;
    let via = 'token';
    let token: SessionIdentity['token'];
    if (auth?.startsWith('Bearer ')) {
      let cred: Credential;
      try {
        cred = await opts.authenticate(auth.slice(7).trim());
      } catch (err) {
        if (err instanceof WardenError && err.code === 'auth.invalid_token') return refused(401, 'auth.invalid_token', err.message);
        // Fail closed: without the store no token is known to be valid, neither a new one nor a session's.
        return refused(503, 'store.unavailable', 'the gateway could not check the token because the identity store did not answer; retry shortly');
      }
      if (cred.method !== 'token') return refused(403, 'auth.forbidden', 'the gateway takes Warden tokens (an `agent` token, or an `enforcer` token naming its agent), not an OIDC sign-in');
      if (cred.tenantId !== tenant) return refused(403, 'auth.forbidden', `the token belongs to tenant \`${cred.tenantId}\`, and this gateway serves tenant \`${tenant}\``);
      const subject = subjectOf(req, cred);
      if ('refused' in subject) return subject;
      binding = bindings.get(subject.agentId) ?? { id: subject.agentId };
      const bound = binding.scope ?? opts.scope;
      // The grant and the binding each bound the agent: it acts in the narrower, when one holds the other.
      const granted = subject.grant.scope;
      const narrower = granted === undefined || isUnderScope(bound, granted) ? bound : isUnderScope(granted, bound) ? granted : undefined;
      if (narrower === undefined) {
        return refused(403, 'gateway.scope_refused', `the token of agent \`${subject.agentId}\` is granted at scope \`${granted}\`, which does not overlap the scope \`${bound}\` it is bound to on this gateway`);
      }
      base = narrower;
      // A token names its principal; the binding's roles go with it only when it names the same one, and
      // only when the token was granted over the whole scope the binding covers: an admin of one scope
      // may mint a token naming any agent, but not borrow the roles an operator bound to it elsewhere.
      const own = subject.enforcer ? undefined : cred.principal;
      const coversBinding = granted === undefined || isUnderScope(bound, granted);
      const boundPrincipal = coversBinding ? binding.principal : binding.principal ? { id: binding.principal.id } : undefined;
      principal = own === undefined ? boundPrincipal : boundPrincipal?.id === own ? boundPrincipal : { id: own };
      token = { id: cred.id, name: cred.name };
    } else if (opts.trustAgentHeader) {
      const id = header(req, 'x-warden-agent');
      if (!id) return undefined;
      binding = bindings.get(id) ?? { id };
      base = binding.scope ?? opts.scope;
      principal = binding.principal;
      via = 'header';
    } else {
      return undefined;
    }
    const asked = header(req, 'x-warden-scope');
    if (asked !== undefined && asked !== base) {
      const why = narrowingRefusal(binding, principal, base, asked, (from, a, subject) => losses(tenant, from, a, subject));
      if (why) return refused(403, 'gateway.scope_refused', why);
    }
    return { agentId: binding.id, scope: asked ?? base, principal, via, tenantId: tenant, ...(token ? { token } : {}), ...conn };
  };
}

/** Why an agent bound to `base` may not act in `asked`, or undefined when it may. */
function narrowingRefusal(agent: AgentBinding, principal: Principal | undefined, base: string, asked: string, losses: (from: string, asked: string, subject: { agentId: string; roles?: readonly string[] | undefined }) => NarrowingLoss[]): string | undefined {
  const shown = printableName(asked);
  if (!SCOPE.test(asked)) return `the \`X-Warden-Scope\` header \`${shown}\` is not a scope path such as \`acme/platform/payments\``;
  if (!isUnderScope(asked, base)) return `agent \`${agent.id}\` is bound to scope \`${base}\` and \`X-Warden-Scope\` may only narrow it, not move it to \`${shown}\``;
  // A subscope the binding lists is narrowed to from there: what it lets go of was the operator's choice.
  const listed = (agent.scopes ?? []).filter((s) => isUnderScope(s, base) && isUnderScope(asked, s)).sort((a, b) => b.length - a.length)[0];
  const from = listed ?? base;
  const lost = losses(from, asked, { agentId: agent.id, roles: principal?.roles });
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
function lossCache(policies: Pick<PolicyProvider, 'current' | 'forTenant'>) {
  // Per set object: each tenant's set (files and its managed policies) has its own verdicts.
  const cache = new WeakMap<object, Map<string, NarrowingLoss[]>>();
  return (tenantId: string | undefined, from: string, asked: string, subject: { agentId: string; roles?: readonly string[] | undefined }): NarrowingLoss[] => {
    const set = policySetFor(policies, tenantId);
    let verdicts = cache.get(set);
    if (!verdicts || verdicts.size >= LOSS_CACHE_MAX) cache.set(set, (verdicts = new Map()));
    const key = JSON.stringify([from, asked, subject.agentId, subject.roles ?? []]);
    let lost = verdicts.get(key);
    if (!lost) verdicts.set(key, (lost = narrowingLosses(set, from, asked, subject)));
    return lost;
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
