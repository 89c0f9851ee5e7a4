/** What a velocity feature measures: events, distinct members, or events per second, in a sliding window. */
export type VelocityKind = 'count' | 'distinct' | 'rate';

/** One feature of one entity: `member` is the value counted by `distinct` (ignored otherwise). */
export interface VelocityRead {
  key: string;
  kind: VelocityKind;
  windowMs: number;
  member?: string;
}

/**
 * Sliding-window velocity features of abuse rules (`count(agent, 1m)`, `distinct(agent, args.repo, 10m)`,
 * `rate(agent, 1m)`). The rule engine turns each feature of each entity into a `key` (tenant, rule,
 * feature and entity id are in it); the store keeps one window per key. Time comes only from `atMs`,
 * so tests and replay drive it.
 */
export interface VelocityStore {
  /** Records one event under every read (count/rate add 1; distinct adds `member`) at `atMs` and returns each feature's value including it, in order. count: events in the window; distinct: distinct members in the window; rate: events per second over the window (count / (windowMs/1000)). */
  observe(reads: readonly VelocityRead[], atMs: number): Promise<number[]>;
  /** The same values without recording anything. */
  peek(reads: readonly VelocityRead[], atMs: number): Promise<number[]>;
  /** How many keys are tracked now (memory) or -1 when unknown (Redis). */
  size(): number;
  close(): Promise<void>;
}

/** Bounds of the in-memory velocity store. */
export interface MemoryVelocityOptions {
  /** Keys tracked; past it the least recently observed key is forgotten first. @default 100000 */
  maxKeys?: number;
  /** Buckets a count/rate window is cut into; more is closer to exact and costs memory. @default 30 */
  bucketsPerWindow?: number;
  /** Members remembered per distinct key; past it the least recently seen member is forgotten. @default 10000 */
  maxDistinct?: number;
}

/** The bucket geometry of a window, shared by the memory and the Redis store so both count alike. */
export interface VelocityBuckets {
  /** Width of one bucket in ms: `ceil(windowMs / bucketsPerWindow)`. */
  width: number;
  /** Buckets summed, the current one included: `floor(windowMs / width)`, so they never reach past the window. */
  n: number;
}

/** The window of a read, at least 1 ms (a rule's durations are validated where they are parsed). */
export const windowOf = (read: VelocityRead): number => (read.windowMs >= 1 ? Math.floor(read.windowMs) : 1);

/** The bucket geometry of `windowMs` cut into `bucketsPerWindow`. */
export function bucketsOf(windowMs: number, bucketsPerWindow: number): VelocityBuckets {
  const width = Math.ceil(windowMs / bucketsPerWindow);
  return { width, n: Math.max(1, Math.floor(windowMs / width)) };
}

// One tracked key. One class for both kinds keeps the Map's values monomorphic (the hot path).
class Feature {
  /** Newest bucket index written (count) or newest `atMs` seen (distinct). */
  head: number;
  /** Sum of `counts`: every bucket in the ring lies in (head - n, head]. */
  total = 0;
  /** LRU stamp: the value of the store's move counter when the key last went to the back. */
  seq = 0;
  readonly counts: Uint32Array | undefined;
  readonly members: Map<string, number> | undefined;

  constructor(
    readonly distinct: boolean,
    readonly windowMs: number,
    readonly width: number,
    readonly n: number,
    atMs: number,
  ) {
    this.head = distinct ? atMs : Math.floor(atMs / width);
    if (distinct) this.members = new Map();
    else this.counts = new Uint32Array(n);
  }
}

const slotOf = (idx: number, n: number) => {
  const s = idx % n;
  return s < 0 ? s + n : s;
};

/**
 * Velocity features in this process's memory. count and rate keep a ring of `bucketsPerWindow`
 * counters per key (bucket width = window / buckets, rounded up).
 *
 * Error bound (count, rate): the value sums the whole buckets that lie inside the window, the current
 * one included; the oldest, partly outside bucket is excluded. So every event newer than
 * `atMs - windowMs + width` counts, none older than `atMs - windowMs` does, and the value undercounts
 * by at most the events of one bucket (1/30 of the window by default: at most 2 s of a 1 m window).
 * It never overcounts. An event more than a window older than the key's newest is counted only in
 * its own answer.
 *
 * distinct keeps, per key, member → last seen ms in a Map ordered by last seen, so it is exact in the
 * window while time goes forward (replay in order). Past `maxDistinct` members the least recently seen
 * goes first, and the value then undercounts: it reports at most `maxDistinct`.
 *
 * Keys: past `maxKeys` the least recently observed goes (an observed key is moved to the back only
 * once a quarter of `maxKeys` others went behind it, so it survives at least 3/4 of `maxKeys` newer
 * keys; exact LRU when `maxKeys` < 4); a key whose buckets all lie before its window is dropped when
 * met, and expired keys at the LRU front are swept on each observe.
 */
