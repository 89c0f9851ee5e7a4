import { Type, type Static } from '@sinclair/typebox';

/** Where a version is in its review: drafts are edited by new versions, never in place. */
export const VERSION_STATUSES = ['draft', 'in_review', 'active', 'superseded', 'archived'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

/** One reviewer's word on a version: an approval counts towards activation, a comment does not. */
export const ReviewSchema = Type.Object(
  {
    reviewer: Type.String({ description: 'the person (credential principal, else the credential) who reviewed' }),
    verdict: Type.Union([Type.Literal('approve'), Type.Literal('comment')]),
    comment: Type.Optional(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type Review = Static<typeof ReviewSchema>;

/** A managed policy: a named YAML source of one tenant (one or more `Policy`/`ScopeSettings` documents). */
export const PolicyRecordSchema = Type.Object(
  {
    name: Type.String(),
    source: Type.Union([Type.Literal('managed'), Type.Literal('file')], { description: '`file`: read from `--policies`, read-only here' }),
    scopes: Type.Array(Type.String(), { description: 'every scope its documents apply to' }),
    activeVersion: Type.Union([Type.Integer(), Type.Null()]),
    latestVersion: Type.Integer({ description: 'the `If-Match` value a change must carry (`ETag`)' }),
    archived: Type.Boolean(),
    createdAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type PolicyRecord = Static<typeof PolicyRecordSchema>;

/** An immutable version: its YAML exactly as submitted, and where it is in review. */
export const PolicyVersionSchema = Type.Object(
  {
    name: Type.String(),
    number: Type.Integer({ minimum: 1 }),
    hash: Type.String({ description: '`sha256:` of the YAML bytes' }),
    path: Type.String({ description: 'the file name `warden policy pull` writes it to' }),
    author: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    status: Type.Union(VERSION_STATUSES.map((s) => Type.Literal(s))),
    rollbackOf: Type.Optional(Type.Integer({ description: 'the version whose content a rollback restored' })),
    submittedBy: Type.Optional(Type.String()),
    submittedAt: Type.Optional(Type.String({ format: 'date-time' })),
    activatedBy: Type.Optional(Type.String()),
    activatedAt: Type.Optional(Type.String({ format: 'date-time' })),
    reviews: Type.Array(ReviewSchema),
    source: Type.String({ description: 'the YAML as submitted' }),
  },
  { additionalProperties: false },
);
export type PolicyVersion = Static<typeof PolicyVersionSchema>;

/** A tenant's active managed source, as the compiled set is built from. */
export interface ActiveSource {
  tenantId: string;
  name: string;
  number: number;
  hash: string;
  path: string;
  source: string;
}

/** What a new version is made of. */
export interface NewVersion {
  name: string;
  source: string;
  hash: string;
  path: string;
  scopes: readonly string[];
  author: string;
  now: Date;
  /** The latest version number the writer saw; `null`: the policy must not exist yet; undefined: no check. */
  expectLatest: number | null | undefined;
  /** `active` only for a rollback (content that was active before) or where no review is required. */
  status: 'draft' | 'active';
  rollbackOf?: number;
}

/**
 * Checks, inside the transaction that changes what is active, the tenant's active sources as they
 * will be once it commits; throwing rolls the change back. Changes of one tenant's active set are
 * serialized, so two activations that each compile alone can never together leave a set that does not.
 */
export type ActiveCheck = (active: readonly ActiveSource[]) => void;

/** Where managed policies are kept (src/store implements it). Every method acts in one tenant. */
export interface PolicyRepo {
  list(tenantId: string): Promise<PolicyRecord[]>;
  get(tenantId: string, name: string): Promise<PolicyRecord | undefined>;
  versions(tenantId: string, name: string): Promise<PolicyVersion[]>;
  version(tenantId: string, name: string, n: number): Promise<PolicyVersion | undefined>;
  /** Creates the next version (and the policy on its first); refused as stale when `expectLatest` does not hold. */
  createVersion(tenantId: string, v: NewVersion, check?: ActiveCheck): Promise<{ number: number; release: string | undefined }>;
  /** Moves a version from one of `from` to `to`; false when it was in none of them (a concurrent change). */
  transition(tenantId: string, name: string, n: number, from: readonly VersionStatus[], to: VersionStatus, by: string, now: Date): Promise<boolean>;
  /** Records a review; a second approval by one reviewer is kept once. */
  review(tenantId: string, name: string, n: number, r: Review): Promise<void>;
  /**
   * Makes version n the active one (the previous active becomes superseded) and updates the
   * tenant's release, in one transaction; refused as stale when `expectLatest` does not hold or n
   * is no longer in one of `from`.
   */
  activate(tenantId: string, name: string, n: number, from: readonly VersionStatus[], by: string, now: Date, expectLatest: number | undefined, check?: ActiveCheck): Promise<{ release: string }>;
  /** Archives the policy: no version stays active; history is kept. */
  archive(tenantId: string, name: string, by: string, now: Date, expectLatest: number | undefined, check?: ActiveCheck): Promise<{ release: string }>;
  /** Active sources, of one tenant or all. */
  activeSources(tenantId?: string): Promise<ActiveSource[]>;
  /** Every tenant's release (the hash of its active versions). */
  releases(): Promise<Map<string, string>>;
}
