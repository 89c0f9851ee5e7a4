import type { Command } from 'commander';
import { completionScript, SHELLS, type Shell } from '../completion-scripts.js';
import { CliError, EXIT, type CliIo } from '../io.js';

/** `warden completion <shell>`: a completion script made from the whole program (`fullProgram` registers every command). */
export function registerCompletion(program: Command, io: CliIo, done: (code: number) => void, fullProgram: () => Promise<Command>): Command {
  return program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish) for every command and option')
    .argument('<shell>', SHELLS.join('|'))
    .action(async (shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) throw new CliError(`unknown shell \`${shell}\`: use ${SHELLS.map((s) => `\`${s}\``).join(', ')}`, EXIT.usage);
      io.stdout(completionScript(shell as Shell, await fullProgram()));
      done(EXIT.ok);
    });
}
