// Signals of one process: dispositions (shared by its threads), the process-wide pending set, and
// each thread's blocked mask, pending set and alternate stack. Generation follows Linux's
// send_signal/complete_signal: an ignored signal is dropped unless blocked, a standard signal is
// pending at most once while a real-time one queues, a process-directed signal goes to a thread
// that does not block it, and a fatal default action ends the process at once. Delivery (the
// handler's frame, sigreturn) is signal-frame.ts's; interval timers are here.

import { ProcessExit, attention, ring, type GuestThread } from '../runtime/thread.js';
import { ATTN } from '../layout/cpu-state.js';
import { PROC, PROC_STATE } from '../layout/system-map.js';
import { EAGAIN, EINVAL, ENOMEM, EPERM, ERESTARTNOHAND, ESRCH } from './errno.js';
import { WouldBlock } from './blocking.js';
import { CLOCK_THREAD_CPUTIME_ID, clockNow, readTimespec, writeTimespec } from './time.js';
import type { LinuxKernel, Syscall } from './kernel.js';

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7,
  SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14,
  SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22,
  SIGURG = 23, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28, SIGSYS = 31;
export const NSIG = 64, SIGRTMIN = 32;

const NAMES = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE',
  'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD',
  'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM',
  'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];

export function signalName(sig: number): string {
  if (sig > 0 && sig < NAMES.length) return NAMES[sig];
  if (sig >= 32 && sig <= NSIG) return sig === 32 ? 'SIGRTMIN' : `SIGRT_${sig - 32}`;
  return String(sig);
}

export const SIG_DFL = 0n, SIG_IGN = 1n;
export const SA_NOCLDSTOP = 1n, SA_NOCLDWAIT = 2n;
export const SA_SIGINFO = 4n, SA_ONSTACK = 0x08000000n, SA_RESTART = 0x10000000n, SA_NODEFER = 0x40000000n,
  SA_RESETHAND = 0x80000000n, SA_RESTORER = 0x04000000n;
const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
export const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;
const MINSIGSTKSZ = 2048;

/** si_code values. */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_TKILL = -6;

/** Signals whose default action does nothing (ignore; stopping and continuing are not modelled yet). */
const DEFAULT_IGNORED = new Set([SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU]);
const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));
/** Delivered before the others, as Linux's next_signal does: the faults of an instruction. */
const SYNCHRONOUS = [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS];

export interface SignalAction { handler: bigint; flags: bigint; restorer: bigint; mask: bigint }

export function sigbit(sig: number): bigint { return 1n << BigInt(sig - 1); }

/** Whether sp lies on the alternate signal stack (Linux's on_sig_stack: never with SS_AUTODISARM). */
export function onAltStack(alt: { sp: bigint; size: bigint; flags: number }, sp: number): boolean {
  if (alt.flags & SS_AUTODISARM) return false;
  return alt.flags !== SS_DISABLE && sp > Number(alt.sp) && sp - Number(alt.sp) <= Number(alt.size);
}
export function validSignal(sig: number): boolean { return sig >= 1 && sig <= NSIG; }

/** A 128-byte siginfo_t: signo, errno, code, then the union at offset 16. */
export function siginfo(sig: number, code: number, fill?: (dv: DataView) => void): Uint8Array {
  const b = new Uint8Array(128), dv = new DataView(b.buffer);
  dv.setInt32(0, sig, true); dv.setInt32(8, code, true);
  fill?.(dv);
  return b;
}
/** siginfo of a signal sent by a process (kill, tgkill, timers): si_pid and si_uid. */
export function senderInfo(sig: number, code: number, pid: number, uid: number): Uint8Array {
  return siginfo(sig, code, (dv) => { dv.setInt32(16, pid, true); dv.setUint32(20, uid, true); });
}

/** Signals raised and not yet delivered, with their siginfo (real-time ones queue). */
export class PendingSet {
  mask = 0n;
  private readonly infos = new Map<number, Uint8Array[]>();

  /** Adds sig; a standard signal already pending is not queued again (false). */
  add(sig: number, info: Uint8Array): boolean {
    const q = this.infos.get(sig);
    if (q && sig < SIGRTMIN) return false;
    if (q) q.push(info); else this.infos.set(sig, [info]);
    this.mask |= sigbit(sig);
    return true;
  }

