// A clock tests move by hand, so delays, visibility timeouts and expiry need no sleeping.
import type { Clock } from "#core/ports.ts";

export class ManualClock implements Clock {
  #now: number;
  constructor(start: Date | string = "2026-11-24T10:00:00Z") {
    this.#now = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#now);
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  set(at: Date | string): void {
    this.#now = new Date(at).getTime();
  }
}
