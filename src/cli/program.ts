import { Command, CommanderError, Help } from 'commander';
// Deep imports, not the barrels: `warden --help` loads commander and these few small files only.
import { isWardenError, type ErrorCode } from '../domain/errors.js';
import { listenErrorOf } from '../main/listen-error.js';
import { CliError, EXIT, type CliIo } from './io.js';
import { WARDEN_VERSION } from './version.js';

// Errors of the machinery, not of the command line: the same command may succeed when run again.
const RUNTIME_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['store.unavailable', 'store.migration_failed', 'audit.write_failed', 'audit.backpressure']);

type Done = (code: number) => void;

/** A top-level command: how `warden --help` lists it, and how to register it in full (its modules are imported only then). */
export interface TopCommand {
  name: string;
  /** The line `warden --help` shows for it, as commander would print it once registered. */
  term: string;
  description: string;
  register(program: Command, io: CliIo, done: Done): Promise<Command>;
}

/** The group commands' own description lives here; their subcommands are in their modules. */
function group(program: Command, name: string, description: string): Command {
  return program.command(name).description(description).exitOverride();
}

/**
 * Every top-level command in help order. A command's modules (and through them the store, the
 * detectors, Fastify, the MCP SDK…) are imported only when that command runs or shows its help;
 * test/cli-startup.test.ts keeps `term` and `description` equal to what each module registers.
 */
export const TOP_COMMANDS: readonly TopCommand[] = [
  {
    name: 'serve',
    term: 'serve [options]',
    description: 'serve the decision and audit API',
    async register(program, io, done) {
      (await import('./commands/serve.js')).registerServe(program, io, done);
      return program.commands.at(-1)!;
    },
  },
  {
    name: 'config',
    term: 'config',
    description: 'check warden.yaml and print the configuration serve and gateway resolve from it',
    async register(program, io, done) {
      return (await import('./commands/config.js')).registerConfig(program, io, done);
    },
  },
  {
    name: 'migrate',
    term: 'migrate [options]',
    description: 'apply pending database migrations and exit (serve and gateway also apply them at start)',
    async register(program, io, done) {
      return (await import('./commands/migrate.js')).registerMigrate(program, io, done);
    },
  },
  {
    name: 'token',
    term: 'token',
    description: 'create, list, revoke and rotate API tokens',
    async register(program, io, done) {
      return (await import('./commands/token.js')).registerToken(program, io, done);
    },
  },
  {
    name: 'tenant',
    term: 'tenant',
    description: 'create and list tenants',
    async register(program, io, done) {
      return (await import('./commands/token.js')).registerTenant(program, io, done);
    },
  },
  {
    name: 'login',
    term: 'login [options]',
    description: 'check a token against a server and keep it for WARDEN_URL (in your config directory, mode 0600)',
    async register(program, io, done) {
      return (await import('./commands/token.js')).registerLogin(program, io, done);
    },
  },
  {
    name: 'logout',
    term: 'logout [options]',
    description: 'forget the token kept for a server',
    async register(program, io, done) {
      return (await import('./commands/token.js')).registerLogout(program, io, done);
    },
  },
  {
    name: 'whoami',
    term: 'whoami [options]',
    description: 'show the identity WARDEN_URL sees for your token',
    async register(program, io, done) {
      return (await import('./commands/token.js')).registerWhoami(program, io, done);
    },
  },
  {
    name: 'scan',
    term: 'scan [options] [file]',
    description: 'scan text for prompt injection, tool poisoning, secrets, PII, exfiltration, cryptomining and spam',
    async register(program, io, done) {
      (await import('./commands/scan.js')).registerScan(program, io, done);
      return program.commands.at(-1)!;
    },
  },
  {
    name: 'policy',
    term: 'policy',
    description: 'lint, test and evaluate policies offline; push and pull managed policies',
    async register(program, io, done) {
      const [lint, test, evaluate, sync, replay] = await Promise.all([import('./commands/policy-lint.js'), import('./commands/policy-test.js'), import('./commands/policy-eval.js'), import('./commands/policy-sync.js'), import('./commands/policy-replay.js')]);
      const policy = group(program, 'policy', this.description);
      lint.registerPolicyLint(policy, io, done);
      test.registerPolicyTest(policy, io, done);
      evaluate.registerPolicyEval(policy, io, done);
      sync.registerPolicySync(policy, io, done);
      replay.registerPolicyReplay(policy, io, done);
      return policy;
    },
  },
  {
    name: 'approvals',
    term: 'approvals',
    description: 'list, show, approve and deny approval requests',
    async register(program, io, done) {
      return (await import('./commands/approvals.js')).registerApprovals(program, io, done);
    },
  },
  {
    name: 'abuse',
    term: 'abuse',
    description: 'replay draft abuse rules over recorded events',
    async register(program, io, done) {
      const replay = await import('./commands/abuse-replay.js');
      const abuse = group(program, 'abuse', this.description);
      replay.registerAbuseReplay(abuse, io, done);
      return abuse;
    },
  },
  {
    name: 'cases',
    term: 'cases',
    description: 'list, show, claim, release, decide and annotate abuse cases',
    async register(program, io, done) {
      return (await import('./commands/abuse-cases.js')).registerCases(program, io, done);
    },
  },
  {
    name: 'labels',
    term: 'labels',
    description: 'list, add and remove labels on agents, principals, sessions and other entities',
    async register(program, io, done) {
      return (await import('./commands/abuse-labels.js')).registerLabels(program, io, done);
    },
  },
  {
    name: 'audit',
    term: 'audit',
    description: 'verify, seal, export and follow the audit log',
    async register(program, io, done) {
      const [verify, checkpoints, exporting, tail, destinations, retention] = await Promise.all([
        import('./commands/audit-verify.js'),
        import('./commands/audit-checkpoints.js'),
        import('./commands/audit-export.js'),
        import('./commands/audit-tail.js'),
        import('./commands/audit-destinations.js'),
        import('./commands/audit-retention.js'),
      ]);
      const audit = group(program, 'audit', this.description);
      verify.registerAuditVerify(audit, io, done);
      checkpoints.registerAuditCheckpoints(audit, io, done);
      exporting.registerAuditExport(audit, io, done);
      tail.registerAuditTail(audit, io, done);
      destinations.registerAuditDestinations(audit, io, done);
      retention.registerAuditRetention(audit, io, done);
      return audit;
    },
  },
  {
    name: 'gateway',
    term: 'gateway [options] [command...]',
    description: 'put the checkpoint in front of MCP servers (stdio drop-in or Streamable HTTP)',
    async register(program, io, done) {
      (await import('./commands/gateway.js')).registerGateway(program, io, done);
      return program.commands.at(-1)!;
    },
  },
  {
    name: 'mcp',
    term: 'mcp [options]',
    description: "serve Warden's analyst tools (cases, labels, mitigations, audit search) to your agent over stdio MCP",
    async register(program, io, done) {
      (await import('./commands/mcp.js')).registerMcp(program, io, done);
      return program.commands.at(-1)!;
    },
  },
  {
    name: 'registry',
    term: 'registry',
    description: 'inspect and govern registered MCP servers, tools and agents',
    async register(program, io, done) {
      return (await import('./commands/registry.js')).registerRegistry(program, io, done);
    },
  },
  {
    name: 'client',
    term: 'client',
    description: "print or merge an MCP client's configuration so a server runs behind `warden gateway --stdio`",
    async register(program, io, done) {
      return (await import('./commands/client.js')).registerClient(program, io, done);
    },
  },
  {
    name: 'completion',
    term: 'completion <shell>',
    description: 'print a shell completion script (bash, zsh or fish) for every command and option',
    async register(program, io, done) {
      // The script covers every command, so every command is registered on a program of its own.
      return (await import('./commands/completion.js')).registerCompletion(program, io, done, () => fullProgram(io, done));
    },
  },
];

