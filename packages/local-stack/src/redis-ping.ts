import { connect } from 'node:net';

/**
 * The process id of the Redis server at host:port once it answers PING with +PONG (so not while
 * it is still LOADING the AOF), or undefined if it does not within `timeoutMs`. The pid tells
 * whether it is the server we spawned and not another one already holding the port.
 */
export async function pingRedis(host: string, port: number, timeoutMs = 500): Promise<number | undefined> {
  return new Promise<number | undefined>((resolve) => {
    let buf = Buffer.alloc(0);
    const socket = connect({ host, port });
    const done = (pid: number | undefined): void => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('end', () => done(undefined));
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const firstEnd = buf.indexOf('\r\n');
      if (firstEnd < 0) return;
      if (buf.toString('latin1', 0, firstEnd) !== '+PONG') return done(undefined);
      const headerEnd = buf.indexOf('\r\n', firstEnd + 2);
      if (headerEnd < 0) return;
      const header = buf.toString('latin1', firstEnd + 2, headerEnd);
      const length = /^\$(\d+)$/.exec(header)?.[1];
      if (length === undefined) return done(undefined);
      const body = buf.subarray(headerEnd + 2);
      if (body.length < Number(length)) return;
      const pid = /^process_id:(\d+)\r?$/m.exec(body.toString('latin1', 0, Number(length)))?.[1];
      done(pid === undefined ? undefined : Number(pid));
    });
  });
}
