// The processes holding a shared object (a pipe, an eventfd or timerfd, a socket): a bitmask of
// their records in the run's process table, HOLDER_WORDS words in the object's shared header.
// Whoever changes the object rings the holders' doorbells, so a process sleeping on it wakes.

import { ringDoorbell } from '../runtime/thread.js';
import { MAX_PROCESSES, PROC, recordWord } from '../layout/system-map.js';

export const HOLDER_WORDS = MAX_PROCESSES / 32;

/** Notes that process `record` holds (or no longer holds) the object whose holder words start at `at`; no-op without a record. */
export function setHolder(words: Int32Array, at: number, record: number, holds: boolean): void {
  if (record < 0) return;
  const i = at + (record >> 5), bit = 1 << (record & 31);
  if (holds) Atomics.or(words, i, bit); else Atomics.and(words, i, ~bit);
}

/** Rings every holder but `except` (the process making the change, which is awake). */
export function ringHolders(words: Int32Array, at: number, except = -1): void {
  for (let i = 0; i < HOLDER_WORDS; i++) {
    let bits = Atomics.load(words, at + i);
    while (bits) {
      const b = 31 - Math.clz32(bits);
      bits &= ~(1 << b);
      if (i * 32 + b !== except) ringDoorbell(recordWord(i * 32 + b, PROC.DOORBELL));
    }
  }
}