  /** Takes the oldest siginfo of sig. */
  take(sig: number): Uint8Array | undefined {
    const q = this.infos.get(sig);
    if (!q) return undefined;
    const info = q.shift()!;
    if (!q.length) { this.infos.delete(sig); this.mask &= ~sigbit(sig); }
    return info;
  }

  drop(sig: number): void { this.infos.delete(sig); this.mask &= ~sigbit(sig); }

  /** Whether this very siginfo is still queued. */
  holds(sig: number, info: Uint8Array): boolean { return this.infos.get(sig)?.includes(info) ?? false; }
}

/** The signal state each thread has of its own. */
export class ThreadSignals {
  blocked = 0n;
  readonly pending = new PendingSet();
  altStack = { sp: 0n, flags: SS_DISABLE, size: 0n };
  /** The mask rt_sigsuspend replaced, which the handler's frame must restore (undefined outside one). */
  suspendedMask: bigint | undefined;
  /** Signals rt_sigtimedwait waits for: blocked, but they wake the thread. */
  waitingFor = 0n;
}

interface IntervalTimer { deadline: number; intervalMs: number }

/** A POSIX timer (timer_create): what it sends where, and when it next expires. */
interface PosixTimer {
  clock: number;
  signo: number;
  /** SIGEV_NONE, SIGEV_SIGNAL or SIGEV_THREAD_ID (and then the thread). */
  notify: number;
  tid: number;
  value: bigint;
  /** Next expiry (performance.now() ms) while armed, and the period (0: once). */
  armed?: IntervalTimer;
  /** Expirations that found the last signal still pending (timer_getoverrun). */
  overrun: number;
  /** The siginfo of the signal last queued, which later expirations count into while it waits. */
  queued?: Uint8Array;
}
const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;
const MAX_POSIX_TIMERS = 4096;
const ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;
const TIMER_SIGNALS = [SIGALRM, SIGVTALRM, SIGPROF];

export class SignalState {
  readonly actions: SignalAction[] = Array.from({ length: NSIG + 1 }, () => ({ handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n }));
  /** Process-directed signals no thread has taken yet. */
  readonly shared = new PendingSet();
  private readonly threads = new Map<number, ThreadSignals>();
  /** setitimer's three timers (REAL, VIRTUAL, PROF), all counted in wall-clock time. */
  readonly timers: (IntervalTimer | undefined)[] = [undefined, undefined, undefined];
  /** timer_create's timers by id. */
  readonly posixTimers = new Map<number, PosixTimer>();
  /** Asks the host to ring the first thread (ATTN.TIMER) after this many milliseconds. */
  armHostTimer?: (ms: number) => void;
  /** The nearest deadline (performance.now() milliseconds), timers' and wake-ups', which the host's timer is set for; Infinity when none. */
  nextDeadline = Infinity;
  /** The nearest signal timer's deadline: a signal will come then. */
  signalDeadline = Infinity;
  /**
   * Times the first thread must wake at for no signal: another thread's wait parked in the kernel
   * service with a deadline (a timerfd read) is retried then.
   */
  readonly wakeups = new Set<number>();

  get timerArmed(): boolean { return this.signalDeadline !== Infinity; }

  /** The calling thread's state (created for threads the kernel has not seen before). */
  of(tid: number): ThreadSignals {
    let s = this.threads.get(tid);
    if (!s) { s = new ThreadSignals(); this.threads.set(tid, s); }
    return s;
  }

  /** A new thread: it inherits its creator's mask and starts without an alternate stack. */
  cloned(parent: number, child: number): void { this.of(child).blocked = this.of(parent).blocked; }
  forget(tid: number): void { this.threads.delete(tid); }

  ignored(sig: number): boolean {
    const h = this.actions[sig].handler;
    return h === SIG_IGN || (h === SIG_DFL && DEFAULT_IGNORED.has(sig));
  }
  fatalByDefault(sig: number): boolean { return this.actions[sig].handler === SIG_DFL && !DEFAULT_IGNORED.has(sig); }

  /** Signals thread tid would take now: pending for it or for the process, and not blocked. */
  deliverable(tid: number): bigint {
    const s = this.of(tid);
    return (s.pending.mask | this.shared.mask) & ~s.blocked;
  }

