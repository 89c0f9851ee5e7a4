import { Type, type Static } from '@sinclair/typebox';
import { NO_CONTROL_PATTERN, NO_NUL_PATTERN } from '../../domain/index.js';

// The wire shapes of the registry's records (src/registry/records.ts). The response serializer drops a
// field missing here and writes the rest in this order, which is the order the store builds them in:
// `warden registry … --json` prints the same text through the API as on the database.

const Status = Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('blocked')]);
const Risk = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')]);
const Free = Type.Record(Type.String(), Type.Unknown());

export const ServerRecordSchema = Type.Object({
  name: Type.String(),
  scope: Type.String({ description: 'the scope the server was first discovered in; changing it needs `owner` or `admin` there' }),
  owner: Type.Optional(Type.String()),
  status: Status,
  statusReason: Type.Optional(Type.String()),
  info: Free,
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
});

export const ToolRecordSchema = Type.Object({
  server: Type.String(),
  name: Type.String({ description: "the server's own name for the tool" }),
  owner: Type.Optional(Type.String()),
  risk: Type.Optional(Risk),
  capabilities: Type.Array(Type.String()),
  classification: Type.Optional(Type.String()),
  annotations: Free,
  description: Type.Optional(Type.String()),
  inputSchema: Free,
  status: Status,
  statusReason: Type.Optional(Type.String()),
  pinnedHash: Type.String({ description: 'the hash of the approved (or first seen) definition' }),
  observedHash: Type.String({ description: 'the hash of the definition the server last served; differs from `pinnedHash` after a change' }),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
});

export const AgentRecordSchema = Type.Object({
  id: Type.String(),
  kind: Type.Optional(Type.String()),
  owner: Type.Optional(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('suspended')]),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Name = Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL_PATTERN });
// Owners, classifications and reasons are shown in consoles and terminals: no control characters.
const PRINTABLE = NO_CONTROL_PATTERN;
const Label = Type.String({ minLength: 1, maxLength: 256, pattern: PRINTABLE });

export const ServerParams = Type.Object({ server: Name });
export const ToolParams = Type.Object({ server: Name, tool: Name });
export const AgentParams = Type.Object({ id: Name });
export const ToolsQuery = Type.Object({ server: Type.Optional(Name), status: Type.Optional(Status) }, { additionalProperties: false });

export const ServerApproveBody = Type.Object({ owner: Type.Optional(Label) }, { additionalProperties: false });
export const ToolApproveBody = Type.Object(
  {
    owner: Type.Optional(Label),
    risk: Type.Optional(Risk),
    capabilities: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: NO_NUL_PATTERN }), { maxItems: 64 })),
    classification: Type.Optional(Label),
  },
  { additionalProperties: false },
);
export const BlockBody = Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, pattern: PRINTABLE })) }, { additionalProperties: false });

export type ServerParams = Static<typeof ServerParams>;
export type ToolParams = Static<typeof ToolParams>;
export type AgentParams = Static<typeof AgentParams>;
export type ToolsQuery = Static<typeof ToolsQuery>;
export type ServerApproveBody = Static<typeof ServerApproveBody>;
export type ToolApproveBody = Static<typeof ToolApproveBody>;
export type BlockBody = Static<typeof BlockBody>;
