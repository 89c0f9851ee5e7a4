import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WardenError, type ApprovalRequest, type Clock } from '../domain/index.js';
import { personOf, type Credential } from '../identity/index.js';
import { refusalOf, type Refusal } from './eligibility.js';
import type { ApprovalService } from './service.js';

export type LinkVote = 'approve' | 'deny';

/** What a link carries besides the request id in its path. */
export interface LinkQuery {
  vote: LinkVote;
  /** Unix seconds after which the link no longer works: the request's own expiry. */
  exp: number;
  /** base64url HMAC-SHA256 over `id|vote|digest|exp` with the tenant's link key. */
  sig: string;
}

/** Where each tenant's link key and the used links are kept (src/store implements it). */
export interface ApprovalLinkStore {
  /** The tenant's HMAC key, made (random, 32 bytes) on first use; every replica reads the same one. */
  key(tenantId: string): Promise<Buffer>;
  /** Records a link's use; false when that link was used already. */
  claim(tenantId: string, use: { sigHash: string; requestId: string; vote: LinkVote; usedBy: string; at: string }): Promise<boolean>;
  /** Gives a claim back: the answer it was for was refused, so the link still works for someone who may answer. */
  release(tenantId: string, sigHash: string): Promise<void>;
}

/** What following a link would do for the caller, without doing it (`GET …/link`). */
export interface LinkPreview {
  approval: ApprovalRequest;
  vote: LinkVote;
  /** When the link stops working (ISO). */
  linkExpiresAt: string;
  /** The person the answer would be recorded for. */
  as: string;
  /** Whether that person may give this answer now; else why not. */
  allowed: boolean;
  refusal?: Refusal;
  /** What `POST` to the same URL does. */
  effect: string;
}

/** Signed one-time approve/deny links: made for notifications, checked and used by the API. */
export interface ApprovalLinks {
  /** The absolute link that answers `r` with `vote` (`${publicUrl}/api/v1/approvals/<id>/link?…`). */
  url(r: ApprovalRequest, vote: LinkVote): Promise<string>;
  /** Checks the link for the caller and says what posting it would do; throws the link's coded errors. */
  preview(c: Credential, id: string, q: LinkQuery): Promise<LinkPreview>;
  /** Checks the link, marks it used, and answers as the caller: every eligibility rule of `answer` applies. */
  use(c: Credential, id: string, q: LinkQuery, comment: string | undefined): Promise<ApprovalRequest>;
}

export interface ApprovalLinksDeps {
  store: ApprovalLinkStore;
  service: Pick<ApprovalService, 'get' | 'answer'>;
  clock: Clock;
  /** The URL people reach the API by, without a trailing slash; read per link so a port chosen at listen is seen. */
  publicUrl: () => string;
}

const b64url = (b: Buffer): string => b.toString('base64url');

/** The signature of one link: binds the request, the vote, the exact call (digest) and the expiry. */
export function linkSignature(key: Buffer, id: string, vote: LinkVote, digest: string, exp: number): string {
  return b64url(createHmac('sha256', key).update(`${id}|${vote}|${digest}|${exp}`).digest());
}

/** Builds the link signer and checker over the key store and the approvals service. */
export function createApprovalLinks(deps: ApprovalLinksDeps): ApprovalLinks {
  const { store, service, clock } = deps;
  // Each tenant's key once per process: it changes only when an operator deletes its row.
  const keys = new Map<string, Promise<Buffer>>();
  const keyOf = (tenantId: string): Promise<Buffer> => {
    let k = keys.get(tenantId);
    if (!k) {
      k = store.key(tenantId);
      k.catch(() => keys.delete(tenantId));
      keys.set(tenantId, k);
    }
    return k;
  };

  /** The request, once the link is shown to be Warden's own for it, unexpired. */
  const verified = async (c: Credential, id: string, q: LinkQuery): Promise<ApprovalRequest> => {
    // Read first (as the caller: a request it may not see is a 404 like any other), for the digest.
    const r = await service.get(c, id);
    const expected = Buffer.from(linkSignature(await keyOf(r.tenantId), r.id, q.vote, r.digest, q.exp));
    const given = Buffer.from(q.sig);
    // Constant time: the comparison says nothing about how much of a guessed signature was right.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new WardenError('approval.link_invalid', `this link does not verify for approval request \`${id}\`: it was altered, or made for another request, answer or call`, {
        help: 'open the request with `warden approvals show <id>` and answer it there, or use the link exactly as it was sent',
      });
    }
    if (clock.now().getTime() >= q.exp * 1000) {
      throw new WardenError('approval.link_expired', `this link for approval request \`${id}\` expired at ${new Date(q.exp * 1000).toISOString()}`, { help: 'a request that is still pending can be answered with `warden approvals approve|deny <id>`' });
    }
    return r;
  };

  return {
    async url(r, vote) {
      const exp = Math.floor(Date.parse(r.expiresAt) / 1000);
      const sig = linkSignature(await keyOf(r.tenantId), r.id, vote, r.digest, exp);
      return `${deps.publicUrl()}/api/v1/approvals/${r.id}/link?${new URLSearchParams({ vote, exp: String(exp), sig }).toString()}`;
    },

    async preview(c, id, q) {
      const r = await verified(c, id, q);
      const refusal = refusalOf(r, c, clock.now());
      return {
        approval: r,
        vote: q.vote,
        linkExpiresAt: new Date(q.exp * 1000).toISOString(),
        as: personOf(c),
        allowed: refusal === undefined,
        ...(refusal ? { refusal } : {}),
        effect: `POST to this same URL ${q.vote === 'approve' ? 'approves' : 'denies'} approval request \`${r.id}\` as \`${personOf(c)}\`; the link then stops working`,
      };
    },

    async use(c, id, q, comment) {
      await verified(c, id, q);
      const sigHash = createHash('sha256').update(q.sig).digest('hex');
      const at = clock.now().toISOString();
      if (!(await store.claim(c.tenantId, { sigHash, requestId: id, vote: q.vote, usedBy: personOf(c), at }))) {
        throw new WardenError('approval.link_used', `this link for approval request \`${id}\` was used already; each link answers once`, { help: '`warden approvals show <id>` shows the answers given' });
      }
      try {
        return await service.answer(c, id, q.vote, comment);
      } catch (err) {
        // Someone who may not answer (the requester, a second vote) must not burn the link for the approver it was sent to.
        await store.release(c.tenantId, sigHash).catch(() => {});
        throw err;
      }
    },
  };
}
