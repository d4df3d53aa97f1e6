import type { ChildProcess } from 'node:child_process';

// Servers started here must not outlive the process that started them (a crashed test run
// would otherwise leave redis-server holding ports). 'exit' handlers may only do sync work: kill().
const live = new Set<ChildProcess>();
let hooked = false;

/** Signals the child's whole process group when it leads one (spawned detached), else the child. */
export function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (proc.pid === undefined) throw new Error('not spawned');
    process.kill(-proc.pid, signal);
  } catch {
    proc.kill(signal);
  }
}

function killAll(): void {
  for (const proc of live) killGroup(proc, 'SIGKILL');
  live.clear();
}

export function killOnExit(proc: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
  }
  live.add(proc);
}

export function releaseOnExit(proc: ChildProcess): void {
  live.delete(proc);
}
