import { createHash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';

async function objectSha256(stack: { s3: S3Client }, bucket: string, key: string) {
  const res = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from(await res.Body!.transformToByteArray());
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, type: res.ContentType };
}

describe('core pipeline', () => {
  test('a request becomes a stored image, a verified webhook and a readable result', async ({ launch, sim }) => {
    const stack = await launch();
    sim.configure({ contentFilterLevel: 2 });
    const created = await stack.generate({
      model: 'cogView-4-250304',
      prompt: 'a lighthouse at dusk',
      size: '768x1344',
      quality: 'hd',
      user_id: 'user-123456',
      webhook_url: stack.receiver.url,
      metadata: { sku: 'A-1', tags: ['x'] },
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'queued', object: 'image.generation' });
    expect(created.body.id).toMatch(/^gen_[0-9a-f]{32}$/);
    expect(created.headers.location).toBe(`/v1/images/generations/${String(created.body.id)}`);
    const id = String(created.body.id);

    const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    const issued = sim.issuedImages();
    expect(issued).toHaveLength(1);
    await expectPaid(sim, { jobs: 1, undelivered: 0 });

    const result = done.result as Record<string, unknown>;
    expect(result).toMatchObject({
      bucket: stack.config.s3.bucket,
      sha256: issued[0]!.sha256,
      bytes: issued[0]!.bytes,
      content_type: 'image/png',
      width: 768,
      height: 1344,
    });
    const stored = await objectSha256(stack, String(result.bucket), String(result.key));
    expect(stored.sha256).toBe(issued[0]!.sha256);
    expect(stored.type).toBe('image/png');

    const viaUrl = await fetch(String(result.url));
    expect(viaUrl.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await viaUrl.arrayBuffer())).digest('hex')).toBe(issued[0]!.sha256);

    expect(done.request).toEqual({ model: 'cogview-4-250304', prompt: 'a lighthouse at dusk', size: '768x1344', quality: 'hd', user_id: 'user-123456' });
    expect(done.metadata).toEqual({ sku: 'A-1', tags: ['x'] });
    expect(done.created).toBe(issued[0]!.created);
    expect(done.content_filter).toEqual([{ role: 'assistant', level: 2 }]);
    expect(done.attempts).toBe(1);
    expect(done.error).toBeNull();
    expect(Date.parse(String(done.completed_at))).toBeGreaterThanOrEqual(Date.parse(String(done.created_at)));

    const [delivery] = await stack.receiver.waitFor((d) => d.length >= 1);
    expect(delivery!.verified).toBe(true);
    expect(delivery!.id).toBe(`msg_${id}_succeeded`);
    expect(delivery!.payload!.type).toBe('image.generation.succeeded');
    const { result: hookResult, ...hookRest } = delivery!.payload!.data as Record<string, unknown>;
    const { result: getResult, ...getRest } = done;
    expect(hookRest).toEqual({ ...getRest, updated_at: hookRest.updated_at });
    expect({ ...(hookResult as object), url: undefined }).toEqual({ ...(getResult as object), url: undefined });

    const log = await stack.request<{ deliveries: Array<Record<string, unknown>> }>('GET', `/v1/images/generations/${id}/deliveries`);
    await expect.poll(async () => (await stack.request<{ webhook: { status: string } }>('GET', `/v1/images/generations/${id}/deliveries`)).body.webhook.status).toBe('delivered');
    expect(log.status).toBe(200);
  });

  test('defaults fill quality and size; the image has the default size', async ({ launch, sim }) => {
    const stack = await launch();
    const created = await stack.generate({ model: 'cogview-4-250304', prompt: 'defaults' });
    expect(created.status).toBe(202);
    expect(created.body.request).toEqual({ model: 'cogview-4-250304', prompt: 'defaults', quality: 'standard', size: '1024x1024' });
    const done = await stack.waitForStatus(String(created.body.id), ['succeeded', 'failed']);
    expect(done.result).toMatchObject({ width: 1024, height: 1024 });
    expect(sim.issuedImages()[0]).toMatchObject({ width: 1024, height: 1024, quality: 'standard' });
  });

  test('a job without webhook_url succeeds without any delivery', async ({ launch }) => {
    const stack = await launch();
    const created = await stack.generate({ model: 'cogview-4-250304', prompt: 'quiet' });
    await stack.waitForStatus(String(created.body.id), ['succeeded']);
    const counts = await stack.queues.notify.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(stack.receiver.deliveries).toHaveLength(0);
  });
});
