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
