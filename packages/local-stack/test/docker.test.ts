import { existsSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerAvailable } from '../src/index.ts';
import { dockerEndpoint } from '../src/docker.ts';

const servers: Server[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function fakeEngine(listen: { path: string } | { port: 0; host: '127.0.0.1' }, handler: RequestListener): Promise<Server> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(listen, resolve));
  return server;
}

const pingOk: RequestListener = (req, res) => {
  if (req.url === '/_ping') res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
  else res.writeHead(404).end();
};

describe('dockerAvailable', () => {
  it('answers for the default socket within a few seconds (false where no engine runs)', async () => {
    const t0 = Date.now();
    const available = await dockerAvailable({});
    expect(Date.now() - t0).toBeLessThan(3_000);
    if (!existsSync('/var/run/docker.sock')) expect(available).toBe(false);
  });

  it('is false for a missing socket and for an unusable DOCKER_HOST, without throwing', async () => {
    await expect(dockerAvailable({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' })).resolves.toBe(false);
    await expect(dockerAvailable({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' })).resolves.toBe(false);
    await expect(dockerAvailable({ DOCKER_HOST: 'tcp://[not a host' })).resolves.toBe(false);
  });

  it('is true when an engine answers /_ping on a unix socket', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'darkroom-docker-test-'));
    dirs.push(dir);
    const path = join(dir, 'docker.sock');
    await fakeEngine({ path }, pingOk);
    await expect(dockerAvailable({ DOCKER_HOST: `unix://${path}` })).resolves.toBe(true);
  });

  it('is true when an engine answers on tcp://127.0.0.1, false when /_ping fails', async () => {
    const ok = await fakeEngine({ port: 0, host: '127.0.0.1' }, pingOk);
    await expect(dockerAvailable({ DOCKER_HOST: `tcp://127.0.0.1:${(ok.address() as AddressInfo).port}` })).resolves.toBe(true);
    const bad = await fakeEngine({ port: 0, host: '127.0.0.1' }, (_req, res) => res.writeHead(500).end());
    await expect(dockerAvailable({ DOCKER_HOST: `tcp://127.0.0.1:${(bad.address() as AddressInfo).port}` })).resolves.toBe(false);
  });

  it('gives up after about a second when the engine hangs', async () => {
    const hang = await fakeEngine({ port: 0, host: '127.0.0.1' }, () => undefined);
    const t0 = Date.now();
    await expect(dockerAvailable({ DOCKER_HOST: `tcp://127.0.0.1:${(hang.address() as AddressInfo).port}` })).resolves.toBe(false);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(2_500);
  });
});

describe('dockerEndpoint', () => {
  it('defaults to /var/run/docker.sock', () => {
    expect(dockerEndpoint({})).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerEndpoint({ DOCKER_HOST: '  ' })).toEqual({ socketPath: '/var/run/docker.sock' });
  });

  it('accepts unix sockets and loopback tcp only', () => {
    expect(dockerEndpoint({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual({ socketPath: '/run/user/1000/docker.sock' });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2376' })).toEqual({ host: '127.0.0.1', port: 2376 });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://localhost' })).toEqual({ host: 'localhost', port: 2375 });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://[::1]:2375' })).toEqual({ host: '::1', port: 2375 });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://10.1.2.3:2375' })).toBeUndefined();
    expect(dockerEndpoint({ DOCKER_HOST: 'ssh://user@host' })).toBeUndefined();
  });
});
