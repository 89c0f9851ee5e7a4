import type { TextView } from '../detector.js';

/** The identity view of the raw input. */
export function rawView(text: string): TextView {
  return { kind: 'raw', text, toRaw: (s, e) => [s, e] };
}

/** A view whose every char `i` came from raw offset `map[i]` (`map` has one extra entry: the raw end). */
export function mappedView(kind: string, text: string, map: Int32Array): TextView {
  return {
    kind,
    text,
    toRaw(s, e) {
      const a = map[Math.min(Math.max(s, 0), text.length)] ?? 0;
      const last = Math.min(Math.max(e, s + 1), text.length);
      // The end maps past the raw char the last normalized char came from.
      const b = e <= s ? a : (map[last] ?? a);
      return [a, Math.max(a, b)];
    },
  };
}

/** A decoded payload: every span maps to the whole encoded blob it came from. */
export function blobView(kind: string, text: string, rawStart: number, rawEnd: number): TextView {
  return { kind, text, toRaw: () => [rawStart, rawEnd] };
}

/** A `normalized` view equal to the raw text: spans map to themselves. */
export function identityView(text: string): TextView {
  return {
    kind: 'normalized',
    text,
    toRaw(s, e) {
      // The same spans as `mappedView` over the identity map.
      const a = Math.min(Math.max(s, 0), text.length);
      const b = e <= s ? a : Math.min(Math.max(e, s + 1), text.length);
      return [a, Math.max(a, b)];
    },
  };
}
