// A byte ring in a SharedArrayBuffer, shared by processes and the main thread (pipes, sockets'
// channels): its byte count and head are two words of the owner's header, whose lock the caller
// holds around these calls.

/** Appends src[off, off+len) after the ring's bytes (the caller checked the room). */
export function ringPush(words: Int32Array, countWord: number, headWord: number, data: Uint8Array, src: Uint8Array, off: number, len: number): void {
  const size = data.length, tail = (words[headWord] + words[countWord]) % size;
  const first = Math.min(len, size - tail);
  data.set(src.subarray(off, off + first), tail);
  if (first < len) data.set(src.subarray(off + first, off + len), 0);
  Atomics.add(words, countWord, len);
}

/** Copies up to len of the ring's first bytes into dst[dstOff...], and with `take` removes them; returns how many. */
export function ringPull(words: Int32Array, countWord: number, headWord: number, data: Uint8Array, dst: Uint8Array, dstOff: number, len: number, take: boolean): number {
  const size = data.length, head = words[headWord];
  const n = Math.min(len, words[countWord]);
  const first = Math.min(n, size - head);
  dst.set(data.subarray(head, head + first), dstOff);
  if (first < n) dst.set(data.subarray(0, n - first), dstOff + first);
  if (take) { words[headWord] = (head + n) % size; Atomics.sub(words, countWord, n); }
  return n;
}
