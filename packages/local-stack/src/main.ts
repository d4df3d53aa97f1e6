/**
 * Local servers from the command line, each until SIGINT/SIGTERM:
 *   node src/main.ts s3 [--port 4569] [--dir .darkroom/s3] [--bucket darkroom]
 *   node src/main.ts redis [--port 6379] [--dir .darkroom/redis]
 * Prints one JSON line {"event":"listening",...} once the server is ready.
 */
import { parseArgs } from 'node:util';
import { startRedisServer } from './redis-server.ts';
import { startS3Server } from './s3-server.ts';

function usage(): never {
  console.error('usage: node src/main.ts <s3|redis> [--port N] [--dir PATH] [--bucket NAME]');
  process.exit(2);
}

function portOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) usage();
  return port;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { port: { type: 'string' }, dir: { type: 'string' }, bucket: { type: 'string' } },
  });
  const port = portOf(values.port);
  let stop: () => Promise<void>;
  let listening: Record<string, unknown>;

  switch (positionals[0]) {
    case 's3': {
      const s3 = await startS3Server({ port, directory: values.dir, bucket: values.bucket });
      stop = () => s3.stop();
      listening = {
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        region: s3.region,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: s3.forcePathStyle,
        directory: s3.directory,
      };
      break;
    }
    case 'redis': {
      const redis = await startRedisServer({ port, dir: values.dir });
      stop = () => redis.stop();
      listening = { url: redis.url, dir: redis.dir, pid: redis.pid };
      break;
    }
    default:
      usage();
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => {
        console.log(JSON.stringify({ event: 'stopped', signal }));
        process.exit(0);
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  // Only now: a caller may signal as soon as it reads this line, and before the handlers above
  // exist a SIGINT would kill the process and leave the server running.
  console.log(JSON.stringify({ event: 'listening', ...listening }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
