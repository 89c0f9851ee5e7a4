/**
 * The catalogue of local error codes. A code, once released, is never reused for another meaning.
 * HTTP status is mapped from these codes only in `src/api`.
 */
export const ERROR_CODES = {
  'action.invalid': 'an action failed schema validation',
  'policy.yaml_syntax': 'a policy file is not valid YAML',
  'policy.schema': 'a policy document does not match the v1 shape',
  'policy.cel_compile': 'a `when` condition does not parse or type-check',
  'policy.duplicate_name': 'two policies share one name',
  'policy.duplicate_rule': 'a policy holds two rules with one name',
  'policy.lint': 'a policy breaks a lint rule',
  'policy.io': 'a policy file or directory could not be read',
  'policy_test.schema': 'a policy test file does not match its shape',
  'config.invalid': 'the configuration is invalid',
  'store.unavailable': 'the database could not be reached',
  'store.migration_failed': 'a database migration failed',
  'store.locked': 'another process holds the embedded database; stop it, or share one PostgreSQL database via `--database-url`',
  'audit.cursor_invalid': 'an audit pagination cursor is malformed',
  'audit.backpressure': 'the audit writer queue is full; the caller should retry',
  'audit.write_failed': 'audit events could not be committed',
  'audit.key_invalid': 'the audit signing key is missing or unreadable',
  'audit.verify_failed': 'audit verification found tampering',
  'request.invalid': 'a request failed validation',
} as const;

/** A stable, documented error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in a source document an error sits (1-based line and column). */
export interface SourceSpan {
  file: string;
  line: number;
  col: number;
}

/** A local error with a stable code, an actionable one-sentence message and optional help. */
export class WardenError extends Error {
  readonly code: ErrorCode;
  readonly help: string | undefined;
  readonly span: SourceSpan | undefined;

  constructor(code: ErrorCode, message: string, opts: { help?: string; span?: SourceSpan; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WardenError';
    this.code = code;
    this.help = opts.help;
    this.span = opts.span;
  }

  /** `file:line:col: message` when a span is known, else the message. */
  format(): string {
    const where = this.span ? `${this.span.file}:${this.span.line}:${this.span.col}: ` : '';
    return `${where}${this.message}${this.help ? ` (help: ${this.help})` : ''}`;
  }
}

/** Type guard that works across module copies. */
export function isWardenError(err: unknown): err is WardenError {
  return err instanceof Error && (err as { name?: string }).name === 'WardenError' && 'code' in err;
}