/** A program with every command registered in full (for `warden completion`). */
async function fullProgram(io: CliIo, done: Done): Promise<Command> {
  const full = new Command('warden').description('Warden: decide, inspect and audit what AI agents do').version(WARDEN_VERSION);
  for (const top of TOP_COMMANDS) await top.register(full, io, done);
  return full;
}

/** The top-level command argv names (`warden audit verify` → `audit`; `warden help audit` → `audit`). */
function chosenCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** Every command under `cmd`, itself included. */
function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/** Runs the `warden` command line and resolves to its exit code; never calls process.exit. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const done = (c: number) => {
    code = c;
  };
  // Commands that do not run are listed by name only: their term stands in for their options.
  const stubTerms = new WeakMap<Command, string>();
  const program = new Command('warden')
    .description('Warden: decide, inspect and audit what AI agents do')
    .version(WARDEN_VERSION)
    .exitOverride()
    .configureHelp({ subcommandTerm: (cmd) => stubTerms.get(cmd) ?? new Help().subcommandTerm(cmd) })
    .showHelpAfterError('(run `warden --help` for usage)');
  const chosen = chosenCommand(argv);
  for (const top of TOP_COMMANDS) {
    if (top.name === chosen) await top.register(program, io, done);
    else stubTerms.set(program.command(top.name).description(top.description), top.term);
  }
  for (const c of allCommands(program)) c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (caught) {
    const err = listenErrorOf(caught);
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
