import { randomBytes } from 'node:crypto';

// INVARIANT: the process-wide UUIDv7 sequence
const sequence = { lastMs: 0, counter: 0 };

/** A UUIDv7 (RFC 9562): 48-bit Unix ms, then a 12-bit counter so ids minted in one ms stay ordered. */
export function uuidv7(now: number = Date.now()): string {
  if (now <= sequence.lastMs) {
    sequence.counter++;
    if (sequence.counter > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next millisecond to keep order.
      sequence.lastMs++;
      sequence.counter = 0;
    }
  } else {
    sequence.lastMs = now;
    sequence.counter = 0;
  }
  const b = randomBytes(16);
  const ms = sequence.lastMs;
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | ((sequence.counter >>> 8) & 0x0f);
  b[7] = sequence.counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