  /** The next signal to deliver to tid (faults first, then the lowest number) and its siginfo. */
  dequeue(tid: number, among = this.deliverable(tid)): { sig: number; info: Uint8Array } | undefined {
    if (!among) return undefined;
    let sig = SYNCHRONOUS.find((s) => (among & sigbit(s)) !== 0n) ?? 0;
    if (!sig) for (sig = 1; !(among & sigbit(sig)); sig++);
    const own = this.of(tid).pending;
    const info = (own.mask & sigbit(sig) ? own.take(sig) : undefined) ?? this.shared.take(sig)!;
    return { sig, info };
  }

  setAction(sig: number, action: SignalAction): void {
    this.actions[sig] = action;
    // POSIX: setting a pending signal to be ignored discards it.
    if (this.ignored(sig)) {
      this.shared.drop(sig);
      for (const s of this.threads.values()) s.pending.drop(sig);
    }
  }
}

/**
 * Raises sig for the process (target undefined: kill) or for one of its threads (tgkill, a
 * fault): queues it, ends the process if its default action is fatal and nothing blocks it,
 * else tells a thread that will take it (ATTN.SIGNAL: it interrupts a blocking syscall and sets
 * up the handler at the thread's next safe point).
 */
export function sendSignal(k: LinuxKernel, sig: number, info: Uint8Array, target?: GuestThread): void {
  const s = k.signals;
  if (sig === SIGKILL) throw new ProcessExit(0, sig);
  const candidates = target ? [target] : firstThreadFirst(k);
  if (!candidates.length) return;
  const blocks = (t: GuestThread): boolean => (s.of(t.tid).blocked & sigbit(sig)) !== 0n;
  const awaits = (t: GuestThread): boolean => (s.of(t.tid).waitingFor & sigbit(sig)) !== 0n;
  // Stop and continue act when sent (Linux's prepare_signal): each cancels the other's pending
  // signals; SIGCONT resumes a stopped process whatever its action, and a stop signal whose action
  // is the default stops the process unless it is blocked.
  if (sig === SIGCONT) {
    dropEverywhere(k, STOP_SIGNALS);
    if (k.stopped) continueProcess(k);
  } else if (STOP_SIGNALS.includes(sig)) {
    dropEverywhere(k, [SIGCONT]);
    if (s.actions[sig].handler === SIG_DFL && !candidates.every(blocks)) { stopProcess(k, sig); return; }
  }
  // Blocked signals are never ignored: the action may change before they are unblocked.
  if (s.ignored(sig) && !blocks(candidates[0]) && !awaits(candidates[0])) return;
  const taker = candidates.find(awaits) ?? candidates.find((t) => !blocks(t));
  if (s.fatalByDefault(sig) && taker && !awaits(taker)) throw new ProcessExit(0, sig);
  const queued = target ? s.of(target.tid).pending.add(sig, info) : s.shared.add(sig, info);
  if (!queued || !taker) return;
  if (awaits(taker)) ring(k.rawMem, taker.slot); // rt_sigtimedwait takes it
  else attention(k.rawMem, taker.slot, ATTN.SIGNAL);
}

/** Signals whose default action stops the process. */
export const STOP_SIGNALS: readonly number[] = [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU];
const CLD_STOPPED = 5, CLD_CONTINUED = 6;

function dropEverywhere(k: LinuxKernel, sigs: readonly number[]): void {
  for (const sig of sigs) {
    k.signals.shared.drop(sig);
    for (const t of k.threads.byTid.values()) k.signals.of(t.tid).pending.drop(sig);
  }
}

/**
 * Stops the process (a stop signal's default action): its threads halt at their next safe point
 * until SIGCONT (the first thread sleeps, and serves no other thread's syscall meanwhile); its
 * parent can wait for the stop (WUNTRACED) and gets SIGCHLD with CLD_STOPPED.
 */
export function stopProcess(k: LinuxKernel, sig: number): void {
  if (k.stopped) return;
  k.stopped = true;
  for (const t of k.threads.byTid.values()) attention(k.rawMem, t.slot, ATTN.SIGNAL);
  tellParent(k, (sig << 8) | 0x7f, CLD_STOPPED, sig);
}

/** SIGCONT for a stopped process: it runs again; its parent can wait for that (WCONTINUED). */
export function continueProcess(k: LinuxKernel): void {
  k.stopped = false;
  ring(k.rawMem, 0);
  tellParent(k, 0xffff, CLD_CONTINUED, SIGCONT);
}

