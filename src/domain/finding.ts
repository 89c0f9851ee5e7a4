import { Type, type Static } from '@sinclair/typebox';

export const FINDING_CATEGORIES = ['prompt_injection', 'tool_poisoning', 'secret', 'pii', 'exfiltration', 'cryptomining', 'spam'] as const;

/** What a detector saw, with the span it saw it in; `evidence` is already redacted. */
export const FindingSchema = Type.Object(
  {
    category: Type.Union(FINDING_CATEGORIES.map((c) => Type.Literal(c))),
    type: Type.String(),
    score: Type.Number({ minimum: 0, maximum: 1 }),
    severity: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')]),
    start: Type.Integer({ minimum: 0 }),
    end: Type.Integer({ minimum: 0 }),
    detector: Type.String(),
    evidence: Type.String(),
    path: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Finding = Static<typeof FindingSchema>;
