/**
 * The fair dispatcher (docs/fairness.md): batch items wait in per-tenant pending lists, not in
 * BullMQ, and every DISPATCH_TICK_MS one worker of the fleet (keys.dispatchLock) tops the generate
 * queue's prioritized set up to DISPATCH_WINDOW items, taken round-robin across the tenants of
 * keys.dispatchRing. So tenants share the Z.AI capacity turn by turn, however many items each has
 * waiting, and a tenant arriving later waits behind at most DISPATCH_WINDOW items of the others.
 *
 * Invariants:
 * - Batch jobs carry priority 1 and single generations none. BullMQ takes the wait list before the
 *   prioritized set: moveToActive-11.lua does `RPOPLPUSH waitKey activeKey` and calls
 *   moveJobFromPrioritizedToActive only when that returns nothing. So a single interactive request
 *   goes before every batch item already dispatched.
 * - An id popped from a pending list is in keys.dispatchInflight from the same Lua step until its
 *   job is added (POP_ROUND_ROBIN); a crash in between leaves it there and the next tick adds it
 *   again. The job id is the generation id (as enqueueGenerate's round 0), so a repeat is a no-op.
 * - The lock only saves work: two dispatchers at once pop distinct ids, and a re-add is a no-op.
 * - Items whose record is no longer `queued` (canceled, gone) are dropped; those past their
 *   cancel_after are canceled (`expired`) here, never added.
 * - Items of a canceled batch (canceling_at) are dropped too, left `queued` for the batch's sweep
 *   (batch-cancel.ts) to cancel: the sweep walks the whole item list and is resumed until it has,
 *   so a dropped item always ends, and only the sweep changes it, so the counts stay exact. A tick
 *   that read the batch just before its cancel may still add a job; the generate stage then
 *   cancels the item (the status script refuses its start).
 * - Every tick also re-adds the finalize job of each batch in keys.batchesToFinalize (one job id
 *   per batch), so a batch whose finalize was lost to a crash still ends, and the item sweep of
 *   each batch in keys.batchesCanceling, so a cancel whose sweep was lost is finished.
 */
import { randomUUID } from 'node:crypto';
import { BATCH_CANCEL_JOB, QUEUE, batchCancelJobId, finalizeJobId, generateJobId, type Logger } from '@darkroom/shared';
import type { WorkerContext } from './context.ts';
import { POP_ROUND_ROBIN, RELEASE_LOCK } from './dispatch-scripts.ts';
import { expireGeneration } from './expiry.ts';

/** The priority of every batch job: any priority puts a job in BullMQ's prioritized set. */
export const BATCH_PRIORITY = 1;
/** Batches whose finalize job a tick re-adds at most. */
const FINALIZE_PER_TICK = 100;

interface Popped {
  id: string;
  tenant: string;
}

export class Dispatcher {
  readonly #ctx: WorkerContext;
  readonly #log: Logger;
  readonly #lockMs: number;
  /** Ids a tick looks at, at most: a canceled batch's items are dropped, a bounded number per tick. */
  readonly #maxPerTick: number;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;

  constructor(ctx: WorkerContext) {
    this.#ctx = ctx;
    this.#log = ctx.log.child({ component: 'dispatcher' });
    const { tickMs, window } = ctx.config.dispatch;
    this.#lockMs = Math.max(5_000, tickMs * 20);
    this.#maxPerTick = Math.max(1_000, window * 10);
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#ctx.config.dispatch.tickMs);
    this.#timer.unref();
  }

