/**
 * Child processes of a benchmark run: each is a real process (the API, a worker, a baseline),
 * so the RSS it reports is its own and not the harness's. `ready` resolves on the first output
 * line that matches; stop() sends SIGTERM, then SIGKILL after a grace period. Every child started
 * here is SIGKILLed if the harness exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The first output line that matched `readyWhen`. */
  readonly ready: Promise<string>;
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss(): Promise<number>;
  output(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
// Ctrl-C or a kill of the harness: 'exit' handlers do not run on a signal unless the process exits itself.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

export interface SpawnOptions {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** Without it, `ready` resolves at once (the caller checks readiness itself). */
  readyWhen?: RegExp;
  readyTimeoutMs?: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
}

export function spawnNode(opts: SpawnOptions): Child {
  const proc = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...opts.args], {
    env: { PATH: process.env.PATH ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => live.delete(proc));
  let tail = '';
  let pending = '';
  let onLine: ((line: string) => void) | undefined;
  const readyWhen = opts.readyWhen;
  const ready = !readyWhen ? Promise.resolve('') : new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.name}: not ready within ${opts.readyTimeoutMs ?? 30_000} ms:\n${tail}`)), opts.readyTimeoutMs ?? 30_000);
    onLine = (line) => {
      if (!readyWhen.test(line)) return;
      clearTimeout(timer);
      onLine = undefined;
      resolve(line);
    };
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited (code ${String(proc.exitCode)}, signal ${String(proc.signalCode)}):\n${tail}`));
    });
  });
  ready.catch(() => undefined);
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-8_000);
    if (!onLine) return;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine?.(line);
  };
  proc.stdout.on('data', collect);
  proc.stderr.on('data', collect);
  return {
    name: opts.name,
    process: proc,
    ready,
    peakRss: () => peakRss(proc.pid),
    output: () => tail,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(15_000, false)]);
      if (!done) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** VmHWM of /proc/<pid>/status: the process's peak RSS since it started (Linux). */
export async function peakRss(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}
