/** How a benchmark run measures and reports: medians of repeated runs, each beside its same-run baseline. */

export interface Settings {
  quick: boolean;
  /** Runs per figure; the median is reported. */
  runs: number;
}

export function settings(env: Record<string, string | undefined>): Settings {
  const quick = ['1', 'true', 'yes'].includes((env.BENCH_QUICK ?? '').toLowerCase());
  return { quick, runs: quick ? 1 : 3 };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** One line of the table: what Darkroom did, what the baseline did in the same run, and the target. */
export interface Row {
  benchmark: string;
  metric: string;
  unit: string;
  darkroom: number | null;
  baseline: number | null;
  baselineName: string;
  /** darkroom / baseline, when both exist. */
  ratio: number | null;
  target: string;
  met: boolean | null;
  /** Every run's value, Darkroom's then the baseline's. */
  runs?: { darkroom: number[]; baseline: number[] };
  note?: string;
}

export function row(r: Omit<Row, 'ratio' | 'met'> & { met?: boolean | null; ratio?: number | null }): Row {
  const ratio = r.ratio !== undefined ? r.ratio : r.darkroom !== null && r.baseline !== null && r.baseline !== 0 ? r.darkroom / r.baseline : null;
  return { ...r, ratio, met: r.met ?? null };
}

const fmt = (n: number | null, unit: string): string => {
  if (n === null || Number.isNaN(n)) return '-';
  if (unit === 'MB') return (n / 1024 / 1024).toFixed(0);
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
};

export function table(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.benchmark,
    `${r.metric} (${r.unit})`,
    fmt(r.darkroom, r.unit),
    `${fmt(r.baseline, r.unit)}${r.baselineName ? ` ${r.baselineName}` : ''}`,
    r.ratio === null ? '-' : `${(r.ratio * 100).toFixed(0)}%`,
    r.target,
    r.met === null ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const header = ['benchmark', 'metric', 'darkroom', 'baseline (same run)', 'ratio', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) => `| ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

/** A progress line on stderr, so a long run shows where it is. */
export function progress(message: string): void {
  console.error(`[bench]   ${message}`);
}
