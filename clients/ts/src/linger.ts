/**
 * The timer that seals a publisher's open request: after `lingerMs`, so that
 * messages sent one at a time share requests, or at the end of the
 * event-loop turn when told to hurry (a `sendBatch` caller handed over all
 * it had, or a `flush()` caller waits).
 * @internal
 */
export class Linger {
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** Whether #timer waits lingerMs rather than one event-loop turn. */
  #late = false;

  /**
   * @param lingerMs - how long a request that is not full waits; 0: one turn
   * @param fire - seals the open request
   */
  constructor(
    private readonly lingerMs: number,
    private readonly fire: () => void,
  ) {}

  /**
   * Starts waiting, unless already waiting; with `soon`, waits one turn, and
   * brings forward a wait of `lingerMs` already running.
   */
  start(soon: boolean): void {
    if (this.#timer !== undefined && !(soon && this.#late)) return;
    this.cancel();
    const fire = (): void => {
      this.#timer = undefined;
      this.fire();
    };
    this.#late = !soon && this.lingerMs > 0;
    this.#timer = this.#late ? setTimeout(fire, this.lingerMs) : setImmediate(fire);
  }

  /** Stops waiting (the request was sealed another way). */
  cancel(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }
}
