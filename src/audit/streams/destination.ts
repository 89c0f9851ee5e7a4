import { Type, type Static } from '@sinclair/typebox';
import { AuditCategorySchema, compileGlobs, ScopePathSchema, type AuditEvent } from '../../domain/index.js';

const Retry = Type.Object(
  {
    /** Attempts per batch before its first event is dead-lettered. @default 8 */
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    /** First backoff; doubles per attempt, with jitter. @default 500 */
    initialBackoffMs: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Backoff ceiling. @default 60000 */
    maxBackoffMs: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** A `kind: AuditDestination` document: where matching events stream to. */
export const DestinationDocSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('AuditDestination'),
    metadata: Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 64 }) }, { additionalProperties: false }),
    spec: Type.Object(
      {
        /** Events of this scope and below; all scopes when absent. */
        scope: Type.Optional(ScopePathSchema),
        tenant: Type.Optional(Type.String({ minLength: 1 })),
        categories: Type.Optional(Type.Array(AuditCategorySchema, { minItems: 1 })),
        /** Globs over the event type, e.g. `tool.call.*`. */
        types: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
        batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        retry: Type.Optional(Retry),
        webhook: Type.Optional(
          Type.Object(
            {
              url: Type.String({ pattern: '^https?://' , description: 'an http(s) URL' }),
              /** Environment variable holding the HMAC-SHA256 secret. */
              secretEnv: Type.String({ minLength: 1 }),
              timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120000 })),
            },
            { additionalProperties: false },
          ),
        ),
        nats: Type.Optional(
          Type.Object(
            {
              servers: Type.String({ minLength: 1 }),
              stream: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
              /** Subjects are `<subjectPrefix>.<tenant>.<category>`. */
              subjectPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type DestinationDoc = Static<typeof DestinationDocSchema>;

/** A transport that delivers an ordered batch or throws; it must be safe to call again with the same batch. */
export interface Transport {
  deliver(destination: string, tenantId: string, events: readonly AuditEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** The filter of a destination, compiled once. */
export function destinationFilter(doc: DestinationDoc): (e: AuditEvent) => boolean {
  const { scope, categories, types } = doc.spec;
  const typeOf = types ? compileGlobs(types) : undefined;
  return (e) =>
    (scope === undefined || e.scope === scope || e.scope.startsWith(`${scope}/`)) &&
    (categories === undefined || categories.includes(e.category)) &&
    (typeOf === undefined || typeOf(e.type));
}
