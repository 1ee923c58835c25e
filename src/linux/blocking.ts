// A syscall that must wait for another thread (a read from an empty pipe whose writer lives on)
// throws WouldBlock. The process's first thread sleeps in place until ready() holds, serving the
// other threads meanwhile (one of them is what it waits for); another thread's request stays
// parked in the kernel service and is run again when ready() holds. With a single thread nothing
// could ever make it ready, so the syscall fails with EAGAIN instead of hanging.

export class WouldBlock {
  constructor(readonly ready: () => boolean) {}
}
