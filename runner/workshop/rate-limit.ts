// Token buckets for the join endpoint: one per client address and one for the whole room, so that
// neither one machine guessing codes nor a crowd of them can hammer it.

export type BucketOptions = {
  /** Tokens a bucket holds when full: the burst allowed. */
  capacity: number;
  /** Tokens added back per second. */
  refillPerSecond: number;
};

export class TokenBuckets {
  readonly #options: BucketOptions;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  /** Buckets beyond this are pruned (full ones first), so a flood of addresses cannot grow memory. */
  static readonly MAX_KEYS = 10_000;

  constructor(options: BucketOptions) {
    this.#options = options;
  }

  #bucket(key: string, now: number): { tokens: number; at: number } {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= TokenBuckets.MAX_KEYS) this.#prune(now);
      bucket = { tokens: this.#options.capacity, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.#options.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.#options.refillPerSecond);
    bucket.at = now;
    return bucket;
  }

  /** Takes `cost` tokens; returns 0 when allowed, else the seconds to wait before trying again. */
  take(key: string, cost = 1, now = Date.now()): number {
    const bucket = this.#bucket(key, now);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil((cost - bucket.tokens) / this.#options.refillPerSecond);
  }

  /** Takes tokens whatever is left (a failed attempt costs more, after the fact). */
  charge(key: string, cost: number, now = Date.now()): void {
    const bucket = this.#bucket(key, now);
    bucket.tokens = Math.max(-this.#options.capacity, bucket.tokens - cost);
  }

  #prune(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      const tokens = bucket.tokens + ((now - bucket.at) / 1000) * this.#options.refillPerSecond;
      if (tokens >= this.#options.capacity) this.#buckets.delete(key);
    }
    // Still full of partly drained buckets: drop the oldest half rather than grow.
    if (this.#buckets.size >= TokenBuckets.MAX_KEYS) {
      let n = 0;
      for (const key of this.#buckets.keys()) if (n++ < TokenBuckets.MAX_KEYS / 2) this.#buckets.delete(key);
    }
  }
}
