import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';
import { pingRedis } from './redis-ping.ts';
import { killGroup, killOnExit, releaseOnExit } from './children.ts';
import { makeTempDir, removeDir } from './temp-dir.ts';

export interface RedisServerOptions {
  port?: number;
  /** Executable to run; default `redis-server` looked up on PATH. */
  command?: string;
  /** Data directory (AOF lives here); default: a new temp dir, removed by stop(). */
  dir?: string;
  /** Default true. */
  appendonly?: boolean;
  /** Default 'everysec'; 'always' makes every acknowledged write survive kill() without waiting. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Default 'noeviction' (BullMQ requires it). */
  maxmemoryPolicy?: string;
  /** How long to wait for PING after (re)start; default 10 s. */
  startTimeoutMs?: number;
  /** How long stop()/restart() wait after SIGTERM before SIGKILL; default 5 s. */
  stopTimeoutMs?: number;
  /** More `--name value` arguments, after the ones above (e.g. `--cluster-enabled yes`). */
  extraArgs?: string[];
}

export interface RedisServerHandle {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  dir: string;
  /** The current process's pid; undefined while it is not running. */
  pid: number | undefined;
  /**
   * SIGTERM, wait for exit (at most stopTimeoutMs, then SIGKILL), remove the data dir if it was
   * created here. Idempotent, and always ends: Redis refuses SIGTERM while it writes its first AOF.
   */
  stop(): Promise<void>;
  /** SIGKILL, wait for exit. The data dir (AOF) is kept, for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port and dir (the AOF reloads); resolves once PING answers. */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';
const OUTPUT_TAIL_BYTES = 4_096;

const NOT_ON_PATH =
  '`redis-server` must be on PATH to run a local Redis without Docker ' +
  '(e.g. `apt-get install redis-server` or `brew install redis`), or set REDIS_URL to an existing Redis.';

/** Spawns `redis-server` from PATH bound to 127.0.0.1 and resolves once it answers PING. */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await makeTempDir('redis'));
  if (!ownsDir) await mkdir(dir, { recursive: true });
  try {
    // A port picked by freePort() can be taken before redis binds it; then pick another.
    for (let attempt = 1; ; attempt++) {
      const port = opts.port ?? (await freePort(HOST));
      try {
        return await startOn(port, dir, ownsDir, opts);
      } catch (err) {
        const portTaken = err instanceof Error && /Address already in use/i.test(err.message);
        if (opts.port !== undefined || !portTaken || attempt >= 3) throw err;
      }
    }
  } catch (err) {
    if (ownsDir) await removeDir(dir);
    throw err;
  }
}

async function startOn(port: number, dir: string, ownsDir: boolean, opts: RedisServerOptions): Promise<RedisServerHandle> {
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const command = opts.command ?? 'redis-server';
  const args = [
    '--port', String(port),
    '--bind', HOST,
    '--dir', dir,
    '--appendonly', opts.appendonly === false ? 'no' : 'yes',
    '--appendfsync', opts.appendfsync ?? 'everysec',
    '--save', '',
    '--maxmemory-policy', opts.maxmemoryPolicy ?? 'noeviction',
    '--daemonize', 'no',
    '--logfile', '',
    ...(opts.extraArgs ?? []),
  ];

  const stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;

  const launch = async (): Promise<void> => {
    // Its own process group, so a kill reaches the AOF-rewrite child it may have forked too.
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);

    let exitInfo: string | undefined;
    let spawnError: Error | undefined;
    exited = new Promise<void>((resolve) => {
      proc.once('error', (err) => {
        spawnError = err;
        resolve();
      });
      proc.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${String(code)}`;
        resolve();
      });
    }).finally(() => {
      releaseOnExit(proc);
      if (child === proc) child = undefined;
    });
    child = proc;
    killOnExit(proc);

    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (spawnError) {
        const enoent = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
        throw new Error(enoent ? `${command} not found. ${NOT_ON_PATH}` : `could not spawn ${command}: ${spawnError.message}`, {
          cause: spawnError,
        });
      }
      if (exitInfo !== undefined) {
        throw new Error(`${command} exited during startup (${exitInfo}) on ${HOST}:${port}, dir ${dir}:\n${output.trim()}`);
      }
      const answeredBy = await pingRedis(HOST, port);
      if (answeredBy !== undefined && answeredBy === proc.pid) return;
      if (Date.now() > deadline) {
        killGroup(proc, 'SIGKILL');
        await exited;
        throw new Error(
          `${command} did not answer PING on ${HOST}:${port} within ${startTimeoutMs} ms ` +
            `(${NOT_ON_PATH})\n${output.trim()}`,
        );
      }
      await sleep(25);
    }
  };

  const signal = (sig: NodeJS.Signals): void => {
    const proc = child;
    if (proc && proc.exitCode === null && proc.signalCode === null) killGroup(proc, sig);
  };
  const kill = async (): Promise<void> => {
    signal('SIGKILL');
    await exited;
  };
  // Redis ignores a SIGTERM that arrives while it writes its initial AOF ("can't exit"), for good.
  const terminate = async (): Promise<void> => {
    signal('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(stopTimeoutMs, false, { ref: false })]);
    if (!done) await kill();
  };

  await launch();

  let stopping: Promise<void> | undefined;
  return {
    url: `redis://${HOST}:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid;
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        await terminate();
        if (ownsDir) await removeDir(dir);
      })();
      return stopping;
    },
    kill,
    async restart() {
      if (stopped) throw new Error('redis-server handle was stopped; start a new one');
      await terminate();
      await launch();
    },
  };
}
