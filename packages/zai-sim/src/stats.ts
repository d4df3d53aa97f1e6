export interface SimulatorStats {
  /** Every POST to the generations endpoint, whatever its outcome. */
  calls: number;
  /**
   * Billed generations whose caller received the whole valid 200 answer (image_* fault calls
   * included). Once no call is in flight, generations = paid - paidUndelivered.
   */
  generations: number;
  /**
   * Every billed generation, as Z.AI charges them: a call admitted past the concurrency/rate gate
   * that did not draw a 500/1234 fault, whether or not its caller stayed for the answer.
   */
  paid: number;
  /** Billed generations whose caller never got a usable answer: hung up, timed out, or got a malformed body. */
  paidUndelivered: number;
  /** Generation calls admitted past the concurrency/rate gate and not yet finished. */
  inFlight: number;
  maxInFlight: number;
  /** 'ok', '<status>:<code>' for errors, 'timeout', 'malformed', 'aborted' (client left before the answer). */
  outcomes: Record<string, number>;
  /** Image requests answered with the complete PNG. */
  imageDownloads: number;
  /** Image requests that did not get the complete PNG (expired, bad signature, faults, client aborts). */
  imageFailures: number;
}

/** One generation call, as the simulator saw it (epoch ms). */
export interface CallRecord {
  arrivedAt: number;
  /** Admitted calls in flight when this one reached the concurrency gate (undefined: refused earlier). */
  inFlightBefore?: number;
  /** Set when the gate admitted it; it then held one of the account's slots until `endedAt`. */
  admittedAt?: number;
  endedAt?: number;
  /** As in `outcomes`; undefined while the call is open. */
  outcome?: string;
}

/** One billed generation; settles once as delivered or undelivered. */
export interface Bill {
  delivered(): void;
  undelivered(): void;
}

export class StatsRecorder {
  /** Every call since the last reset, in arrival order. */
  callLog: CallRecord[] = [];
  calls = 0;
  /** Arrival time (epoch ms) of every call since the last reset. */
  callTimes: number[] = [];
  generations = 0;
  paid = 0;
  paidUndelivered = 0;
  inFlight = 0;
  maxInFlight = 0;
  imageDownloads = 0;
  imageFailures = 0;
  #outcomes = new Map<string, number>();
  /** Bumped by reset(), so a bill opened before a reset never settles into the new counters. */
  #epoch = 0;

  call(): CallRecord {
    const record: CallRecord = { arrivedAt: Date.now() };
    this.calls++;
    this.callTimes.push(record.arrivedAt);
    this.callLog.push(record);
    return record;
  }

  outcome(key: string, call?: CallRecord): void {
    this.#outcomes.set(key, (this.#outcomes.get(key) ?? 0) + 1);
    if (call) call.outcome = key;
  }

  enter(call?: CallRecord): void {
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    if (call) call.admittedAt = Date.now();
  }

  leave(call?: CallRecord): void {
    this.inFlight--;
    if (call) call.endedAt = Date.now();
  }

  /** Counts a paid generation now; the returned bill settles it exactly once. */
  bill(): Bill {
    this.paid++;
    const epoch = this.#epoch;
    let settled = false;
    const settle = (delivered: boolean) => {
      if (settled || epoch !== this.#epoch) return;
      settled = true;
      if (delivered) this.generations++;
      else this.paidUndelivered++;
    };
    return { delivered: () => settle(true), undelivered: () => settle(false) };
  }

  /** In-flight calls are live, so they survive a reset. */
  reset(): void {
    this.#epoch++;
    this.calls = 0;
    this.callTimes = [];
    this.callLog = [];
    this.generations = 0;
    this.paid = 0;
    this.paidUndelivered = 0;
    this.maxInFlight = this.inFlight;
    this.imageDownloads = 0;
    this.imageFailures = 0;
    this.#outcomes = new Map();
  }

  snapshot(): SimulatorStats {
    return {
      calls: this.calls,
      generations: this.generations,
      paid: this.paid,
      paidUndelivered: this.paidUndelivered,
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      outcomes: Object.fromEntries(this.#outcomes),
      imageDownloads: this.imageDownloads,
      imageFailures: this.imageFailures,
    };
  }
}