  /** Stops ticking and waits for a tick under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#ticking;
  }

  /** One pass; a tick still running (slow Redis) is not doubled. Never throws. */
  tick(): Promise<void> {
    this.#ticking ??= this.#locked()
      .catch((err: unknown) => this.#log.warn({ err }, 'dispatch tick failed'))
      .finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #locked(): Promise<void> {
    const { redis, keys } = this.#ctx;
    const token = randomUUID();
    if ((await redis.set(keys.dispatchLock, token, 'PX', this.#lockMs, 'NX')) !== 'OK') return;
    try {
      await this.#recoverInflight();
      await this.#topUp();
      await this.#finalizeEnded();
      await this.#resumeCancels();
    } finally {
      await redis.eval(RELEASE_LOCK, 1, keys.dispatchLock, token);
    }
  }

  /** Ids popped by a dispatcher that died before adding their jobs. */
  async #recoverInflight(): Promise<void> {
    const inflight = await this.#ctx.redis.hgetall(this.#ctx.keys.dispatchInflight);
    const popped = Object.entries(inflight).map(([id, tenant]) => ({ id, tenant }));
    if (popped.length === 0) return;
    this.#log.warn({ items: popped.length }, 'adding the jobs of items a dispatcher popped before it stopped');
    await this.#dispatch(popped);
  }

  async #topUp(): Promise<void> {
    const { redis, keys, queues, config } = this.#ctx;
    const [head, tail] = keys.tenantPending('\n').split('\n') as [string, string];
    let free = config.dispatch.window - (await queues.generate.getPrioritizedCount());
    let seen = 0;
    while (free > 0 && seen < this.#maxPerTick) {
      const flat = (await redis.eval(POP_ROUND_ROBIN, 2, keys.dispatchRing, keys.dispatchInflight, free, head, tail)) as string[];
      if (flat.length === 0) return;
      const popped: Popped[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) popped.push({ tenant: flat[i]!, id: flat[i + 1]! });
      seen += popped.length;
      free -= await this.#dispatch(popped);
    }
  }

  /** Adds the jobs of the items still to run, drops the others; returns how many were added. */
  async #dispatch(popped: Popped[]): Promise<number> {
    const { redis, keys, queues } = this.#ctx;
    const pipe = redis.pipeline();
    for (const { id } of popped) pipe.hmget(keys.generation(id), 'status', 'cancel_after', 'zai', 'batch_id');
    const replies = (await pipe.exec()) ?? [];
    const items = popped.map((item, i) => {
      const [err, fields] = replies[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      return { ...item, fields: fields as [string | null, string | null, string | null, string | null] };
    });
    const canceling = await this.#cancelingBatches(items.map((item) => item.fields[3]));
    const now = Date.now();
    const runnable: Popped[] = [];
    for (const { fields, ...item } of items) {
      const [status, cancelAfter, zai, batchId] = fields;
      if (status !== 'queued' || (batchId !== null && canceling.has(batchId))) continue;
      if (cancelAfter !== null && Number(cancelAfter) <= now && zai === null) {
        await expireGeneration(this.#ctx, item.id, Number(cancelAfter), this.#log);
        continue;
      }
      runnable.push(item);
    }
    if (runnable.length > 0) {
      await queues.generate.addBulk(
        runnable.map(({ id, tenant }) => ({
          name: QUEUE.generate,
          data: { v: 1 as const, id, tenant },
          opts: { jobId: generateJobId(id, 0), priority: BATCH_PRIORITY },
        })),
      );
    }
    await redis.hdel(keys.dispatchInflight, ...popped.map((p) => p.id));
    return runnable.length;
  }

  /** Which of these batches are canceled (have canceling_at): their queued items are the sweep's. */
  async #cancelingBatches(ids: readonly (string | null)[]): Promise<Set<string>> {
    const batches = [...new Set(ids.filter((id): id is string => id !== null))];
    if (batches.length === 0) return new Set();
    const pipe = this.#ctx.redis.pipeline();
    for (const id of batches) pipe.hexists(this.#ctx.keys.batch(id), 'canceling_at');
    const replies = (await pipe.exec()) ?? [];
    return new Set(batches.filter((_, i) => replies[i]?.[1] === 1));
  }

  /** Re-adds the finalize job of each ended batch (its id names the batch's end: `reopened`). */
  async #finalizeEnded(): Promise<void> {
    await this.#readd(this.#ctx.keys.batchesToFinalize, QUEUE.finalize, finalizeJobId);
  }

  /** Re-adds the item sweep of each canceled batch not yet swept (the job id is fixed: a no-op while it exists). */
  async #resumeCancels(): Promise<void> {
    await this.#readd(this.#ctx.keys.batchesCanceling, BATCH_CANCEL_JOB, batchCancelJobId);
  }

  /** Adds job `name` for the first batches of `set` (a no-op while its job exists); a gone batch leaves the set. */
  async #readd(set: string, name: string, jobIdOf: (id: string, reopened: number) => string): Promise<void> {
    const { redis, keys, queues } = this.#ctx;
    const ids = await redis.zrange(set, 0, FINALIZE_PER_TICK - 1);
    if (ids.length === 0) return;
    const pipe = redis.pipeline();
    for (const id of ids) pipe.hmget(keys.batch(id), 'tenant', 'reopened');
    const replies = (await pipe.exec()) ?? [];
    const jobs = [];
    for (const [i, id] of ids.entries()) {
      const [tenant, reopened] = (replies[i]?.[1] ?? []) as [string | null, string | null];
      if (typeof tenant !== 'string') {
        await redis.zrem(set, id);
        continue;
      }
      jobs.push({ name, data: { v: 1 as const, id, tenant }, opts: { jobId: jobIdOf(id, Number(reopened ?? 0)) } });
    }
    if (jobs.length > 0) await queues.finalize.addBulk(jobs);
  }
}
