/**
 * Exit codes every command uses: 0 ok; 1 denied, findings or failed checks; 2 a usage or input
 * error (the user can fix the command); 3 a runtime failure (database down, upstream gone).
 */
export const EXIT = { ok: 0, findings: 1, usage: 2, runtime: 3 } as const;

/** Where a command writes and what it reads from its surroundings; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /**
   * Whether stderr is a terminal: progress output (a bar, a counter rewritten in place with `\r` and
   * `\x1b[K`) is written only then, so logs and pipes get plain lines. @default false
   */
  stderrIsTTY?: boolean;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); long-running commands await it. */
  untilStopped(): Promise<void>;
}

/** The io's stderr as the terminal stream a progress bar (cli-progress) draws on: it writes through `io`, like every command. */
export function terminalOf(io: CliIo): NodeJS.WritableStream {
  return { isTTY: true, write: (chunk: string | Uint8Array) => (io.stderr(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')), true) } as unknown as NodeJS.WritableStream;
}

/** A command failed in a way the user can fix; carries the exit code to use. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

// Text from agents, servers and other users; control characters could forge extra lines, recolor a
// terminal, set its title or plant hyperlinks, and bidi overrides could reorder what is read.
// The set of src/domain/control-chars.ts, spelled here so `warden --help` loads no further module.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `s` with every control character (line breaks included) written as a `\uXXXX` escape. */
export function printable(s: string): string {
  return s.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Human output with each line made printable; the line breaks between them stay. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