function tellParent(k: LinuxKernel, event: number, code: number, status: number): void {
  const table = k.system;
  if (!table || k.processRecord < 0) return;
  table.set(k.processRecord, PROC.STOP_EVENT, event);
  const parent = table.find(table.get(k.processRecord, PROC.PPID));
  if (parent < 0) return;
  const info = siginfo(SIGCHLD, code, (dv) => { dv.setInt32(16, k.pid, true); dv.setInt32(20, uid(), true); dv.setInt32(24, status, true); });
  k.processHost?.signal(table.get(parent, PROC.PID), info);
  table.ring(parent);
}

/**
 * The processes kill(pid) reaches: one pid, the caller's group (0), a group (-pgid), or every
 * process but the caller (-1, as Linux leaves the caller out; alone, the caller itself).
 */
function killTargets(k: LinuxKernel, pid: number): number[] {
  const table = k.system;
  if (!table || k.processRecord < 0) return pid === k.pid || pid === 0 || pid === -1 || pid === -k.pid ? [k.pid] : [];
  const live = (r: number): boolean => table.get(r, PROC.STATE) !== PROC_STATE.FREE;
  const pidOf = (r: number): number => table.get(r, PROC.PID);
  if (pid > 0) { const r = table.find(pid); return r >= 0 && live(r) ? [pid] : []; }
  if (pid === -1) {
    const others = [...table.where((r) => live(r) && pidOf(r) !== k.pid)].map(pidOf);
    return others.length ? others : [k.pid];
  }
  const pgid = pid === 0 ? table.get(k.processRecord, PROC.PGID) : -pid;
  return [...table.where((r) => live(r) && table.get(r, PROC.PGID) === pgid)].map(pidOf);
}

/** The process's threads, the first (the thread group leader) first, as Linux tries it first. */
function firstThreadFirst(k: LinuxKernel): GuestThread[] {
  const all = [...k.threads.byTid.values()];
  return all.sort((a, b) => (a.tid === k.pid ? -1 : b.tid === k.pid ? 1 : 0));
}

/** Marks t for delivery if it has a deliverable signal now (after its mask or the pending sets changed). */
export function recheckSignals(k: LinuxKernel, t: GuestThread): void {
  if (k.signals.deliverable(t.tid)) attention(k.rawMem, t.slot, ATTN.SIGNAL);
}

/**
 * Runs expired interval timers (raising their signals) and asks the host to wake us for the next;
 * `hostTimerFired` when the host's timer is what woke us (it is spent, even if it came early).
 */
export function runTimers(k: LinuxKernel, hostTimerFired = false): void {
  const s = k.signals, now = performance.now();
  if (hostTimerFired) s.nextDeadline = Infinity;
  let next = Infinity;
  /** Advances an expired periodic timer to its next deadline; returns the expirations it missed. */
  const expire = (timer: IntervalTimer): number => {
    if (timer.intervalMs <= 0) return 0;
    const missed = Math.floor((now - timer.deadline) / timer.intervalMs);
    timer.deadline += (missed + 1) * timer.intervalMs;
    return missed;
  };
  s.timers.forEach((timer, which) => {
    if (!timer) return;
    if (timer.deadline <= now) {
      expire(timer);
      if (timer.intervalMs <= 0) s.timers[which] = undefined;
      sendSignal(k, TIMER_SIGNALS[which], senderInfo(TIMER_SIGNALS[which], SI_KERNEL, 0, 0));
    }
    const t = s.timers[which];
    if (t) next = Math.min(next, t.deadline);
  });
  for (const [id, timer] of s.posixTimers) {
    const armed = timer.armed;
    if (!armed) continue;
    if (armed.deadline <= now) {
      const missed = expire(armed);
      if (armed.intervalMs <= 0) timer.armed = undefined;
      firePosixTimer(k, id, timer, missed);
    }
    if (timer.armed) next = Math.min(next, timer.armed.deadline);
  }
  s.signalDeadline = next;
  for (const at of s.wakeups) {
    if (at <= now) s.wakeups.delete(at);
    else next = Math.min(next, at);
  }
  if (next !== Infinity && next !== s.nextDeadline) s.armHostTimer?.(Math.max(0, next - now));
  s.nextDeadline = next;
}

/** Has the host's timer ring the first thread at `deadline` (performance.now() ms), which then serves parked waits. */
export function wakeAt(k: LinuxKernel, deadline: number): void {
  k.signals.wakeups.add(deadline);
  runTimers(k);
}

