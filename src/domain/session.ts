import { Type, type Static } from '@sinclair/typebox';
import { ActionKindSchema } from './action.js';
import { EffectSchema } from './decision.js';
import { FINDING_CATEGORIES } from './finding.js';

/**
 * One earlier action of an agent session, as policies see it in `session.history`: what was asked
 * (kind, tool and its registry capabilities), what was decided, and what the detectors found in its
 * input and, once it returned, in its output. Values only, no arguments or results.
 */
export const SessionStepSchema = Type.Object(
  {
    /** The decision event of the step. */
    eventId: Type.String(),
    at: Type.String(),
    kind: ActionKindSchema,
    tool: Type.Object({ server: Type.String(), name: Type.String() }, { additionalProperties: false }),
    capabilities: Type.Array(Type.String()),
    effect: EffectSchema,
    findings: Type.Array(
      Type.Object(
        {
          category: Type.Union(FINDING_CATEGORIES.map((c) => Type.Literal(c))),
          type: Type.String(),
          score: Type.Number(),
          source: Type.Union([Type.Literal('input'), Type.Literal('output')]),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SessionStep = Static<typeof SessionStepSchema>;

/** What a condition sees of the session an action belongs to. */
export const SessionViewSchema = Type.Object(
  {
    /** Empty when the action names no session. */
    id: Type.String(),
    /** Earlier steps, oldest first, at most the configured number. */
    history: Type.Array(SessionStepSchema),
    labels: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type SessionView = Static<typeof SessionViewSchema>;

/**
 * The names of the live labels on an action's agent, principal and session (the abuse platform's
 * labels), as conditions see them in `agent.labels`, `principal.labels` and `session.labels`.
 */
export interface EntityLabels {
  readonly agent: readonly string[];
  readonly principal: readonly string[];
  readonly session: readonly string[];
}
