/**
 * A growable list of int32 values, reused across calls so hot loops fill it without allocating:
 * `values[0, length)` are the live entries; clearing is `length = 0`.
 */
export interface IntList {
  values: Int32Array;
  length: number;
}

/** An empty list with room for `capacity` values before it grows. */
export function createIntList(capacity = 64): IntList {
  return { values: new Int32Array(capacity), length: 0 };
}

/** Appends `a`, doubling the storage when it is full. */
export function pushInt(list: IntList, a: number): void {
  if (list.length === list.values.length) grow(list);
  list.values[list.length++] = a;
}

/** Appends `a` and `b` (most lists here hold pairs). */
export function pushPair(list: IntList, a: number, b: number): void {
  if (list.length + 2 > list.values.length) grow(list);
  list.values[list.length++] = a;
  list.values[list.length++] = b;
}

function grow(list: IntList): void {
  const grown = new Int32Array(Math.max(16, list.values.length * 2));
  grown.set(list.values.subarray(0, list.length));
  list.values = grown;
}
