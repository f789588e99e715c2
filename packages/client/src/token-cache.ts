// Access tokens kept until shortly before they expire, and one request at a time per key:
// concurrent callers for the same connection share the answer. Tokens that never expire are
// kept for `maxAgeMs` only, so a disconnect is noticed.

interface Entry<T> {
  value: T;
  /** when to stop handing it out */
  staleAtMs: number;
}

export class TokenCache<T extends { expiresAt: Date | null }> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #inflight = new Map<string, Promise<T>>();

  constructor(
    private readonly marginMs: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): T | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (this.now() >= e.staleAtMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** The cached value, or the one `load` fetches (shared by concurrent callers). */
  async getOrLoad(key: string, load: () => Promise<T>, bypass = false): Promise<T> {
    if (!bypass) {
      const hit = this.get(key);
      if (hit !== undefined) return hit;
    }
    const flightKey = bypass ? `force:${key}` : key;
    let p = this.#inflight.get(flightKey);
    if (p === undefined) {
      p = load()
        .then(
          (value) => {
            this.set(key, value);
            return value;
          },
          (err: unknown) => {
            this.#entries.delete(key);
            throw err;
          },
        )
        .finally(() => this.#inflight.delete(flightKey));
      this.#inflight.set(flightKey, p);
    }
    return p;
  }

  set(key: string, value: T): void {
    const now = this.now();
    const staleAtMs =
      value.expiresAt === null ? now + this.maxAgeMs : value.expiresAt.getTime() - this.marginMs;
    if (staleAtMs > now) this.#entries.set(key, { value, staleAtMs });
    else this.#entries.delete(key);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
