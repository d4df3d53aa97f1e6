/**
 * `pnpm darkroom …`: operator commands that act on Redis directly.
 *   keys create --tenant NAME   issue an API key; prints {"tenant","api_key","webhook_secret"}
 *   fleet status | fleet resume  read or lift a fleet-wide pause of generation (as GET /admin/fleet, POST /admin/fleet/resume print)
 *   fleet pause --reason TEXT    pause generation by hand; only `fleet resume` (or the admin route) lifts it
 */
import { parseArgs } from 'node:util';
import type { FleetPaused, FleetResumed, FleetStatus } from '@darkroom/client';
import {
  ConfigError,
  FleetState,
  TENANT_NAME,
  pauseReasonSchema,
  TenantStore,
  connectRedis,
  createQueues,
  createRedis,
  loadConfig,
  redisKeys,
} from '@darkroom/shared';

const USAGE = `usage:
  darkroom keys create --tenant NAME
  darkroom fleet status
  darkroom fleet pause --reason TEXT
  darkroom fleet resume`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { tenant: { type: 'string' }, reason: { type: 'string' } } });
  const [group, action] = positionals;
  const config = loadConfig(process.env);
  const redis = createRedis(config.redis.url, 'client');
  await connectRedis(redis);
  const keys = redisKeys(config.redis.prefix);
  try {
    if (group === 'keys' && action === 'create') {
      const tenant = values.tenant;
      if (!tenant || !TENANT_NAME.test(tenant)) {
        console.error(`--tenant NAME is required and must match ${TENANT_NAME.source}`);
        return 2;
      }
      console.log(JSON.stringify(await new TenantStore(redis, keys).createKey(tenant)));
      return 0;
    }
    if (group === 'fleet' && (action === 'status' || action === 'resume' || action === 'pause')) {
      const reason = pauseReasonSchema.safeParse(values.reason ?? '');
      if (action === 'pause' && !reason.success) {
        console.error('--reason TEXT is required (1-500 characters)');
        return 2;
      }
      const queues = createQueues(redis, config);
      try {
        const fleet = new FleetState(redis, keys, queues.generate);
        // The same answers as the admin routes, typed by the admin document's generated types.
        if (action === 'pause' && reason.success) {
          console.log(JSON.stringify({ paused: true, reason: await fleet.pauseManually(reason.data) } satisfies FleetPaused));
          return 0;
        }
        if (action === 'resume') {
          const was = await fleet.resume();
          console.log(JSON.stringify({ paused: false, resumed: Boolean(was), was: was ?? null } satisfies FleetResumed));
          return 0;
        }
        const state = await fleet.read();
        console.log(JSON.stringify({ paused: Boolean(state), reason: state ?? null } satisfies FleetStatus));
        return 0;
      } finally {
        await queues.close();
      }
    }
    console.error(USAGE);
    return 2;
  } finally {
    await redis.quit();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
