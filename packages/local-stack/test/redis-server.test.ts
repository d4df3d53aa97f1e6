import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, type RedisServerHandle } from '../src/index.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live processes whose command line names `needle` (redis-server retitles itself `redis-server 127.0.0.1:PORT`). */
async function processesNaming(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle) && /redis/.test(cmdline)) found.push(`${entry} ${cmdline.replaceAll('\0', ' ')}`);
  }
  return found;
}

const started: RedisServerHandle[] = [];
const clients: Redis[] = [];

async function start(...args: Parameters<typeof startRedisServer>): Promise<RedisServerHandle> {
  const handle = await startRedisServer(...args);
  started.push(handle);
  return handle;
}

function connect(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false });
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(started.splice(0).map((h) => h.stop()));
});

describe('startRedisServer', () => {
  it('runs redis-server on loopback with AOF and noeviction, and stop() cleans up', async () => {
    const redis = await start();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const pid = redis.pid!;
    expect(alive(pid)).toBe(true);

    const client = connect(redis.url);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    await client.set('k', 'v');
    // Redis 7 keeps a multi-part AOF in appendonlydir/.
    expect(await readdir(join(redis.dir, 'appendonlydir'))).not.toHaveLength(0);
    client.disconnect();

    await redis.stop();
    expect(alive(pid)).toBe(false);
    expect(redis.pid).toBeUndefined();
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('kill() then restart() keeps keys written before (everysec, after the fsync second)', async () => {
    const redis = await start();
    const client = connect(redis.url);
    await client.set('job:1', 'queued');
    await client.rpush('list', 'a', 'b', 'c');
    client.disconnect();
    await sleep(1_100);

    const pid = redis.pid!;
    await redis.kill();
    expect(alive(pid)).toBe(false);
    expect(redis.pid).toBeUndefined();
    expect(existsSync(redis.dir)).toBe(true);

    await redis.restart();
    expect(redis.pid).not.toBe(pid);
    const again = connect(redis.url);
    expect(await again.get('job:1')).toBe('queued');
    expect(await again.lrange('list', 0, -1)).toEqual(['a', 'b', 'c']);
  });

  it('with appendfsync always, keys survive an immediate kill()', async () => {
    const redis = await start({ appendfsync: 'always' });
    const client = connect(redis.url);
    await client.set('now', '1');
    client.disconnect();
    await redis.kill();
    await redis.restart();
    expect(await connect(redis.url).get('now')).toBe('1');
  });

  it('uses a given port and dir, and keeps the dir on stop()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'darkroom-redis-test-'));
    try {
      const port = await freePort();
      const redis = await start({ port, dir, maxmemoryPolicy: 'allkeys-lru', appendonly: false });
      expect(redis.port).toBe(port);
      expect(redis.dir).toBe(dir);
      const client = connect(redis.url);
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      client.disconnect();
      await redis.stop();
      expect(existsSync(dir)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stop() ends even while Redis refuses SIGTERM during its initial AOF rewrite, and kills the rewrite too', async () => {
    const redis = await start({ appendonly: false, stopTimeoutMs: 500 });
    const client = connect(redis.url);
    await client.eval("for i = 1, 1000 do redis.call('SET', 'k' .. i, 'v') end", 0);
    // 10 ms per key: the first AOF takes ~10 s to write, and until then Redis "can't exit".
    await client.config('SET', 'rdb-key-save-delay', '10000');
    await client.config('SET', 'appendonly', 'yes');
    expect(await client.info('persistence')).toMatch(/aof_rewrite_in_progress:1/);
    client.disconnect();
    const pid = redis.pid!;

    await redis.stop();
    expect(alive(pid)).toBe(false);
    expect(await processesNaming(`:${redis.port}`)).toEqual([]);
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('restart() after a crash-free stop is refused; stop() is idempotent', async () => {
    const redis = await start();
    await redis.stop();
    await redis.stop();
    await expect(redis.restart()).rejects.toThrow(/stopped/);
  });

  it('fails clearly when the executable is not on PATH', async () => {
    await expect(startRedisServer({ command: 'redis-server-not-installed-here' })).rejects.toThrow(
      /redis-server-not-installed-here not found\. `redis-server` must be on PATH.*apt-get install redis-server/,
    );
  });

  it('fails with redis output when the port is taken', async () => {
    const redis = await start();
    await expect(startRedisServer({ port: redis.port })).rejects.toThrow(/exited during startup[\s\S]*(Address already in use|bind)/i);
  });

  it('gives up after startTimeoutMs when the server never answers, and kills it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'darkroom-redis-test-'));
    try {
      const fake = join(dir, 'silent-server.sh');
      await writeFile(fake, '#!/bin/sh\necho "$$" > "$0.pid"\nexec sleep 30\n');
      await chmod(fake, 0o755);
      await expect(startRedisServer({ command: fake, startTimeoutMs: 300 })).rejects.toThrow(/did not answer PING .* within 300 ms/);
      const pid = Number(await readFile(`${fake}.pid`, 'utf8'));
      expect(alive(pid)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
