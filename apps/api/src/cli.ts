/**
 * `pnpm darkroom …`: operator commands that act on Redis directly (no admin token needed; their
 * actions are audited as admin "cli").
 *   keys create --tenant NAME               issue an API key; prints {"tenant","api_key","webhook_secret","key_id"}
 *   keys revoke --tenant NAME --key ID|PREFIX
 *   tenants list
 *   tenants rotate-secret NAME [--grace-hours H]
 *   tenants rate-limit set NAME --per-second N | tenants rate-limit clear NAME
 *   fleet status | fleet resume             read, or lift, a pause and a drain of the fleet
 *   fleet pause --reason TEXT               pause generation by hand; only `fleet resume` (or the admin route) lifts it
 *   fleet drain [--reason TEXT]             every worker stops taking jobs and finishes those it runs
 *   retry …                                 bulk retry over HTTP with an admin token (cli-retry.ts)
 *   tenants limits …                        a tenant's quotas (cli/tenant-limits-command.ts)
 *   batch …                                 submit and follow batches over HTTP as a tenant (cli/batch-command.ts)
 */
import { parseArgs } from 'node:util';
import { retryCommand } from './cli-retry.ts';
import type { Redis } from 'ioredis';
import type { FleetPaused, FleetResumed, FleetStatus } from '@darkroom/client';
import {
  AmbiguousKeyError,
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
  type Config,
} from '@darkroom/shared';
import { recordAudit } from './admin-audit.ts';
import { BATCH_USAGE, runBatchCommand } from './cli/batch-command.ts';
import { TENANT_LIMITS_USAGE, runTenantLimitsCommand } from './cli/tenant-limits-command.ts';

const USAGE = `usage:
  darkroom keys create --tenant NAME
  darkroom keys revoke --tenant NAME --key ID|PREFIX
  darkroom tenants list
  darkroom tenants rotate-secret NAME [--grace-hours H]   (default 24; 0 ends the old secret at once)
  darkroom tenants rate-limit set NAME --per-second N
  darkroom tenants rate-limit clear NAME
  darkroom fleet status
  darkroom fleet pause --reason TEXT
  darkroom fleet drain [--reason TEXT]
  darkroom fleet resume
  darkroom retry (--filter KEY=VALUE,… | --ids ID,…) [--dry-run] [--resend-webhook]
${TENANT_LIMITS_USAGE}
${BATCH_USAGE}`;

const OPTIONS = {
  tenant: { type: 'string' },
  key: { type: 'string' },
  reason: { type: 'string' },
  'grace-hours': { type: 'string' },
  'per-second': { type: 'string' },
} as const;
type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const print = (value: unknown) => console.log(JSON.stringify(value));
function fail(message: string): number {
  console.error(message);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'retry') return retryCommand(argv.slice(1), process.env, { out: (t) => console.log(t), err: (t) => console.error(t) });
  // Talks HTTP to the API as a tenant: no server configuration, no Redis.
  if (argv[0] === 'batch') return runBatchCommand(argv.slice(1), process.env);
  // `tenants limits …` parses its own options (cli/tenant-limits-command.ts).
  const ownOptions = argv[0] === 'tenants' && argv[1] === 'limits';
  const { positionals, values } = parseArgs({ args: ownOptions ? argv.slice(0, 2) : argv, allowPositionals: true, options: OPTIONS });
  const [group, action] = positionals;
  const config = loadConfig(process.env);
  const redis = createRedis(config.redis, 'client');
  await connectRedis(redis);
  try {
    if (ownOptions) return await runTenantLimitsCommand(argv.slice(2), redis, redisKeys(config.redis.prefix));
    if (group === 'keys' || group === 'tenants') return await tenantCommand(redis, config, positionals, values);
    if (group === 'fleet' && (action === 'status' || action === 'resume' || action === 'pause' || action === 'drain')) return await fleetCommand(redis, config, action, values);
    return fail(USAGE);
  } finally {
    await redis.quit();
  }
}

