import { request, type RequestOptions } from 'node:http';

const DEFAULT_SOCKET = '/var/run/docker.sock';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Where to reach the Docker engine API, or undefined for a DOCKER_HOST this package will not use. */
export function dockerEndpoint(env: Record<string, string | undefined>): Pick<RequestOptions, 'socketPath' | 'host' | 'port'> | undefined {
  const dockerHost = env.DOCKER_HOST?.trim();
  if (!dockerHost) return { socketPath: DEFAULT_SOCKET };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(`http://${dockerHost.slice('tcp://'.length)}`);
    } catch {
      return undefined;
    }
    // Only a local engine: test stacks never reach over the network.
    if (!LOOPBACK.has(url.hostname)) return undefined;
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 2375) };
  }
  return undefined;
}

/**
 * True only if a Docker engine answers `GET /_ping` with 200 within `timeoutMs`
 * (DOCKER_HOST unix:// or tcp:// on loopback, else /var/run/docker.sock). Never throws.
 */
export async function dockerAvailable(env: Record<string, string | undefined>, timeoutMs = 1_000): Promise<boolean> {
  const endpoint = dockerEndpoint(env);
  if (!endpoint) return false;
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const req = request({ ...endpoint, method: 'GET', path: '/_ping', agent: false }, (res) => {
      res.resume();
      finish(res.statusCode === 200);
    });
    req.once('error', () => finish(false));
    req.end();
  });
}
