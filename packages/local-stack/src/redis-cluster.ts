/**
 * A local Redis Cluster for tests: `nodes` redis-server processes with cluster mode on, each on a
 * free loopback port in its own temp dir, joined with `redis-cli --cluster create` (masters
 * only, no replicas), resolved once every node reports cluster_state:ok.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from './redis-server.ts';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Default 3, the fewest masters `redis-cli --cluster create` accepts. */
  nodes?: number;
  /** How long to wait for cluster_state:ok; default 20 s. */
  readyTimeoutMs?: number;
}

export interface RedisClusterHandle {
  /** One URL per node, redis://127.0.0.1:PORT; any of them seeds a cluster client. */
  urls: string[];
  ports: number[];
  /** Stops every node and removes their dirs. Idempotent. */
  stop(): Promise<void>;
}

async function clusterState(port: number): Promise<string> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    const info = (await client.call('CLUSTER', 'INFO')) as string;
    return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    client.disconnect();
  }
}

export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const count = opts.nodes ?? 3;
  const servers: RedisServerHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < count; i++) {
      servers.push(
        await startRedisServer({
          appendonly: false,
          extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'],
        }),
      );
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
    for (;;) {
      const states = await Promise.all(servers.map((s) => clusterState(s.port)));
      if (states.every((state) => state === 'ok')) break;
      if (Date.now() > deadline) throw new Error(`redis cluster not ready: ${states.join(', ')}`);
      await sleep(100);
    }
  } catch (err) {
    await stop();
    const enoent = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw enoent ? new Error('`redis-cli` must be on PATH to create a local Redis Cluster', { cause: err }) : err;
  }
  let stopping: Promise<void> | undefined;
  return {
    urls: servers.map((s) => s.url),
    ports: servers.map((s) => s.port),
    stop: () => (stopping ??= stop()),
  };
}
