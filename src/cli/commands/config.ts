import type { Command } from 'commander';
import { stringify } from 'yaml';
import { checkConfigFile, configFileOf, readConfigText, resolveGatewayConfig, resolveServeConfig, type WardenSpec } from '../../config/index.js';
import { maskSecrets } from '../../config/mask.js';
import { isWardenError, type WardenError } from '../../domain/index.js';
import { EXIT, type CliIo } from '../io.js';
import { formatOf, withFormatOption } from './format.js';

interface Checked {
  name: 'serve' | 'gateway';
  config?: unknown;
  sources?: Record<string, string>;
  error?: WardenError;
}

/** What each command would run with, or why it would not start. */
function resolveEach(spec: WardenSpec | undefined, env: CliIo['env']): Checked[] {
  const out: Checked[] = [];
  const attempt = (name: Checked['name'], run: () => { config: unknown; sources: Record<string, string> }) => {
    try {
      const r = run();
      // Only what was given: the rest is each setting's documented default.
      out.push({ name, config: maskSecrets(r.config), sources: Object.fromEntries(Object.entries(r.sources).filter(([, s]) => s !== 'default')) });
    } catch (err) {
      if (!isWardenError(err)) throw err;
      out.push({ name, error: err });
    }
  };
  attempt('serve', () => resolveServeConfig({}, env, spec));
  // A gateway is checked when the file configures one; serve-only files are the common case.
  if (spec?.gateway) attempt('gateway', () => resolveGatewayConfig({}, env, spec));
  return out;
}

/** `warden config check [file]`: validate a warden.yaml and print what serve and gateway would run with. */
export function registerConfig(program: Command, io: CliIo, done: (code: number) => void): Command {
  const config = program.command('config').description('check warden.yaml and print the configuration serve and gateway resolve from it');
  withFormatOption(
    config
      .command('check')
      .description('validate a configuration file (default WARDEN_CONFIG) and print the resolved configuration, secrets masked; exit 1 on errors')
      .argument('[file]', 'the warden.yaml to check (default: WARDEN_CONFIG; none: the environment and defaults alone)'),
  ).action(async (fileArg: string | undefined, opts: { format?: string; json?: boolean }) => {
    const format = formatOf(opts);
    const file = configFileOf(fileArg, io.env);
    let spec: WardenSpec | undefined;
    if (file !== undefined) {
      const r = checkConfigFile(file, await readConfigText(file));
      if (!r.ok) {
        if (format === 'json') io.stdout(`${JSON.stringify({ file, ok: false, errors: r.errors.map(errorJson) }, null, 2)}\n`);
        else for (const e of r.errors) io.stderr(`error[${e.code}]: ${e.format()}\n`);
        done(EXIT.findings);
        return;
      }
      spec = r.spec;
    }
    const checked = resolveEach(spec, io.env);
    const ok = checked.every((c) => c.error === undefined);
    if (format === 'json') {
      const commands = Object.fromEntries(checked.map((c) => [c.name, c.error ? { ok: false, error: errorJson(c.error) } : { ok: true, config: c.config, sources: c.sources }]));
      io.stdout(`${JSON.stringify({ file: file ?? null, ok, commands }, null, 2)}\n`);
    } else {
      io.stdout(`# ${file ? `${file}: valid` : 'no configuration file (WARDEN_CONFIG is not set)'}; flags override what follows\n`);
      for (const c of checked) {
        if (c.error) {
          io.stderr(`error[${c.error.code}]: ${c.name}: ${c.error.format()}\n`);
          continue;
        }
        const from = Object.entries(c.sources ?? {}).map(([k, s]) => `${k} (${s})`);
        io.stdout(`${stringify({ [c.name]: c.config }, { lineWidth: 0 })}# ${c.name}: ${from.length > 0 ? `set by ${from.join(', ')}` : 'every setting at its default'}\n`);
      }
    }
    done(ok ? EXIT.ok : EXIT.findings);
  });
  return config;
}

function errorJson(e: WardenError): Record<string, unknown> {
  return { code: e.code, message: e.message, ...(e.span ? { span: e.span } : {}), ...(e.help ? { help: e.help } : {}) };
}
