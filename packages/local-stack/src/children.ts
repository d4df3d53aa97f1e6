import type { ChildProcess } from 'node:child_process';

// Servers started here must not outlive the process that started them (a crashed test run
// would otherwise leave redis-server holding ports). 'exit' handlers may only do sync work: kill().
const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const proc of live) proc.kill('SIGKILL');
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
