/**
 * Webhook receiver down for a while, then up: every event is delivered, every attempt of one
 * event carries the same webhook-id so the receiver can de-duplicate, and each attempt is logged.
 */
import { describe, expect, test } from '../test/fixtures.ts';

const JOBS = 20;

describe('chaos: webhook receiver outage', () => {
  test('every event arrives once the receiver is back, de-duplicable by id', async ({ launch }) => {
    const stack = await launch({ env: { WEBHOOK_RETRY_SCHEDULE: '0,0.5,1,1,1,1,1,1,1,1' } });
    stack.receiver.respondWith(503);
    const ids = await Promise.all(
      Array.from({ length: JOBS }, async (_, i) =>
        String((await stack.generate({ model: 'cogview-4-250304', prompt: `hook ${i}`, size: '512x512', webhook_url: stack.receiver.url })).body.id),
      ),
    );
    await stack.receiver.waitFor((d) => new Set(d.map((x) => x.id)).size === JOBS, 30_000);
    const failedAttempts = stack.receiver.deliveries.length;
    stack.receiver.respondWith(200);
    const okAt = Date.now();
    await stack.receiver.waitFor((d) => new Set(d.filter((x) => x.at >= okAt).map((x) => x.id)).size === JOBS, 30_000);

    const byId = new Map<string, number>();
    for (const d of stack.receiver.deliveries) {
      expect(d.verified).toBe(true);
      byId.set(d.id, (byId.get(d.id) ?? 0) + 1);
    }
    expect([...byId.keys()].sort()).toEqual(ids.map((id) => `msg_${id}_succeeded`).sort());
    const log = await stack.request<{ webhook: { status: string; attempts: number }; deliveries: Array<{ status_code: number }> }>(
      'GET',
      `/v1/images/generations/${ids[0]}/deliveries`,
    );
    expect(log.body.webhook.status).toBe('delivered');
    expect(log.body.deliveries.map((d) => d.status_code)).toContain(503);
    expect(log.body.deliveries.at(-1)!.status_code).toBe(200);
    console.log(`chaos webhooks: events=${JOBS} attempts while down=${failedAttempts} total attempts=${stack.receiver.deliveries.length}`);
  });
});