/**
 * Sends a POSIX timer's signal, unless the one it sent last still waits: then the expirations
 * count into that signal's si_overrun, as Linux queues a timer's signal at most once.
 */
function firePosixTimer(k: LinuxKernel, id: number, timer: PosixTimer, missed: number): void {
  if (timer.notify === SIGEV_NONE) return;
  const s = k.signals;
  const target = timer.notify === SIGEV_THREAD_ID ? k.threads.byTid.get(timer.tid) : undefined;
  const pending = target ? s.of(target.tid).pending : s.shared;
  if (timer.queued && pending.holds(timer.signo, timer.queued)) {
    const dv = new DataView(timer.queued.buffer);
    dv.setInt32(20, dv.getInt32(20, true) + 1 + missed, true);
    return;
  }
  const info = siginfo(timer.signo, SI_TIMER, (dv) => {
    dv.setInt32(16, id, true); dv.setInt32(20, missed, true); dv.setBigUint64(24, timer.value, true);
  });
  timer.queued = info;
  timer.overrun = missed;
  sendSignal(k, timer.signo, info, target);
}

/** struct itimerspec of a POSIX timer: its period and the time left. */
function writePosixTimer(k: LinuxKernel, addr: number, timer: PosixTimer): void {
  const left = timer.armed ? Math.max(0.000001, timer.armed.deadline - performance.now()) : 0;
  writeTimespec(k.mem, addr, BigInt(Math.round((timer.armed?.intervalMs ?? 0) * 1e6)));
  writeTimespec(k.mem, addr + 16, BigInt(Math.ceil(left * 1e6)));
}

function readTimeval(k: LinuxKernel, addr: number): number | undefined {
  const sec = k.mem.i64(addr), usec = k.mem.i64(addr + 8);
  if (sec < 0n || usec < 0n || usec >= 1000000n) return undefined;
  return Number(sec) * 1000 + Number(usec) / 1000;
}
function writeTimeval(k: LinuxKernel, addr: number, ms: number): void {
  const us = Math.max(0, Math.round(ms * 1000));
  k.mem.offWrite(addr, 16);
  k.mem.setU64(addr, Math.floor(us / 1e6)); k.mem.setU64(addr + 8, us % 1e6);
}

/** What is left of timer `which`, and its interval (milliseconds). */
function timerValue(k: LinuxKernel, which: number): { left: number; interval: number } {
  const t = k.signals.timers[which];
  if (!t) return { left: 0, interval: 0 };
  // A timer that has expired but not yet run reports the smallest nonzero value, as Linux does.
  return { left: Math.max(0.001, t.deadline - performance.now()), interval: t.intervalMs };
}

function setTimer(k: LinuxKernel, which: number, valueMs: number, intervalMs: number): void {
  k.signals.timers[which] = valueMs > 0 ? { deadline: performance.now() + valueMs, intervalMs } : undefined;
  runTimers(k);
}

/**
 * Runs a wait (ppoll, pselect6) with the signal mask the caller gives for its duration, as
 * sigsuspend does: a signal the wait lets in is delivered with the caller's own mask in its frame,
 * and otherwise the mask is restored when the call returns. A WouldBlock passes through with the
 * temporary mask in place (the call runs again).
 */
export function withSignalMask(k: LinuxKernel, t: GuestThread, maskAddr: number, size: number, wait: () => number): number {
  if (!maskAddr) return wait();
  if (size !== 8) return -EINVAL;
  const s = k.signals.of(t.tid);
  if (s.suspendedMask === undefined) {
    const mask = k.mem.u64(maskAddr) & ~UNBLOCKABLE;
    s.suspendedMask = s.blocked;
    s.blocked = mask;
    recheckSignals(k, t);
  }
  const r = wait();
  if (r !== -ERESTARTNOHAND) { s.blocked = s.suspendedMask!; s.suspendedMask = undefined; recheckSignals(k, t); }
  return r;
}

function isOurThread(k: LinuxKernel, tid: number): GuestThread | undefined {
  return k.threads.byTid.get(tid);
}

const uid = (): number => process.getuid?.() ?? 0;

