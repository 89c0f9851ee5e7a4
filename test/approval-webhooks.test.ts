import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseApprovalWebhooks } from '../src/config/index.js';
import type { ApprovalRequest, Decision } from '../src/domain/index.js';
import { startServer, type RunningServer } from '../src/main/index.js';
import { operator } from './support/api-core.js';
import { fakeClock } from './support/fake-clock.js';

// Approval notifications (issue 14, item 4): one signed POST per new request to each webhook whose
// scope covers it, retried on 5xx; the signed one-time links in them answer only after sign-in.
const POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: allow }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: deploys, scope: acme }
spec:
  rules:
    - name: needs-one
      match: { actions: [tool.call], tools: ["deploy.*"] }
      effect: require_approval
      approval: { approvers: { roles: [approver] }, timeout: 30m }
`;
const SECRET = 'hook-secret-for-tests';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver that records every POST and answers with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = []): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
}

const clock = fakeClock(new Date());
const dir = mkdtempSync(join(tmpdir(), 'warden-approval-hooks-'));
let server: RunningServer;
let payments: Awaited<ReturnType<typeof receiver>>;
let flaky: Awaited<ReturnType<typeof receiver>>;
let prefix: Awaited<ReturnType<typeof receiver>>;
const people: Record<string, string> = {};

async function decide(args: Record<string, unknown>, scope = 'acme/payments'): Promise<Decision> {
  const res = await fetch(`${server.url}/api/v1/decide`, {
    method: 'POST',
    headers: { authorization: `Bearer ${people.enforcer}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'tool.call', scope, agent: { id: 'agent-7' }, principal: { id: 'alice' }, tool: { server: 'deploy', name: 'deploy.release' }, args }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Decision;
}

const call = (method: 'GET' | 'POST', url: string, who?: string) =>
  fetch(url, { method, headers: { ...(who ? { authorization: `Bearer ${people[who]}` } : {}), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: '{}' } : {}) });

/** The approve and deny links of a Slack message. */
function linksOf(r: Received): { approve: string; deny: string } {
  const blocks = (JSON.parse(r.body) as { blocks: { type: string; elements?: { url?: string; action_id?: string }[] }[] }).blocks;
  const buttons = blocks.find((b) => b.type === 'actions')!.elements!;
  return { approve: buttons.find((b) => b.action_id === 'warden_approve')!.url!, deny: buttons.find((b) => b.action_id === 'warden_deny')!.url! };
}

beforeAll(async () => {
  payments = await receiver();
  flaky = await receiver([500, 500]);
  prefix = await receiver();
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  writeFileSync(join(policies, 'p.yaml'), POLICY);
  const hooks = join(dir, 'approval-webhooks.yaml');
  writeFileSync(
    hooks,
    [
      `apiVersion: warden.dev/v1\nkind: ApprovalWebhook\nmetadata: { name: payments, scope: acme/payments }\nspec: { url: "${payments.url}", secretEnv: HOOK_SECRET }`,
      `apiVersion: warden.dev/v1\nkind: ApprovalWebhook\nmetadata: { name: flaky, scope: acme/flaky }\nspec: { url: "${flaky.url}", secretEnv: HOOK_SECRET, format: json }`,
      // `acme/pay` is a prefix of `acme/payments` as text, not as a scope: it gets nothing of it.
      `apiVersion: warden.dev/v1\nkind: ApprovalWebhook\nmetadata: { name: elsewhere, scope: acme/pay }\nspec: { url: "${prefix.url}", secretEnv: HOOK_SECRET }`,
    ].join('\n---\n'),
  );
  const config = loadConfig({ port: 0, dataDir: join(dir, 'data'), policies: [policies], logLevel: 'silent', watch: false, approvalWebhooks: hooks }, {});
  server = await startServer(config, { logger: pino({ level: 'silent' }), clock, env: { HOOK_SECRET: SECRET } });
  for (const name of ['alice', 'bob', 'carol']) people[name] = (await server.core.identity.createToken(operator(), { name, role: 'approver', principal: name })).token;
  people.enforcer = (await server.core.identity.createToken(operator(), { name: 'gateway', role: 'enforcer' })).token;
}, 60_000);

afterAll(async () => {
  await server?.close();
  for (const r of [payments, flaky, prefix]) r?.server.close();
});

