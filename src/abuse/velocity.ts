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

// Intrusive doubly linked lists, oldest at the head: moving, dropping and evicting are O(1) and
// allocate nothing. (An earlier version kept order by re-inserting into a Map and evicting its first
// key; V8 leaves deleted Map entries as holes until it rehashes, so every "first key" walked over up to
// maxKeys holes: 50 000 observes past maxKeys did not finish in 10 minutes.)
class Link {
  prev: Link | null = null;
  next: Link | null = null;
}

class Chain<T extends Link> {
  head: T | null = null;
  tail: T | null = null;
  size = 0;

  push(x: T): void {
    x.prev = this.tail;
    x.next = null;
    if (this.tail) this.tail.next = x;
    else this.head = x;
    this.tail = x;
    this.size++;
  }

  remove(x: T): void {
    if (x.prev) x.prev.next = x.next;
    else this.head = x.next as T | null;
    if (x.next) x.next.prev = x.prev;
    else this.tail = x.prev as T | null;
    x.prev = x.next = null;
    this.size--;
  }

  toTail(x: T): void {
    if (this.tail === x) return;
    this.remove(x);
    this.push(x);
  }
}

/** A member of a distinct key and when it was last seen. */
class Member extends Link {
  constructor(
    readonly value: string,
    public at: number,
  ) {
    super();
  }
}

// One tracked key. One class for both kinds keeps the hot path monomorphic.
class Feature extends Link {
  /** Newest bucket index written (count) or newest `atMs` seen (distinct). */
  head: number;
  /** Sum of `counts`: every bucket in the ring lies in (head - n, head]. */
  total = 0;
  readonly counts: Uint32Array | undefined;
  readonly members: Map<string, Member> | undefined;
  readonly order: Chain<Member> | undefined;

  constructor(
    readonly key: string,
    readonly distinct: boolean,
    readonly windowMs: number,
    readonly width: number,
    readonly n: number,
    atMs: number,
    reuse: Uint32Array | undefined,
  ) {
    super();
    this.head = distinct ? atMs : Math.floor(atMs / width);
    if (distinct) {
      this.members = new Map();
      this.order = new Chain();
    } else if (reuse?.length === n) this.counts = reuse.fill(0);
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
 * distinct keeps, per key, member → last seen ms, ordered by last seen, so it is exact in the window
 * while time goes forward (replay in order; a member seen out of order is kept by its newest time).
 * Past `maxDistinct` members the least recently seen goes first, and the value then undercounts: it
 * reports at most `maxDistinct`.
 *
 * Keys: past `maxKeys` the least recently observed goes (peek does not count as use); a key whose
 * buckets all lie before its window is dropped when met, and expired keys at the least recently
 * observed end are swept (a few per observe).
 */
export function createMemoryVelocity(opts: MemoryVelocityOptions = {}): VelocityStore {
  const maxKeys = Math.max(1, opts.maxKeys ?? 100_000);
  const perWindow = Math.max(1, opts.bucketsPerWindow ?? 30);
  const maxDistinct = Math.max(1, opts.maxDistinct ?? 10_000);
  const features = new Map<string, Feature>();
  // INVARIANT: `lru` holds exactly the features of the map, least recently observed at the head.
  const lru = new Chain<Feature>();

  const expired = (f: Feature, atMs: number): boolean =>
    f.distinct ? atMs - f.head >= f.windowMs : Math.floor(atMs / f.width) - f.head >= f.n;

  const drop = (f: Feature) => {
    features.delete(f.key);
    lru.remove(f);
  };

  const countAt = (f: Feature, cur: number): number => {
    const counts = f.counts!;
    const n = f.n;
    if (cur >= f.head) {
      if (cur - f.head >= n) return 0;
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

  const prune = (f: Feature, atMs: number): number => {
    const cutoff = atMs - f.windowMs;
    const order = f.order!;
    for (let m = order.head; m !== null && m.at <= cutoff; m = order.head) {
      order.remove(m);
      f.members!.delete(m.value);
    }
    return order.size;
  };

  const record = (f: Feature, atMs: number, member: string | undefined): number => {
    if (f.distinct) {
      if (member !== undefined) {
        const members = f.members!;
        const order = f.order!;
        const m = members.get(member);
        if (m === undefined) {
          if (order.size >= maxDistinct) {
            const oldest = order.head!;
            order.remove(oldest);
            members.delete(oldest.value);
          }
          const added = new Member(member, atMs);
          members.set(member, added);
          order.push(added);
        } else if (atMs > m.at) {
          m.at = atMs;
          order.toTail(m);
        }
        if (atMs > f.head) f.head = atMs;
      }
      return prune(f, atMs);
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

  const valueOf = (f: Feature | undefined, read: VelocityRead, atMs: number): number => {
    if (!f || f.distinct !== (read.kind === 'distinct') || f.windowMs !== windowOf(read)) return 0;
    if (f.distinct) return prune(f, atMs);
    const c = countAt(f, Math.floor(atMs / f.width));
    return read.kind === 'rate' ? c / (f.windowMs / 1000) : c;
  };

  return {
    async observe(reads, atMs) {
      // Bounded work per call: the head is the least recently observed, the likeliest to be expired.
      for (let budget = 8; budget > 0 && lru.head !== null && expired(lru.head, atMs); budget--) drop(lru.head);
      const out = new Array<number>(reads.length);
      for (let i = 0; i < reads.length; i++) {
        const read = reads[i]!;
        const distinct = read.kind === 'distinct';
        const windowMs = windowOf(read);
        let f = features.get(read.key);
        // A key read with another kind or window than it holds, or whose buckets all lie before its
        // window, starts afresh.
        if (f && (f.distinct !== distinct || f.windowMs !== windowMs || expired(f, atMs))) {
          drop(f);
          f = undefined;
        }
        if (!f) {
          const b = distinct ? { width: 1, n: 1 } : bucketsOf(windowMs, perWindow);
          // Under a flood of new keys each one evicts one: its buckets are reused (allocating a typed
          // array costs more than the rest of a new key).
          let reuse: Uint32Array | undefined;
          if (lru.size >= maxKeys) {
            reuse = lru.head!.counts;
            drop(lru.head!);
          }
          f = new Feature(read.key, distinct, windowMs, b.width, b.n, atMs, reuse);
          features.set(read.key, f);
          lru.push(f);
        } else lru.toTail(f);
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
      lru.head = lru.tail = null;
      lru.size = 0;
    },
  };
}