async function tenantCommand(redis: Redis, config: Config, positionals: string[], values: Values): Promise<number> {
  const keys = redisKeys(config.redis.prefix);
  const tenants = new TenantStore(redis, keys);
  const [group, action, third, fourth] = positionals;
  if (group === 'tenants' && action === 'list') {
    print({ tenants: await tenants.list() });
    return 0;
  }
  const tenant = values.tenant ?? (action === 'rate-limit' ? fourth : third);
  if (!tenant || !TENANT_NAME.test(tenant)) return fail(`a tenant NAME is required and must match ${TENANT_NAME.source}\n${USAGE}`);
  if (group === 'keys' && action === 'create') {
    print(await tenants.createKey(tenant));
    return 0;
  }
  if (!(await tenants.exists(tenant))) return fail(`no tenant ${tenant}`);
  if (group === 'keys' && action === 'revoke') {
    const key = values.key ?? fourth;
    if (!key) return fail(`--key ID|PREFIX is required\n${USAGE}`);
    try {
      const revoked = await tenants.revokeKey(tenant, key);
      if (!revoked) return fail(`tenant ${tenant} has no key with id or prefix ${key}`);
      await recordAudit(redis, keys, 'cli', 'tenant.key.revoke', { tenant, key: revoked });
      print({ tenant, revoked: true, key: revoked });
      return 0;
    } catch (err) {
      if (err instanceof AmbiguousKeyError) return fail(err.message);
      throw err;
    }
  }
  if (group === 'tenants' && action === 'rotate-secret') {
    const hours = Number(values['grace-hours'] ?? '24');
    if (!Number.isFinite(hours) || hours < 0 || hours > 720) return fail('--grace-hours must be a number of hours from 0 to 720');
    const rotated = await tenants.rotateWebhookSecret(tenant, Math.round(hours * 3_600_000));
    if (!rotated) return fail(`no tenant ${tenant}`);
    await recordAudit(redis, keys, 'cli', 'tenant.webhook_secret.rotate', { tenant, previous_valid_until: rotated.previous_valid_until });
    print({ tenant, ...rotated });
    return 0;
  }
  if (group === 'tenants' && action === 'rate-limit' && (third === 'set' || third === 'clear')) {
    const perSecond = third === 'clear' ? null : Number(values['per-second']);
    if (perSecond !== null && !(Number.isInteger(perSecond) && perSecond >= 1)) return fail('--per-second N is required: a whole number, at least 1');
    await tenants.setRateLimit(tenant, perSecond);
    await recordAudit(redis, keys, 'cli', 'tenant.rate_limit.set', { tenant, per_second: perSecond });
    print({ tenant, rate_limit: perSecond === null ? null : { per_second: perSecond } });
    return 0;
  }
  return fail(USAGE);
}

async function fleetCommand(redis: Redis, config: Config, action: 'status' | 'resume' | 'pause' | 'drain', values: Values): Promise<number> {
  const reason = pauseReasonSchema.safeParse(values.reason ?? '');
  if (action === 'pause' && !reason.success) return fail('--reason TEXT is required (1-500 characters)');
  if (action === 'drain' && values.reason !== undefined && !reason.success) return fail('--reason TEXT must be 1-500 characters');
  const keys = redisKeys(config.redis.prefix);
  const queues = createQueues(redis, config);
  try {
    const fleet = new FleetState(redis, keys, queues.generate);
    // Pause, resume and status print what the admin routes answer, typed by the admin document.
    if (action === 'pause' && reason.success) {
      const state = await fleet.pauseManually(reason.data);
      await recordAudit(redis, keys, 'cli', 'fleet.pause', { reason: state.message });
      print({ paused: true, reason: state } satisfies FleetPaused);
      return 0;
    }
    if (action === 'drain') {
      const drain = await fleet.drain(reason.success ? reason.data : undefined, 'cli');
      await recordAudit(redis, keys, 'cli', 'fleet.drain', { reason: drain.reason ?? null });
      print({ draining: true, drain });
      return 0;
    }
    if (action === 'resume') {
      const was = await fleet.resume();
      const drainWas = await fleet.undrain();
      await recordAudit(redis, keys, 'cli', 'fleet.resume', { was: was ?? null, drain_was: drainWas ?? null });
      print({ paused: false, draining: false, resumed: Boolean(was ?? drainWas), was: was ?? null, drain_was: drainWas ?? null } satisfies FleetResumed);
      return 0;
    }
    const [state, drain] = [await fleet.read(), await fleet.readDrain()];
    // The admin route's answer, less what only BullMQ's active counts give (drained, active).
    print({ paused: Boolean(state), reason: state ?? null, draining: Boolean(drain), drain: drain ?? null } satisfies Omit<FleetStatus, 'drained' | 'active'>);
    return 0;
  } finally {
    await queues.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