describe('approval webhooks', () => {
  let first: Decision;

  it('sends one signed, Slack-shaped POST per new request, with the arguments as the digest covers them', async () => {
    first = await decide({ version: '1.2.3', environment: 'production', note: '<!channel> ship it' });
    // The same call again waits on the same request: no second notification.
    await decide({ version: '1.2.3', environment: 'production', note: '<!channel> ship it' });
    await server.core.approvalNotifier.idle();
    expect(payments.got).toHaveLength(1);
    const [msg] = payments.got;
    const ts = msg!.headers['x-warden-timestamp'] as string;
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
    expect(msg!.headers['x-warden-signature']).toBe(`v1=${createHmac('sha256', SECRET).update(`${ts}.${msg!.body}`).digest('hex')}`);
    const body = JSON.parse(msg!.body) as { text: string; blocks: { type: string; text?: { text: string }; fields?: { text: string }[] }[] };
    expect(body.text).toContain('Approval needed: deploy.deploy.release asked by alice via agent agent-7 at acme/payments');
    const text = JSON.stringify(body.blocks);
    // Keys in the digest's order, and agent text escaped: it cannot ping a channel.
    expect(text).toContain('```{\\n  \\"environment\\": \\"production\\",\\n  \\"note\\": \\"&lt;!channel&gt; ship it\\",\\n  \\"version\\": \\"1.2.3\\"\\n}```');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('*Requester*\\n`alice` via agent `agent-7`');
    expect(text).toContain('*Must answer*\\n1 of role `approver` at `acme/payments`');
    expect(text).toContain(first.approvalRequest!.digest);
    const links = linksOf(msg!);
    expect(links.approve.startsWith(`${server.url.replace('localhost', '127.0.0.1')}/api/v1/approvals/${first.approvalRequest!.id}/link?vote=approve&exp=`)).toBe(true);
    expect(links.deny).toContain('vote=deny');
    expect(prefix.got).toHaveLength(0);
  });

  it('cuts long arguments at 2,500 characters with a note', async () => {
    const d = await decide({ blob: 'x'.repeat(4000) });
    await server.core.approvalNotifier.idle();
    expect(payments.got).toHaveLength(2);
    const args = (JSON.parse(payments.got[1]!.body) as { blocks: { text?: { text: string } }[] }).blocks[2]!.text!.text;
    expect(args).toContain(`… cut at 2500 of 4016 characters: \`warden approvals show ${d.approvalRequest!.id}\` prints them whole`);
    expect(args.length).toBeLessThan(3000);
  });

  it('retries a receiver that answers 500 twice: three tries, the JSON form, each signed', async () => {
    const started = performance.now();
    const d = await decide({ version: '9' }, 'acme/flaky');
    // The decision does not wait for the deliveries, whose retries alone take 2.5 s.
    expect(performance.now() - started).toBeLessThan(2000);
    await server.core.approvalNotifier.idle();
    expect(flaky.got).toHaveLength(3);
    for (const r of flaky.got) {
      const ts = r.headers['x-warden-timestamp'] as string;
      expect(r.headers['x-warden-signature']).toBe(`v1=${createHmac('sha256', SECRET).update(`${ts}.${r.body}`).digest('hex')}`);
    }
    const body = JSON.parse(flaky.got[2]!.body) as { type: string; approval: ApprovalRequest; links: { approve: string } };
    expect(body).toMatchObject({ type: 'approval.request.created', approval: { id: d.approvalRequest!.id, subject: { args: { version: '9' } } } });
    expect(body.links.approve).toContain('vote=approve');
    expect(payments.got).toHaveLength(2);
    expect(prefix.got).toHaveLength(0);
  }, 20_000);

  it('a link works once, after authentication, under every approval rule; tampering and another request are refused', async () => {
    const { approve, deny } = linksOf(payments.got[0]!);
    expect((await call('GET', approve)).status).toBe(401);
    expect((await call('POST', approve)).status).toBe(401);
    const preview = await call('GET', approve, 'bob');
    expect(preview.status).toBe(200);
    expect(await preview.json()).toMatchObject({ vote: 'approve', as: 'bob', allowed: true, approval: { id: first.approvalRequest!.id, status: 'pending' } });
    // The requester sees why not; posting is refused with the same code and does not use the link up.
    expect(await (await call('GET', approve, 'alice')).json()).toMatchObject({ allowed: false, refusal: { code: 'approval.self' } });
    const self = await call('POST', approve, 'alice');
    expect(self.status).toBe(403);
    expect(await self.json()).toMatchObject({ error: { code: 'approval.self' } });

    const tampered = approve.replace(/sig=(.)/, (_, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect(await (await call('POST', tampered, 'bob')).json()).toMatchObject({ error: { code: 'approval.link_invalid' } });
    // A deny link's signature on an approve link: the vote is signed too.
    const swapped = approve.replace(/sig=[^&]+/, deny.match(/sig=[^&]+/)![0]);
    expect((await call('POST', swapped, 'bob')).status).toBe(403);
    // The link of one request on another request's id.
    const other = await decide({ version: '4.0.0' });
    const moved = approve.replace(first.approvalRequest!.id, other.approvalRequest!.id);
    const wrong = await call('POST', moved, 'bob');
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ error: { code: 'approval.link_invalid' } });

    const ok = await call('POST', approve, 'bob');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: first.approvalRequest!.id, status: 'approved', votes: [{ principal: 'bob', vote: 'approve' }] });
    const again = await call('POST', approve, 'carol');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'approval.link_used' } });
    const events = await server.core.auditLog.list({ tenant: 'default', type: 'approval.request.approved', limit: 10 });
    expect(events.events[0]).toMatchObject({ target: { name: first.approvalRequest!.id }, details: { digest: first.approvalRequest!.digest } });
  });

  it('an expired link is refused', async () => {
    const { approve } = linksOf(payments.got[1]!);
    clock.advance(31 * 60_000);
    const late = await call('POST', approve, 'bob');
    expect(late.status).toBe(410);
    expect(await late.json()).toMatchObject({ error: { code: 'approval.link_expired' } });
    expect((await call('GET', approve, 'bob')).status).toBe(410);
  });
});

describe('the approval webhooks file', () => {
  const doc = (url: string) => `apiVersion: warden.dev/v1\nkind: ApprovalWebhook\nmetadata: { name: a, scope: acme }\nspec: { url: "${url}", secretEnv: S }\n`;
  it('refuses URLs with credentials and schemes other than http(s) at load time', () => {
    expect(() => parseApprovalWebhooks('f.yaml', doc('https://user:pw@hooks.example.com/x'))).toThrow(/carries credentials/);
    expect(() => parseApprovalWebhooks('f.yaml', doc('ftp://hooks.example.com/x'))).toThrow(/only http and https/);
    expect(() => parseApprovalWebhooks('f.yaml', doc('not a url'))).toThrow(/is not a URL/);
    expect(parseApprovalWebhooks('f.yaml', doc('https://hooks.slack.com/services/T/B/X'))[0]!.spec.url).toBe('https://hooks.slack.com/services/T/B/X');
  });
});
