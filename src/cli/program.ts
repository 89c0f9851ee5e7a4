import { Command, CommanderError } from 'commander';
import { isWardenError, type ErrorCode } from '../domain/index.js';
import { registerPolicyEval } from './commands/policy-eval.js';
import { registerPolicyLint } from './commands/policy-lint.js';
import { registerPolicyTest } from './commands/policy-test.js';
import { registerAuditCheckpoints } from './commands/audit-checkpoints.js';
import { registerAuditDestinations } from './commands/audit-destinations.js';
import { registerAuditRetention } from './commands/audit-retention.js';
import { registerAuditExport } from './commands/audit-export.js';
import { registerAuditTail } from './commands/audit-tail.js';
import { registerAuditVerify } from './commands/audit-verify.js';
import { registerServe } from './commands/serve.js';
import { registerScan } from './commands/scan.js';
import { registerGateway } from './commands/gateway.js';
import { registerRegistry } from './commands/registry.js';
import { CliError, EXIT, type CliIo } from './io.js';

const VERSION = '0.1.0';

// Errors of the machinery, not of the command line: the same command may succeed when run again.
const RUNTIME_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['store.unavailable', 'store.migration_failed', 'audit.write_failed', 'audit.backpressure']);

/** Runs the `warden` command line and resolves to its exit code; never calls process.exit. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const done = (c: number) => {
    code = c;
  };
  const program = new Command('warden')
    .description('Warden: decide, inspect and audit what AI agents do')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run `warden --help` for usage)');
  registerServe(program, io, done);
  registerScan(program, io, done);
  const policy = program.command('policy').description('lint, test and evaluate policies offline').exitOverride();
  registerPolicyLint(policy, io, done);
  registerPolicyTest(policy, io, done);
  registerPolicyEval(policy, io, done);
  const audit = program.command('audit').description('verify, seal, export and follow the audit log').exitOverride();
  registerAuditVerify(audit, io, done);
  registerAuditCheckpoints(audit, io, done);
  registerAuditExport(audit, io, done);
  registerAuditTail(audit, io, done);
  registerAuditDestinations(audit, io, done);
  registerAuditRetention(audit, io, done);
  registerGateway(program, io, done);
  const registry = registerRegistry(program, io, done);
  for (const c of [...program.commands, ...policy.commands, ...audit.commands, ...registry.commands]) c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are requested output, not failures.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      io.stderr(`error: ${err.message}\n`);
      return err.exitCode;
    }
    if (isWardenError(err)) {
      io.stderr(`error[${err.code}]: ${err.format()}\n`);
      return RUNTIME_CODES.has(err.code) ? EXIT.runtime : EXIT.usage;
    }
    io.stderr(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.runtime;
  }
}