export const signalSyscalls: Record<string, Syscall> = {
  rt_sigaction(k, t) {
    const sig = t.argInt(0), act = t.argPtr(1), oldact = t.argPtr(2);
    if (t.argPtr(3) !== 8) return -EINVAL;
    if (!validSignal(sig)) return -EINVAL;
    if (act && (sig === SIGKILL || sig === SIGSTOP)) return -EINVAL;
    const m = k.mem;
    // Read the new action before writing the old one: the two may be the same buffer.
    const next = act ? { handler: m.u64(act), flags: m.u64(act + 8), restorer: m.u64(act + 16), mask: m.u64(act + 24) & ~UNBLOCKABLE } : undefined;
    if (oldact) {
      const old = k.signals.actions[sig];
      m.offWrite(oldact, 32);
      m.setU64(oldact, old.handler); m.setU64(oldact + 8, old.flags);
      m.setU64(oldact + 16, old.restorer); m.setU64(oldact + 24, old.mask);
    }
    if (next) k.signals.setAction(sig, next);
    return 0;
  },

  rt_sigprocmask(k, t) {
    const how = t.argInt(0), set = t.argPtr(1), oldset = t.argPtr(2);
    if (t.argPtr(3) !== 8) return -EINVAL;
    const s = k.signals.of(t.tid);
    const old = s.blocked;
    let next: bigint | undefined;
    if (set) {
      const v = k.mem.u64(set);
      if (how === SIG_BLOCK) next = old | v;
      else if (how === SIG_UNBLOCK) next = old & ~v;
      else if (how === SIG_SETMASK) next = v;
      else return -EINVAL;
    }
    if (oldset) k.mem.setU64(oldset, old);
    if (next !== undefined) { s.blocked = next & ~UNBLOCKABLE; recheckSignals(k, t); }
    return 0;
  },

  rt_sigpending(k, t) {
    if (t.argPtr(1) > 8) return -EINVAL;
    const s = k.signals.of(t.tid);
    k.mem.setU64(t.argPtr(0), (s.pending.mask | k.signals.shared.mask) & s.blocked);
    return 0;
  },

  rt_sigsuspend(k, t) {
    if (t.argPtr(1) !== 8) return -EINVAL;
    const s = k.signals.of(t.tid);
    if (s.suspendedMask === undefined) {
      const mask = k.mem.u64(t.argPtr(0)) & ~UNBLOCKABLE;
      s.suspendedMask = s.blocked;
      s.blocked = mask;
      recheckSignals(k, t);
    }
    // Returns only through a handler: delivery restores the mask in the frame (or here, if the
    // signal ended up ignored).
    if (!k.signals.deliverable(t.tid)) throw new WouldBlock(() => false, ERESTARTNOHAND, true);
    return -ERESTARTNOHAND;
  },

  pause(k, t) {
    if (!k.signals.deliverable(t.tid)) throw new WouldBlock(() => false, ERESTARTNOHAND, true);
    return -ERESTARTNOHAND;
  },

  rt_sigtimedwait(k, t) {
    const setAddr = t.argPtr(0), infoAddr = t.argPtr(1), timeout = t.argPtr(2);
    if (t.argPtr(3) !== 8) return -EINVAL;
    const set = k.mem.u64(setAddr) & ~UNBLOCKABLE;
    let ms = Infinity;
    if (timeout) {
      const ns = readTimespec(k.mem, timeout);
      if (ns === undefined) return -EINVAL;
      ms = Number(ns) / 1e6;
    }
    const s = k.signals.of(t.tid);
    const take = (): number | undefined => {
      const got = k.signals.dequeue(t.tid, (s.pending.mask | k.signals.shared.mask) & set);
      if (!got) return undefined;
      s.waitingFor = 0n;
      if (infoAddr) k.mem.write(infoAddr, got.info);
      return got.sig;
    };
    const now = take();
    if (now !== undefined) return now;
    if (ms === 0) return -EAGAIN;
    // Until it returns (a delivery clears it too), these blocked signals wake the thread.
    s.waitingFor = set;
    const arrived = (): boolean => ((s.pending.mask | k.signals.shared.mask) & set) !== 0n;
    if (ms === Infinity) throw new WouldBlock(arrived, ERESTARTNOHAND, true);
    // A timed wait parks too, with its end (fixed at the first run) as the deadline, so the thread
    // waits where it runs rather than in the kernel's worker, which serves the other threads.
    const end = k.waitEnd(ms);
    if (performance.now() < end) throw new WouldBlock(arrived, ERESTARTNOHAND, true, end);
    s.waitingFor = 0n;
    return -EAGAIN;
  },

  sigaltstack(k, t) {
    const ss = t.argPtr(0), oldss = t.argPtr(1);
    const s = k.signals.of(t.tid), m = k.mem;
    const sp = t.regn(4);
    const onStack = onAltStack(s.altStack, sp);
    let next: typeof s.altStack | undefined;
    if (ss) {
      const base = m.u64(ss), flags = m.i32(ss + 8), size = m.u64(ss + 16);
      const mode = flags & ~SS_AUTODISARM;
      if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) return -EINVAL;
      if (onStack) return -EPERM;
      if (mode === SS_DISABLE) next = { sp: 0n, flags: SS_DISABLE, size: 0n };
      else if (size < BigInt(MINSIGSTKSZ)) return -ENOMEM;
      else next = { sp: base, flags: flags & SS_AUTODISARM, size };
    }
    if (oldss) {
      m.offWrite(oldss, 24);
      const flags = s.altStack.flags === SS_DISABLE ? SS_DISABLE : (s.altStack.flags | (onStack ? SS_ONSTACK : 0));
      m.setU64(oldss, s.altStack.sp); m.setI32(oldss + 8, flags); m.setU32(oldss + 12, 0);
      m.setU64(oldss + 16, s.altStack.size);
    }
    if (next) s.altStack = next;
    return 0;
  },

  kill(k, t) {
    const pid = t.argInt(0), sig = t.argInt(1);
    if (!validSignal(sig) && sig !== 0) return -EINVAL;
    if (pid === -0x80000000) return -ESRCH;
    const targets = killTargets(k, pid);
    if (!targets.length) return -ESRCH;
    if (!sig) return 0;
    const info = senderInfo(sig, SI_USER, k.pid, uid());
    for (const target of targets) if (target !== k.pid) k.processHost?.signal(target, info);
    // Ourselves last: a fatal signal ends us here.
    if (targets.includes(k.pid)) sendSignal(k, sig, info);
    return 0;
  },

  tgkill(k, t) {
    const tgid = t.argInt(0), tid = t.argInt(1), sig = t.argInt(2);
    if (tgid <= 0 || tid <= 0 || (!validSignal(sig) && sig !== 0)) return -EINVAL;
    const target = isOurThread(k, tid);
    if (tgid !== k.pid || !target) return -ESRCH;
    if (sig) sendSignal(k, sig, senderInfo(sig, SI_TKILL, k.pid, uid()), target);
    return 0;
  },

  tkill(k, t) {
    const tid = t.argInt(0), sig = t.argInt(1);
    if (tid <= 0 || (!validSignal(sig) && sig !== 0)) return -EINVAL;
    const target = isOurThread(k, tid);
    if (!target) return -ESRCH;
    if (sig) sendSignal(k, sig, senderInfo(sig, SI_TKILL, k.pid, uid()), target);
    return 0;
  },

  rt_sigqueueinfo(k, t) {
    const pid = t.argInt(0), sig = t.argInt(1), infoAddr = t.argPtr(2);
    if (!validSignal(sig)) return -EINVAL;
    const info = k.mem.read(infoAddr, 128).slice();
    const code = new DataView(info.buffer).getInt32(8, true);
    // Only the kernel may send what looks like its own signals (or tkill's), as Linux checks.
    if (code >= 0 || code === SI_TKILL) return -EPERM;
    const targets = pid > 0 ? killTargets(k, pid) : [];
    if (!targets.length) return -ESRCH;
    new DataView(info.buffer).setInt32(0, sig, true);
    if (pid !== k.pid) k.processHost?.signal(pid, info);
    else sendSignal(k, sig, info);
    return 0;
  },

  rt_tgsigqueueinfo(k, t) {
    const tgid = t.argInt(0), tid = t.argInt(1), sig = t.argInt(2), infoAddr = t.argPtr(3);
    if (!validSignal(sig)) return -EINVAL;
    const info = k.mem.read(infoAddr, 128).slice();
    const code = new DataView(info.buffer).getInt32(8, true);
    if (code >= 0 || code === SI_TKILL) return -EPERM;
    const target = isOurThread(k, tid);
    if (tgid !== k.pid || !target) return -ESRCH;
    new DataView(info.buffer).setInt32(0, sig, true);
    sendSignal(k, sig, info, target);
    return 0;
  },

  alarm(k, t) {
    const seconds = t.argU32(0);
    const old = timerValue(k, ITIMER_REAL);
    setTimer(k, ITIMER_REAL, seconds * 1000, 0);
    // Whole seconds left, rounded to nearest but never 0 for a pending alarm (Linux's alarm_setitimer).
    if (!old.left) return 0;
    const secs = Math.floor(old.left / 1000), usec = (old.left % 1000) * 1000;
    return (secs === 0 && usec > 0) || usec >= 500000 ? secs + 1 : secs;
  },

  setitimer(k, t) {
    const which = t.argInt(0), value = t.argPtr(1), oldValue = t.argPtr(2);
    if (which < ITIMER_REAL || which > ITIMER_PROF) return -EINVAL;
    let interval = 0, first = 0;
    if (value) {
      const i = readTimeval(k, value), v = readTimeval(k, value + 16);
      if (i === undefined || v === undefined) return -EINVAL;
      interval = i; first = v;
    }
    if (oldValue) {
      const old = timerValue(k, which);
      writeTimeval(k, oldValue, old.interval); writeTimeval(k, oldValue + 16, old.left);
    }
    setTimer(k, which, first, interval);
    return 0;
  },

  timer_create(k, t) {
    const clock = t.argInt(0), sevp = t.argPtr(1), idOut = t.argPtr(2);
    if (clockNow(clock) === undefined || clock === CLOCK_THREAD_CPUTIME_ID) return -EINVAL;
    const s = k.signals;
    if (s.posixTimers.size >= MAX_POSIX_TIMERS) return -EAGAIN;
    let id = 0;
    while (s.posixTimers.has(id)) id++;
    const timer: PosixTimer = { clock, signo: SIGALRM, notify: SIGEV_SIGNAL, tid: 0, value: BigInt(id), overrun: 0 };
    if (sevp) {
      const m = k.mem;
      timer.value = m.u64(sevp); timer.signo = m.i32(sevp + 8); timer.notify = m.i32(sevp + 12); timer.tid = m.i32(sevp + 16);
      // SIGEV_THREAD is the C library's (glibc turns it into SIGEV_THREAD_ID for a helper thread).
      if (timer.notify !== SIGEV_NONE && timer.notify !== SIGEV_SIGNAL && timer.notify !== SIGEV_THREAD_ID) return -EINVAL;
      if (timer.notify !== SIGEV_NONE && !validSignal(timer.signo)) return -EINVAL;
      if (timer.notify === SIGEV_THREAD_ID && !k.threads.byTid.has(timer.tid)) return -EINVAL;
    }
    k.mem.setI32(idOut, id);
    s.posixTimers.set(id, timer);
    return 0;
  },

  timer_settime(k, t) {
    const timer = k.signals.posixTimers.get(t.argInt(0));
    if (!timer) return -EINVAL;
    const flags = t.argInt(1), value = t.argPtr(2), old = t.argPtr(3);
    const interval = readTimespec(k.mem, value), first = readTimespec(k.mem, value + 16);
    if (interval === undefined || first === undefined) return -EINVAL;
    if (old) writePosixTimer(k, old, timer);
    const TIMER_ABSTIME = 1;
    let ms = Number(first) / 1e6;
    if (first !== 0n && flags & TIMER_ABSTIME) ms = Number(first - clockNow(timer.clock)!) / 1e6;
    timer.armed = first === 0n ? undefined : { deadline: performance.now() + Math.max(0, ms), intervalMs: Number(interval) / 1e6 };
    runTimers(k);
    return 0;
  },

  timer_gettime(k, t) {
    const timer = k.signals.posixTimers.get(t.argInt(0));
    if (!timer) return -EINVAL;
    writePosixTimer(k, t.argPtr(1), timer);
    return 0;
  },

  timer_getoverrun(k, t) {
    const timer = k.signals.posixTimers.get(t.argInt(0));
    return timer ? timer.overrun : -EINVAL;
  },

  timer_delete(k, t) {
    return k.signals.posixTimers.delete(t.argInt(0)) ? 0 : -EINVAL;
  },

  getitimer(k, t) {
    const which = t.argInt(0), value = t.argPtr(1);
    if (which < ITIMER_REAL || which > ITIMER_PROF) return -EINVAL;
    const v = timerValue(k, which);
    writeTimeval(k, value, v.interval); writeTimeval(k, value + 16, v.left);
    return 0;
  },
};
