import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { abuseReplayRules, replayAbuse, type AbuseReplayLog } from '../../abuse/index.js';
import { NO_NUL_PATTERN } from '../../domain/index.js';
import { credentialOf } from '../auth.js';
import { sendProgress, wantsNdjson } from './ndjson-progress.js';

/** Rule files a replay takes, and the largest of them (characters). */
export const MAX_REPLAY_FILES = 64;
export const MAX_REPLAY_FILE = 256 * 1024;

const ReplayBody = Type.Object(
  {
    sources: Type.Array(
      Type.Object(
        {
          file: Type.String({ minLength: 1, maxLength: 1024, pattern: NO_NUL_PATTERN, description: 'the name diagnostics point into (`file:line:col`)' }),
          text: Type.String({ maxLength: MAX_REPLAY_FILE, description: 'YAML: `kind: AbuseRule` (and `AbuseQueue`) documents' }),
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_REPLAY_FILES, description: 'the rule files to replay; none is allowed with `defaultPack`' },
    ),
    defaultPack: Type.Optional(Type.Boolean({ description: 'run the default pack beside the files (default false)' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'the start of the range, inclusive (RFC 3339)' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'the end of the range, exclusive (RFC 3339)' })),
    scope: Type.Optional(Type.String({ maxLength: 1024, description: 'only events at this scope and below' })),
    samples: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'hits shown per rule (default 5)' })),
  },
  { additionalProperties: false },
);

const SampleSchema = Type.Object({
  eventId: Type.String(),
  time: Type.String(),
  scope: Type.String(),
  type: Type.String(),
  entity: Type.String({ description: 'the agent hit (else the principal, else the session)' }),
  features: Type.Record(Type.String(), Type.Number()),
});
const ReportSchema = Type.Object({
  total: Type.Integer({ description: 'events in the range when the replay began' }),
  read: Type.Integer(),
  durationMs: Type.Integer(),
  eventsPerSecond: Type.Integer(),
  rules: Type.Array(
    Type.Object({
      rule: Type.String(),
      mode: Type.Union([Type.Literal('enforce'), Type.Literal('shadow')]),
      synchronous: Type.Boolean(),
      category: Type.String(),
      hits: Type.Integer({ description: 'hits outside the rule\'s cooldown, as the live engine would give verdicts' }),
      entities: Type.Integer({ description: 'distinct agents (or principals, or sessions) hit' }),
      failures: Type.Integer({ description: 'evaluations that failed (a CEL runtime error)' }),
      samples: Type.Array(SampleSchema),
    }),
  ),
  withoutArgs: Type.Integer({ description: 'decisions synchronous rules judged without arguments (not captured, or not readable by the caller)' }),
});

/**
 * `POST /api/v1/abuse/replay`: draft abuse rules over the caller's tenant's recorded events, at the
 * scopes its role reads; nothing is applied or written (src/abuse/replay-service.ts).
 */
export function abuseReplayRoutes(app: FastifyInstance, deps: { audit: AbuseReplayLog }): void {
  app.post<{ Body: Static<typeof ReplayBody> }>(
    '/api/v1/abuse/replay',
    {
      // 64 files of 256 KiB as JSON strings (YAML's newlines and quotes escaped), with room to spare; the schema bounds each file.
      bodyLimit: 20 * 1024 * 1024,
      schema: {
        summary: 'run draft abuse rules over recorded events and report what each would have hit; `Accept: application/x-ndjson` streams `{"progress"}` lines, then `{"report"}`',
        body: ReplayBody,
        response: { 200: ReportSchema },
      },
    },
    async (req, reply) => {
      const c = credentialOf(req);
      const b = req.body;
      const request = { sources: b.sources, defaultPack: b.defaultPack, from: b.from, to: b.to, scope: b.scope, samples: b.samples };
      if (!wantsNdjson(req)) return replayAbuse(deps, c, request);
      // Refused callers and rules that do not compile get their status before the stream begins.
      abuseReplayRules(c, request);
      return sendProgress(req, reply, (onProgress) => replayAbuse(deps, c, request, onProgress));
    },
  );
}
