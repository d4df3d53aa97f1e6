/**
 * Paid Z.AI answers this process holds but has not yet saved on their record, keyed by generation
 * id. Guarantees:
 * - an answer is held from the moment it arrives until Redis has taken it (`saveAnswer` said
 *   anything but an error), so an outage or a refused write never loses a paid image while this
 *   process lives;
 * - a save that fails is retried with capped backoff, at once when the connection is ready again;
 * - a run of the same job in this process (its first run lost the job to a stall) finds the held
 *   answer through `has` and waits for its save instead of calling Z.AI again;
 * - at close, every answer still held is logged at error level with its URL, so an operator can
 *   recover the image.
 */
import type { Redis } from 'ioredis';
import type { AnswerSave, GenerationStore, Logger, ZaiResult } from '@darkroom/shared';

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2_000;

export class PendingAnswers {
  readonly #answers = new Map<string, ZaiResult>();
  readonly #saving = new Map<string, Promise<AnswerSave>>();
  readonly #generations: GenerationStore;
  readonly #log: Logger;
  readonly #redis: Redis;
  readonly #sleepers = new Set<() => void>();
  #closed = false;
  readonly #onReady = () => this.#wakeAll();

  constructor(deps: { generations: GenerationStore; redis: Redis; log: Logger }) {
    this.#generations = deps.generations;
    this.#redis = deps.redis;
    this.#log = deps.log;
    this.#redis.on('ready', this.#onReady);
  }

  has(id: string): boolean {
    return this.#answers.has(id);
  }

  /** Holds the answer and resolves once Redis has taken it; rejects only when the process closes. */
  save(id: string, answer: ZaiResult): Promise<AnswerSave> {
    if (!this.#answers.has(id)) this.#answers.set(id, answer);
    return this.settled(id);
  }

  /** The save of the answer held for `id` (one save per id, however many runs wait for it). */
  settled(id: string): Promise<AnswerSave> {
    const running = this.#saving.get(id);
    if (running) return running;
    const saving = this.#saveLoop(id).finally(() => this.#saving.delete(id));
    this.#saving.set(id, saving);
    return saving;
  }

  async #saveLoop(id: string): Promise<AnswerSave> {
    for (let attempt = 0; ; attempt++) {
      const answer = this.#answers.get(id);
      if (!answer) throw new Error(`no answer held for ${id}`);
      if (this.#closed) throw new Error('worker closing: the answer stays unsaved');
      try {
        const outcome = await this.#generations.saveAnswer(id, answer);
        this.#answers.delete(id);
        if (attempt > 0) this.#log.warn({ id, outcome, attempts: attempt + 1 }, 'held Z.AI answer saved after Redis came back');
        return outcome;
      } catch (err) {
        if (attempt === 0) {
          this.#log.warn({ id, err: (err as Error).message }, 'could not save a paid Z.AI answer: holding it and retrying');
        }
        await this.#pause(Math.min(RETRY_BASE_MS * 2 ** attempt, RETRY_MAX_MS));
      }
    }
  }

  /** Waits `ms`, or less when the connection becomes ready again. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }

  #wakeAll(): void {
    for (const wake of [...this.#sleepers]) wake();
  }

  close(): void {
    this.#closed = true;
    this.#wakeAll();
    this.#redis.off('ready', this.#onReady);
    for (const [id, zai] of this.#answers) {
      this.#log.error({ alert: 'unsaved_answer', id, zai }, 'paid Z.AI answer could not be saved before the worker stopped');
    }
  }
}