export function createMemoryVelocity(opts: MemoryVelocityOptions = {}): VelocityStore {
  const maxKeys = Math.max(1, opts.maxKeys ?? 100_000);
  const perWindow = Math.max(1, opts.bucketsPerWindow ?? 30);
  const maxDistinct = Math.max(1, opts.maxDistinct ?? 10_000);
  const slack = maxKeys >> 2;
  // A Map iterates in insertion order: the back holds the most recently observed keys.
  const features = new Map<string, Feature>();
  let moves = 0;

  const expired = (f: Feature, atMs: number): boolean =>
    f.distinct ? atMs - f.head >= f.windowMs : Math.floor(atMs / f.width) - f.head >= f.n;

  const countAt = (f: Feature, cur: number): number => {
    const counts = f.counts!;
    const n = f.n;
    if (cur >= f.head) {
      const d = cur - f.head;
      if (d >= n) return 0;
      // The buckets that fell out between head and cur.
      let out = 0;
      for (let idx = f.head - n + 1; idx <= cur - n; idx++) out += counts[slotOf(idx, n)]!;
      return f.total - out;
    }
    // A read in the past: only the buckets of its window still in the ring (the older ones are gone).
    let sum = 0;
    for (let idx = Math.max(cur - n + 1, f.head - n + 1); idx <= cur; idx++) sum += counts[slotOf(idx, n)]!;
    return sum;
  };

  const record = (f: Feature, atMs: number, member: string | undefined): number => {
    if (f.distinct) {
      const members = f.members!;
      const cutoff = atMs - f.windowMs;
      if (member !== undefined) {
        const prev = members.get(member);
        if (prev === undefined) {
          if (members.size >= maxDistinct) members.delete(members.keys().next().value!);
          members.set(member, atMs);
        } else if (atMs > prev) {
          members.delete(member);
          members.set(member, atMs);
        }
        if (atMs > f.head) f.head = atMs;
      }
      return prune(members, cutoff);
    }
    const n = f.n;
    const cur = Math.floor(atMs / f.width);
    const counts = f.counts!;
    if (cur > f.head) {
      if (cur - f.head >= n) {
        counts.fill(0);
        f.total = 0;
      } else {
        for (let idx = f.head + 1; idx <= cur; idx++) {
          const s = slotOf(idx, n);
          f.total -= counts[s]!;
          counts[s] = 0;
        }
      }
      f.head = cur;
    }
    if (cur > f.head - n) {
      counts[slotOf(cur, n)]!++;
      f.total++;
      return countAt(f, cur);
    }
    return countAt(f, cur) + 1;
  };

  const prune = (members: Map<string, number>, cutoff: number): number => {
    for (const [m, at] of members) {
      if (at > cutoff) break;
      members.delete(m);
    }
    return members.size;
  };

  const valueOf = (f: Feature | undefined, read: VelocityRead, atMs: number): number => {
    if (!f || f.distinct !== (read.kind === 'distinct') || f.windowMs !== windowOf(read)) return 0;
    if (f.distinct) return prune(f.members!, atMs - f.windowMs);
    const c = countAt(f, Math.floor(atMs / f.width));
    return read.kind === 'rate' ? c / (f.windowMs / 1000) : c;
  };

  const sweep = (atMs: number) => {
    // Bounded work per call: the front is the least recently observed, the likeliest to be expired.
    let budget = 8;
    for (const [key, f] of features) {
      if (budget-- === 0 || !expired(f, atMs)) return;
      features.delete(key);
    }
  };

  return {
    async observe(reads, atMs) {
      sweep(atMs);
      const out = new Array<number>(reads.length);
      for (let i = 0; i < reads.length; i++) {
        const read = reads[i]!;
        const distinct = read.kind === 'distinct';
        const windowMs = windowOf(read);
        let f = features.get(read.key);
        // A key read with another kind or window than it holds, or whose buckets all lie before its
        // window, starts afresh.
        if (f && (f.distinct !== distinct || f.windowMs !== windowMs || expired(f, atMs))) {
          features.delete(read.key);
          f = undefined;
        }
        if (!f) {
          const b = distinct ? { width: 1, n: 1 } : bucketsOf(windowMs, perWindow);
          f = new Feature(distinct, windowMs, b.width, b.n, atMs);
          if (features.size >= maxKeys) features.delete(features.keys().next().value!);
          features.set(read.key, f);
          f.seq = ++moves;
        } else if (moves - f.seq > slack) {
          features.delete(read.key);
          features.set(read.key, f);
          f.seq = ++moves;
        }
        const c = record(f, atMs, read.member);
        out[i] = read.kind === 'rate' ? c / (windowMs / 1000) : c;
      }
      return out;
    },
    async peek(reads, atMs) {
      const out = new Array<number>(reads.length);
      for (let i = 0; i < reads.length; i++) {
        const read = reads[i]!;
        out[i] = valueOf(features.get(read.key), read, atMs);
      }
      return out;
    },
    size: () => features.size,
    async close() {
      features.clear();
    },
  };
}
