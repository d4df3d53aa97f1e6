/**
 * Follows the fleet's drain flag (FleetState.drain) on this worker process: while it is set, the
 * BullMQ loops of every stage take no new job (Worker.pause waits for the running ones to end);
 * once an operator lifts it, they take jobs again. A worker started during a drain starts paused.
 * Jobs left waiting are untouched, so a drain never loses or re-runs one.
 */
import type { Worker } from 'bullmq';
import type { FleetState, Logger } from '@darkroom/shared';

export class DrainWatch {
  readonly #state: FleetState;
  readonly #workers: Worker[];
  readonly #log: Logger;
  #draining = false;
  #busy = false;

  constructor(deps: { state: FleetState; workers: Worker[]; log: Logger }) {
    this.#state = deps.state;
    this.#workers = deps.workers;
    this.#log = deps.log;
  }

  /** One look at the flag; a look while the previous one still waits for jobs is skipped. */
  async check(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const drain = await this.#state.readDrain();
      if (drain && !this.#draining) {
        this.#draining = true;
        this.#log.warn({ drain }, 'draining: taking no new jobs, finishing the running ones');
        await Promise.all(this.#workers.map((w) => w.pause()));
        this.#log.warn({ drain }, 'drained: no job runs on this worker');
      } else if (!drain && this.#draining) {
        this.#draining = false;
        for (const worker of this.#workers) worker.resume();
        this.#log.warn('drain lifted: taking jobs again');
      }
    } finally {
      this.#busy = false;
    }
  }
}
