/**
 * The worker's close() waits for the settling of jobs BullMQ failed on its own: a shutdown right
 * after such a failure never leaves the record open with no job.
 */
import { QUEUE } from '@darkroom/shared';
import { queuedRecord } from '@darkroom/shared/testing';
import { describe, expect, test } from './fixtures.ts';
import { waitUntil } from './wait.ts';

describe('worker shutdown', () => {
  test('settles a job that failed just before close()', async ({ launch }) => {
    const stack = await launch({ env: { ZAI_MAX_ATTEMPTS: '1' } });
    const record = queuedRecord({ tenant: stack.tenant, request: { model: 'cogview-4-250304', prompt: 'refused payload', quality: 'standard', size: '512x512' } });
    const { id } = record;
    await stack.generations.create(record);
    // A payload the processor refuses (empty tenant) fails its only attempt outside settle().
    await stack.queues.generate.add(QUEUE.generate, { v: 1, id, tenant: '' }, { jobId: id });
    await waitUntil(async () => (await stack.queues.generate.getJobState(id)) === 'failed' || undefined, 'the job to fail', 20_000, 1);
    await stack.worker!.close();
    expect((await stack.generations.get(id))?.status).toBe('failed');
  });
});
