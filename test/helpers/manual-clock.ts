import type { Clock } from "../../src/broker/clock.js";

/** A clock the test moves by hand; timers fire inside {@link advance}. */
export class ManualClock implements Clock {
  #now = 1_700_000_000_000;
  #timers: Array<{ at: number; fn: () => void }> = [];

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const t = { at: this.#now + ms, fn };
    this.#timers.push(t);
    return () => {
      this.#timers = this.#timers.filter((x) => x !== t);
    };
  }

  /** Moves time forward, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = end;
  }
}
