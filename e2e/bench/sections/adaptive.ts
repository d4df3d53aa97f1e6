/**
 * Issue 11's adaptive-concurrency bench (bench/adaptive.ts, a vitest file because it drives the
 * in-process stack of the e2e fixtures), run against this run's Redis and S3. Its own table is
 * printed as it comes; the row here says whether it passed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { row, type Row } from '../harness/figures.ts';
import type { Services } from '../harness/services.ts';

const E2E = fileURLToPath(new URL('../../', import.meta.url));

export async function adaptive(services: Services): Promise<Row[]> {
  const env = {
    ...process.env,
    REDIS_URL: services.redisUrl,
    S3_ENDPOINT: services.s3.endpoint,
    S3_BUCKET: services.s3.bucket,
    S3_REGION: services.s3.region,
    S3_ACCESS_KEY_ID: services.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  };
  await services.clean();
  const child = spawn('pnpm', ['exec', 'vitest', 'run', '--project', 'bench'], { cwd: E2E, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return [
    row({
      benchmark: 'adaptive concurrency (issue 11)',
      metric: 'utilisation and 1302s by ceiling: table above',
      unit: '',
      darkroom: null,
      baseline: null,
      baselineName: '',
      target: '',
      met: code === 0,
    }),
  ];
}
