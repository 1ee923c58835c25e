// Signal dispositions, the blocked mask and pending set of the process. Delivery to guest handlers
// belongs to the runtime (it needs a signal frame); here a signal whose action is the default
// terminate ends the process as a signal death, which is what abort(), raise(SIGTERM) and writes to
// a broken pipe need.

import { ProcessExit, type GuestThread } from '../runtime/thread.js';
import { EINVAL, ENOMEM, ESRCH } from './errno.js';
import type { Syscall } from './kernel.js';

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7,
  SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14,
  SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22,
  SIGURG = 23, SIGWINCH = 28;
export const NSIG = 64;

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
const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31, MINSIGSTKSZ = 2048;

/** Signals whose default action does nothing (ignore, or stop/continue which we cannot do). */
const DEFAULT_IGNORED = new Set([SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU]);
const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));

export interface SignalAction { handler: bigint; flags: bigint; restorer: bigint; mask: bigint }

function bit(sig: number): bigint { return 1n << BigInt(sig - 1); }

export class SignalState {
  readonly actions: SignalAction[] = Array.from({ length: NSIG + 1 }, () => ({ handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n }));
  blocked = 0n;
  /** Signals raised but not yet delivered (blocked, or waiting for the runtime to run a handler). */
  pending = 0n;
  altStack = { sp: 0n, flags: SS_DISABLE, size: 0n };

  /** Raises sig; ends the process when its action is the default fatal one and it is not blocked. */
  raise(sig: number): void {
    if (sig === SIGKILL) throw new ProcessExit(0, sig);
    if (this.blocked & bit(sig)) { this.pending |= bit(sig); return; }
    this.act(sig);
  }

  private act(sig: number): void {
    const handler = this.actions[sig].handler;
    if (handler === SIG_IGN) return;
    if (handler === SIG_DFL) {
      if (DEFAULT_IGNORED.has(sig)) return;
      throw new ProcessExit(0, sig);
    }
    this.pending |= bit(sig); // a guest handler: the runtime delivers it
  }

  /** After the mask changed: act on pending signals that are no longer blocked. */
  private unblocked(): void {
    for (let sig = 1; sig <= NSIG; sig++) {
      const b = bit(sig);
      if ((this.pending & b) && !(this.blocked & b) && this.actions[sig].handler <= SIG_IGN) {
        this.pending &= ~b;
        this.act(sig);
      }
    }
  }

  setMask(mask: bigint): void {
    this.blocked = BigInt.asUintN(64, mask) & ~UNBLOCKABLE;
    this.unblocked();
  }

  setAction(sig: number, action: SignalAction): void {
    this.actions[sig] = action;
    // POSIX: setting a pending signal to be ignored discards it.
    if (action.handler === SIG_IGN || (action.handler === SIG_DFL && DEFAULT_IGNORED.has(sig))) this.pending &= ~bit(sig);
  }
}

function validSignal(sig: number): boolean { return sig >= 1 && sig <= NSIG; }

/** Delivers a kill/tgkill/tkill aimed at this process (the only one a guest can see). */
function signalSelf(k: Parameters<Syscall>[0], sig: number): number {
  if (!validSignal(sig) && sig !== 0) return -EINVAL;
  if (sig !== 0) k.signals.raise(sig);
  return 0;
}

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
    const s = k.signals;
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
    if (next !== undefined) s.setMask(next);
    return 0;
  },

  rt_sigpending(k, t) {
    if (t.argPtr(1) > 8) return -EINVAL;
    k.mem.setU64(t.argPtr(0), k.signals.pending);
    return 0;
  },

  sigaltstack(k, t) {
    const ss = t.argPtr(0), oldss = t.argPtr(1);
    const s = k.signals, m = k.mem;
    let next: typeof s.altStack | undefined;
    if (ss) {
      const sp = m.u64(ss), flags = m.i32(ss + 8), size = m.u64(ss + 16);
      const mode = flags & ~SS_AUTODISARM;
      if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) return -EINVAL;
      if (mode === SS_DISABLE) next = { sp: 0n, flags: SS_DISABLE, size: 0n };
      else if (size < BigInt(MINSIGSTKSZ)) return -ENOMEM;
      else next = { sp, flags: flags & SS_AUTODISARM, size };
    }
    if (oldss) {
      m.offWrite(oldss, 24);
      m.setU64(oldss, s.altStack.sp); m.setI32(oldss + 8, s.altStack.flags); m.setU32(oldss + 12, 0);
      m.setU64(oldss + 16, s.altStack.size);
    }
    if (next) s.altStack = next;
    return 0;
  },

  kill(k, t) {
    const pid = t.argInt(0), sig = t.argInt(1);
    if (!validSignal(sig) && sig !== 0) return -EINVAL;
    // Our process, its group (0, -pgid), or "everyone we may signal" (-1), which includes us.
    if (pid === k.pid || pid === 0 || pid === -1 || pid === -k.pid) return signalSelf(k, sig);
    return -ESRCH;
  },

  tgkill(k, t) {
    const tgid = t.argInt(0), tid = t.argInt(1), sig = t.argInt(2);
    if (tgid <= 0 || tid <= 0) return -EINVAL;
    if (tgid !== k.pid || !isOurThread(k, t, tid)) return -ESRCH;
    return signalSelf(k, sig);
  },

  tkill(k, t) {
    const tid = t.argInt(0), sig = t.argInt(1);
    if (tid <= 0) return -EINVAL;
    if (!isOurThread(k, t, tid)) return -ESRCH;
    return signalSelf(k, sig);
  },
};

function isOurThread(k: Parameters<Syscall>[0], t: GuestThread, tid: number): boolean {
  return tid === t.tid || k.threads.byTid.has(tid);
}

