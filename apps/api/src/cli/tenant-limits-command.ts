/**
 * `darkroom tenants limits set NAME [--max-waiting N] [--daily-images N]` and
 * `darkroom tenants limits get NAME`: a tenant's quotas (tenant-limits.ts), written to Redis
 * directly like `keys create`. `none` removes a limit.
 */
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { TENANT_NAME, TenantLimitStore, type RedisKeys, type TenantLimits } from '@darkroom/shared';

export const TENANT_LIMITS_USAGE = `  darkroom tenants limits set NAME [--max-waiting N|none] [--daily-images N|none]
  darkroom tenants limits get NAME`;

function limitValue(raw: string | undefined, flag: string): number | null | undefined | Error {
  if (raw === undefined) return undefined;
  if (raw === 'none') return null;
  return /^\d{1,12}$/.test(raw) ? Number(raw) : new Error(`${flag} must be a whole number or "none" (got ${JSON.stringify(raw)})`);
}

export async function runTenantLimitsCommand(args: string[], redis: Redis, keys: RedisKeys): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { 'max-waiting': { type: 'string' }, 'daily-images': { type: 'string' } } });
  const [action, tenant] = positionals;
  if ((action !== 'set' && action !== 'get') || !tenant) {
    console.error(`usage:\n${TENANT_LIMITS_USAGE}`);
    return 2;
  }
  if (!TENANT_NAME.test(tenant)) {
    console.error(`NAME must match ${TENANT_NAME.source}`);
    return 2;
  }
  const store = new TenantLimitStore(redis, keys);
  if (action === 'get') {
    console.log(JSON.stringify({ tenant, ...(await store.get(tenant)), images_today: await store.imagesOn(tenant, Date.now()) }));
    return 0;
  }
  const maxWaiting = limitValue(values['max-waiting'], '--max-waiting');
  const dailyImages = limitValue(values['daily-images'], '--daily-images');
  for (const v of [maxWaiting, dailyImages]) {
    if (v instanceof Error) {
      console.error(v.message);
      return 2;
    }
  }
  if (maxWaiting === undefined && dailyImages === undefined) {
    console.error('give --max-waiting and/or --daily-images');
    return 2;
  }
  const limits: Partial<TenantLimits> = { max_waiting: maxWaiting as number | null | undefined, daily_images: dailyImages as number | null | undefined };
  console.log(JSON.stringify({ tenant, ...(await store.set(tenant, limits)) }));
  return 0;
}
