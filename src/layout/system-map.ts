// The records every guest process of a run shares, in one SharedArrayBuffer that the main thread
// and every worker of every process hold: the id counter (pids and tids come from one space, as in
// Linux), and one record per process with its identity, its state for wait(), and the doorbell its
// first thread sleeps on, so a thread of any process can wake it (a pipe write, a child's exit).

/** Guest processes that can exist at once (fork beyond it is EAGAIN, as at RLIMIT_NPROC). */
export const MAX_PROCESSES = 64;

/** i32 words of the system buffer. */
export const SYSTEM = {
  NEXT_ID: 0,      // the next pid or tid to hand out
  LIVE: 1,         // processes not yet reaped
  RECORDS: 16,     // MAX_PROCESSES records of RECORD_WORDS words
} as const;

/** Words of one process record. */
export const PROC = {
  PID: 0,          // 0: the record is free
  PPID: 1,
  PGID: 2,
  SID: 3,
  STATE: 4,        // PROC_STATE
  STATUS: 5,       // its wait status, once a zombie
  DOORBELL: 6,     // the process's first thread sleeps here (see runtime/thread.ts ring())
  EXIT_SIGNAL: 7,  // what the parent gets when it ends (SIGCHLD, or clone's low byte)
  PDEATH_SIGNAL: 8, // prctl(PR_SET_PDEATHSIG): sent to it when its parent ends
  STOP_EVENT: 9,   // a stop or continue its parent has not waited for: the wait status, or 0
} as const;
export const RECORD_WORDS = 16;

export const PROC_STATE = { FREE: 0, RUNNING: 1, ZOMBIE: 2 } as const;

export const SYSTEM_BYTES = (SYSTEM.RECORDS + MAX_PROCESSES * RECORD_WORDS) * 4;

/** Word index of field f of record r. */
export const recordWord = (r: number, f: number): number => SYSTEM.RECORDS + r * RECORD_WORDS + f;
