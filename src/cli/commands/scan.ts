import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Finding } from '../../domain/index.js';
import { DETECTOR_NAMES, SCAN_SOURCES, type DetectorName, type ScanSource } from '../../detect/index.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { allowedHostsOption } from '../allowed-hosts.js';
import { formatOf } from './format.js';
import { createDetectors } from '../../main/detectors.js';

interface ScanOptions {
  format?: string;
  json?: boolean;
  jsonl?: boolean;
  source: string;
  threshold?: string;
  minScore?: string;
  detectors?: string;
  allowHost?: string[];
}

/** What `warden scan` reads besides its io: stdin, replaceable in tests. */
export interface ScanDeps {
  readStdin?: () => Promise<string>;
}

async function processStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseSource(value: unknown, where: string): ScanSource {
  if (typeof value === 'string' && (SCAN_SOURCES as readonly string[]).includes(value)) return value as ScanSource;
  throw new CliError(`${where}: unknown source \`${String(value)}\`; use one of ${SCAN_SOURCES.map((s) => `\`${s}\``).join(', ')}`);
}

function parseScore(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new CliError(`\`${flag}\` must be a number from 0 to 1, got \`${value}\``);
  return n;
}

/** `warden scan [file|-]`: runs the detectors on a text (or JSONL of texts); exit 1 when a finding reaches the threshold. */
export function registerScan(program: Command, io: CliIo, done: (code: number) => void, deps: ScanDeps = {}): void {
  program
    .command('scan')
    .description('scan text for prompt injection, tool poisoning, secrets, PII, exfiltration, cryptomining and spam')
    .argument('[file]', 'file to scan; `-` or nothing reads stdin')
    .option('--format <format>', 'human or json (default: human)')
    .option('--json', 'the same as --format json')
    .option('--jsonl', 'read one {"id","text","source"} object a line; write one {"id","findings"} line per input')
    .option('--source <source>', `where the text came from: ${SCAN_SOURCES.join(', ')}`, 'prompt')
    .option('--threshold <score>', 'exit 1 when a finding scores at least this (default: any reported finding)')
    .option('--min-score <score>', "report findings scoring at least this (default: each detector's own floor: the injection model's tuned threshold, 0.5 for the rest)")
    .option('--detectors <list>', `comma-separated subset of ${DETECTOR_NAMES.join(', ')}`)
    .option('--allow-host <host...>', 'hosts (and their subdomains) images, links and uploads may reach (default: WARDEN_ALLOW_HOSTS)')
    .action(async (file: string | undefined, opts: ScanOptions) => {
      const threshold = opts.threshold === undefined ? undefined : parseScore(opts.threshold, '--threshold');
      const minScore = opts.minScore === undefined ? undefined : parseScore(opts.minScore, '--min-score');
      const source = parseSource(opts.source, '--source');
      const allowedHosts = allowedHostsOption(opts.allowHost, io);
      let detectors: DetectorName[] | undefined;
      if (opts.detectors !== undefined) {
        detectors = opts.detectors.split(',').map((d) => d.trim()) as DetectorName[];
        const bad = detectors.find((d) => !DETECTOR_NAMES.includes(d));
        if (bad !== undefined) throw new CliError(`unknown detector \`${bad}\`; use ${DETECTOR_NAMES.join(', ')}`);
      }
      let text: string;
      try {
        text = file === undefined || file === '-' ? await (deps.readStdin ?? processStdin)() : await readFile(resolve(io.cwd, file), 'utf8');
      } catch (err) {
        throw new CliError(`cannot read \`${file}\`: ${err instanceof Error ? err.message : String(err)}`);
      }
      const set = createDetectors({ ...(minScore !== undefined ? { minScore } : {}), ...(detectors ? { detectors } : {}), allowedHosts });
      // Every reported finding already reached its detector's floor; --threshold asks for more.
      const hit = (fs: readonly Finding[]) => fs.some((f) => f.score >= (threshold ?? 0));
      if (opts.jsonl) {
        let code: number = EXIT.ok;
        const lines = text.split('\n');
        for (let i = 0; i < lines.length; i++) {
          const line = lines[i]!.trim();
          if (line === '') continue;
          let row: { id?: unknown; text?: unknown; source?: unknown };
          try {
            row = JSON.parse(line) as typeof row;
            if (typeof row !== 'object' || row === null || typeof row.text !== 'string') throw new Error('needs a string `text`');
          } catch (err) {
            io.stdout(`${JSON.stringify({ id: null, line: i + 1, error: `line ${i + 1}: ${err instanceof Error ? err.message : String(err)}` })}\n`);
            code = EXIT.usage;
            continue;
          }
          let src: ScanSource;
          try {
            src = row.source === undefined ? source : parseSource(row.source, `line ${i + 1}`);
          } catch (err) {
            io.stdout(`${JSON.stringify({ id: row.id ?? null, line: i + 1, error: (err as Error).message })}\n`);
            code = EXIT.usage;
            continue;
          }
          const findings = set.scanText(row.text as string, src).findings;
          io.stdout(`${JSON.stringify({ id: row.id ?? null, findings })}\n`);
          if (code === EXIT.ok && hit(findings)) code = EXIT.findings;
        }
        done(code);
        return;
      }
      const r = set.scanText(text, source);
      if (formatOf(opts) === 'json') io.stdout(`${JSON.stringify({ chars: r.chars, windows: r.windows, findings: r.findings }, null, 2)}\n`);
      else {
        for (const f of r.findings) io.stdout(`${f.start}-${f.end}\t${f.category}/${f.type}\t${f.score.toFixed(2)} ${f.severity}\t${f.evidence}\n`);
        io.stdout(`${r.findings.length} finding(s) in ${r.chars} chars (${r.windows} window(s))\n`);
      }
      done(hit(r.findings) ? EXIT.findings : EXIT.ok);
    });
}
