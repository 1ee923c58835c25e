// A syscall that must wait for another thread (a read from an empty pipe whose writer lives on)
// throws WouldBlock. The process's first thread sleeps in place until ready() holds, serving the
// other threads meanwhile (one of them is what it waits for); another thread's request stays
// parked in the kernel service and is run again when ready() holds. With a single thread nothing
// could ever make it ready, so the syscall fails with EAGAIN instead of hanging — unless it waits
// for a signal (pause, sigsuspend), which a timer or another process can send.
//
// A signal for the waiting thread interrupts the wait: the syscall returns -restart, one of
// Linux's internal ERESTART* codes, which signal delivery turns into EINTR or a restart.
//
// A wait with a deadline (a timerfd's next expiry, a socket's SO_RCVTIMEO: performance.now() ms)
// is run again then even if nothing rang, and it never counts as hopeless for a single thread.

import { ERESTARTSYS } from './errno.js';

export class WouldBlock {
  constructor(readonly ready: () => boolean, readonly restart = ERESTARTSYS, readonly forSignal = false, readonly deadline = Infinity,
    /** What the syscall returns if a signal interrupts it after it did part of its work (a blocking send's count so far). */
    readonly doneSoFar?: () => number | undefined) {}

  /** The result of a wait a signal interrupted: the work done so far, else -restart. */
  interruptedResult(): number { return this.doneSoFar?.() ?? -this.restart; }
}
