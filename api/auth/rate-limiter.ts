/** A per-bucket fixed-window limiter: at most `perMinute` requests per bucket in each minute. */
export class RateLimiter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(private readonly perMinute: number) {}

  private roll(now: number): number {
    const window = Math.floor(now / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.counts.clear();
    }
    return window;
  }

  private wait(window: number, now: number): number {
    return Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000));
  }

  /** Counts one request; returns undefined when allowed, else the seconds until the window resets. */
  take(bucket: string, now = Date.now()): number | undefined {
    const window = this.roll(now);
    const n = (this.counts.get(bucket) ?? 0) + 1;
    this.counts.set(bucket, n);
    return n <= this.perMinute ? undefined : this.wait(window, now);
  }

  /** Like {@link take} without counting: undefined while the bucket has requests left in this window. */
  peek(bucket: string, now = Date.now()): number | undefined {
    const window = this.roll(now);
    return (this.counts.get(bucket) ?? 0) < this.perMinute ? undefined : this.wait(window, now);
  }
}
