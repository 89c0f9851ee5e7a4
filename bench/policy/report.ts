import type { CellFailure, CellResult, CellSuccess } from './cell.js';
import type { Equivalence } from './compare.js';

/** Both engines' results for one set size, and how they compared. */
export interface SizeReport {
  rules: number;
  warden: CellResult;
  cedar: CellResult;
  equivalence: Equivalence | undefined;
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a');
function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  const r = a / b;
  return r >= 100 ? int(r) : r.toPrecision(2);
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function engineRow(c: CellResult): string[] {
  if (!c.ok) return [int(c.rules), c.engine, `skipped: ${(c as CellFailure).reason}`, '', '', '', '', '', '', '', '', ''];
  return [
    int(c.rules),
    c.engine,
    fmt(c.loadMs / 1000, 2),
    int(c.latency.count),
    fmt(c.latency.p50Us),
    fmt(c.latency.p99Us),
    int(c.decisionsPerSecond),
    c.candidatesMean !== undefined ? fmt(c.candidatesMean) : '-',
    int(c.memory.rssPeakMiB),
    int(c.memory.heapUsedPeakMiB),
    int(c.memory.rssLoadDeltaMiB),
    int(c.memory.heapLoadDeltaMiB),
  ];
}

/** Per engine and size: load time, latency percentiles, throughput, memory. */
export function engineTable(reports: readonly SizeReport[]): string {
  const header = ['rules', 'engine', 'load s', 'timed decisions', 'p50 µs', 'p99 µs', 'decisions/s', 'candidates', 'RSS peak MiB', 'heapUsed peak MiB', 'RSS Δ load MiB', 'heap Δ load MiB'];
  return table(header, reports.flatMap((r) => [engineRow(r.warden), engineRow(r.cedar)]));
}

function ratioRow(r: SizeReport): string[] {
  const w = r.warden.ok ? r.warden : undefined;
  const c = r.cedar.ok ? r.cedar : undefined;
  const eq = r.equivalence;
  const effects = eq ? Object.entries(eq.effects).sort().map(([k, v]) => `${k} ${v}`).join(', ') : '';
  if (!w || !c) return [int(r.rules), 'n/a', 'n/a', 'n/a', 'n/a', eq ? `${eq.checked} (${effects})` : 'not checked', eq ? String(eq.mismatches.length) : 'n/a'];
  return [
    int(r.rules),
    ratio(w.latency.p50Us, c.latency.p50Us),
    ratio(w.latency.p99Us, c.latency.p99Us),
    ratio(w.decisionsPerSecond, c.decisionsPerSecond),
    ratio(w.loadMs, c.loadMs),
    eq ? `${eq.checked} (${effects})` : 'not checked',
    eq ? String(eq.mismatches.length) : 'n/a',
  ];
}

/** Per size: Warden/Cedar ratios (latency < 1 and throughput > 1 favour Warden) and the equivalence check. */
export function ratioTable(reports: readonly SizeReport[]): string {
  const header = ['rules', 'p50 W/C', 'p99 W/C', 'throughput W/C', 'load W/C', 'actions checked (Warden outcome)', 'mismatches'];
  return table(header, reports.map(ratioRow));
}

/**
 * Warden across sizes: latency against the smallest size measured (how flat the index keeps it),
 * candidates per action, and the machine's load average while the cell ran.
 */
export function scalingTable(reports: readonly SizeReport[]): string {
  const header = ['rules', 'Warden p50 µs', 'Warden p99 µs', 'p50 / p50 smallest', 'p99 / p99 smallest', 'candidates', 'load average (start → end)'];
  const cells = reports.map((r) => (r.warden.ok ? r.warden : undefined));
  const base = cells.find((c) => c !== undefined);
  return table(
    header,
    reports.map((r, i) => {
      const w = cells[i];
      if (!w || !base) return [int(r.rules), 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a'];
      return [
        int(r.rules),
        fmt(w.latency.p50Us),
        fmt(w.latency.p99Us),
        ratio(w.latency.p50Us, base.latency.p50Us),
        ratio(w.latency.p99Us, base.latency.p99Us),
        w.candidatesMean !== undefined ? fmt(w.candidatesMean) : '-',
        `${fmt(w.loadAverage.start, 2)} → ${fmt(w.loadAverage.end, 2)}`,
      ];
    }),
  );
}

/** Per size: what was generated (policies, rules per attachment level) and what Cedar loaded. */
export function setTable(reports: readonly SizeReport[]): string {
  const header = ['rules', 'policies', 'org / group / subgroup / project rules', 'Cedar policies (enforce-mode rules)'];
  return table(
    header,
    reports.map((r) => {
      const w = r.warden.ok ? r.warden : undefined;
      const c = r.cedar.ok ? r.cedar : undefined;
      const levels = w ? `${w.rulesPerLevel.org} / ${w.rulesPerLevel.group} / ${w.rulesPerLevel.subgroup} / ${w.rulesPerLevel.project}` : 'n/a';
      return [int(r.rules), w ? int(w.policies) : 'n/a', levels, c ? int(c.enginePolicies) : 'n/a'];
    }),
  );
}

/** The JSON written to bench/.out/policy.json: everything measured, minus the raw outcome lists. */
export function toJson(meta: Record<string, unknown>, reports: readonly SizeReport[]): string {
  const strip = (c: CellResult) => {
    if (!c.ok) return c;
    const { outcomes: _outcomes, ...rest } = c as CellSuccess;
    return rest;
  };
  const sizes = reports.map((r) => ({
    rules: r.rules,
    warden: strip(r.warden),
    cedar: strip(r.cedar),
    equivalence: r.equivalence ? { checked: r.equivalence.checked, effects: r.equivalence.effects, mismatches: r.equivalence.mismatches.slice(0, 20), mismatchCount: r.equivalence.mismatches.length } : undefined,
  }));
  return `${JSON.stringify({ ...meta, sizes }, null, 2)}\n`;
}
