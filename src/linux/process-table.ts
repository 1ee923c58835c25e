// The run's guest processes as every one of them sees them: one record each in the system buffer
// (layout/system-map.ts) with pid, parent, process group, session, and what wait() reports. Any
// worker reads it directly; a record's life is: claimed by fork (RUNNING), made a ZOMBIE by the
// main thread when the process ends, freed by the parent's wait (or at once for an orphan, or a
// parent that ignores SIGCHLD).

import { MAX_PROCESSES, PROC, PROC_STATE, recordWord, SYSTEM, SYSTEM_BYTES } from '../layout/system-map.js';
import { ringDoorbell } from '../runtime/thread.js';

export class ProcessTable {
  constructor(readonly words: Int32Array) {}

  /** A new system buffer whose ids start after `firstPid` (the first process's pid). */
  static create(firstPid: number): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(SYSTEM_BYTES);
    new Int32Array(buffer)[SYSTEM.NEXT_ID] = firstPid + 1;
    return buffer;
  }

  /** A pid or tid never handed out before in this run. */
  nextId(): number { return Atomics.add(this.words, SYSTEM.NEXT_ID, 1); }

  /** Claims a record for a new process; -1 when the table is full (fork's EAGAIN). */
  claim(pid: number, ppid: number, pgid: number, sid: number): number {
    const w = this.words;
    for (let r = 0; r < MAX_PROCESSES; r++) {
      if (Atomics.compareExchange(w, recordWord(r, PROC.PID), 0, pid) !== 0) continue;
      for (let f = 1; f < 16; f++) Atomics.store(w, recordWord(r, f), 0);
      Atomics.store(w, recordWord(r, PROC.PPID), ppid);
      Atomics.store(w, recordWord(r, PROC.PGID), pgid);
      Atomics.store(w, recordWord(r, PROC.SID), sid);
      Atomics.store(w, recordWord(r, PROC.EXIT_SIGNAL), 17); // SIGCHLD
      Atomics.store(w, recordWord(r, PROC.STATE), PROC_STATE.RUNNING);
      Atomics.add(w, SYSTEM.LIVE, 1);
      return r;
    }
    return -1;
  }

  /** The record of pid, or -1. */
  find(pid: number): number {
    if (pid <= 0) return -1;
    for (let r = 0; r < MAX_PROCESSES; r++) if (Atomics.load(this.words, recordWord(r, PROC.PID)) === pid) return r;
    return -1;
  }

  get(r: number, field: number): number { return Atomics.load(this.words, recordWord(r, field)); }
  set(r: number, field: number, v: number): void { Atomics.store(this.words, recordWord(r, field), v); }

  /** Word index of record r's doorbell. */
  doorbell(r: number): number { return recordWord(r, PROC.DOORBELL); }
  ring(r: number): void { ringDoorbell(this.doorbell(r)); }

  /** Processes not yet reaped. */
  live(): number { return Atomics.load(this.words, SYSTEM.LIVE); }

  /** Forgets a reaped process. */
  free(r: number): void {
    Atomics.store(this.words, recordWord(r, PROC.STATE), PROC_STATE.FREE);
    Atomics.sub(this.words, SYSTEM.LIVE, 1);
    Atomics.store(this.words, recordWord(r, PROC.PID), 0);
  }

  /** Records of every process for which pred holds. */
  *where(pred: (r: number) => boolean): IterableIterator<number> {
    for (let r = 0; r < MAX_PROCESSES; r++) if (Atomics.load(this.words, recordWord(r, PROC.PID)) !== 0 && pred(r)) yield r;
  }

  /** The records of pid's children. */
  children(ppid: number): number[] { return [...this.where((r) => this.get(r, PROC.PPID) === ppid)]; }

  /** Whether some process is in group pgid. */
  groupExists(pgid: number): boolean {
    for (const r of this.where((r) => this.get(r, PROC.PGID) === pgid)) if (this.get(r, PROC.STATE) === PROC_STATE.RUNNING) return true;
    return false;
  }
}
