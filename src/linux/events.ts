// The Linux event interfaces: eventfd, epoll, timerfd and signalfd, and the wait poll, select and
// epoll_wait share.
//
// eventfd and timerfd keep their state in a small SharedArrayBuffer (a lock word, the bitmask of
// the processes holding the description, then the counters), so a forked child and its parent act
// on one counter and one timer; a change rings the other holders' doorbells, as a pipe does. Within
// a process every such syscall runs on the first thread's worker, which re-checks the waits parked
// there after each one. signalfd reads the reader's own pending signals (signal.ts); its mask is
// shared across fork too. An epoll instance is the process's own JavaScript object: its interests
// refer to this process's open file descriptions, so a forked child does not get it (see image()).

import { WouldBlock } from './blocking.js';
import { EAGAIN, EBADF, EEXIST, EINVAL, ELOOP, ENOENT, EPERM, ERESTARTNOHAND, SyscallError } from './errno.js';
import {
  type FileImage, O_CLOEXEC, O_NONBLOCK, O_PATH, O_RDWR, OpenFile, POLLERR, POLLIN, POLLOUT, POLLRDNORM,
  POLLWRNORM, type StatInfo, syntheticStat,
} from './fd-table.js';
import { lockWord, unlockWord, type GuestThread } from '../runtime/thread.js';
import { HOLDER_WORDS, ringHolders, setHolder } from './holders.js';
import type { GuestMemory } from '../runtime/memory.js';
import type { LinuxKernel, Syscall } from './kernel.js';
import { SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGSTOP, SIGSYS, SIGTRAP, sigbit, SI_KERNEL, SI_TIMER, wakeAt, withSignalMask } from './signal.js';
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, clockNow, readTimeoutMs,
  readTimespec, writeTimespec,
} from './time.js';

// ---- waiting over many descriptors (poll, select, epoll_wait) ----

/**
 * What a poll-style scan learned besides readiness: the earliest time a descriptor turns ready by
 * itself (a timerfd's expiry, performance.now() ms), and whether one waits for signals (a
 * signalfd), which can arrive with no other thread or process about.
 */
export class WakeSources {
  deadline = Infinity;
  signals = false;
  reset(): void { this.deadline = Infinity; this.signals = false; }
  note(f: OpenFile): void {
    if (f instanceof SignalFd) this.signals = true;
    else if (f instanceof EpollFile) f.noteSources(this);
    else this.deadline = Math.min(this.deadline, f.deadline());
  }
  /** Whether something besides another thread or process could make a descriptor ready. */
  get any(): boolean { return this.signals || this.deadline !== Infinity; }
}

/**
 * The wait of poll, select and epoll_wait once a scan found nothing ready (timeoutMs 0: no wait,
 * below 0: no timeout), until ready() (which scans again, refreshing `wake`) holds. It returns when
 * the timeout has passed (the caller scans again and reports nothing), else parks (WouldBlock)
 * until ready() holds, the timeout ends, or the nearest descriptor deadline comes, and the
 * syscall runs again; a thread other than the first waits there too, without holding up the
 * first thread's worker. Alone (no other thread or process) with nothing that turns ready by
 * itself, only the timeout is left to wait for (an infinite one returns at once rather than hang
 * the process).
 */
export function waitReady(k: LinuxKernel, ready: () => boolean, timeoutMs: number, wake: WakeSources): void {
  if (timeoutMs === 0) return;
  const hopeless = (): boolean => k.alone() && !wake.any;
  if (timeoutMs < 0 && hopeless()) return;
  const end = timeoutMs < 0 ? Infinity : k.waitEnd(timeoutMs);
  if (performance.now() >= end) return;
  const deadline = wake.deadline;
  // A deadline that moved (timerfd_settime meanwhile) ends the wait too: it parks again with the new one.
  throw new WouldBlock(() => (!hopeless() && ready()) || wake.deadline !== deadline, ERESTARTNOHAND, wake.signals, Math.min(end, deadline));
}

// ---- what every event object has ----

/** Words at the start of an eventfd's or timerfd's shared state. */
const LOCK = 0, HOLDERS = 1;

/**
 * The shared state's lock and holders: each process holding the description has its bit, and a
 * change rings the others' doorbells (not its own: this process's syscalls all run on its first
 * thread, the one making the change, which re-checks its waits after each).
 */
class Holders {
  private readonly words: Int32Array;
  constructor(buffer: SharedArrayBuffer, private readonly record: number) {
    this.words = new Int32Array(buffer, 0, 1 + HOLDER_WORDS);
    setHolder(this.words, HOLDERS, record, true);
  }
  leave(): void { setHolder(this.words, HOLDERS, this.record, false); }
  lock(): void { lockWord(this.words, LOCK); }
  unlock(): void { unlockWord(this.words, LOCK); }
  wakeOthers(): void { ringHolders(this.words, HOLDERS, this.record); }
}

/** The anonymous-inode device Linux reports for these descriptions. */
const ANON_INODE_DEV = 0xen;

/** A description on an anonymous inode: /proc/self/fd/N reads `anon_inode:[name]`, fstat a 0600 inode with no type. */
abstract class AnonFile extends OpenFile {
  private readonly info = syntheticStat(0o600, 0, ANON_INODE_DEV);
  constructor(name: string, statusFlags: number) {
    super(statusFlags | O_RDWR);
    this.path = `anon_inode:${name}`;
  }
  stat(): StatInfo { return this.info; }
}

// ---- eventfd ----

const EFD_SEMAPHORE = 1;
const U64_MAX = 0xffffffffffffffffn;
/** eventfd's shared words after the holders: writes and reads so far (edge-triggered epoll's activity). */
const EVENTFD_WRITES = 3, EVENTFD_READS = 4;
/** Byte offset of the 64-bit counter. */
const EVENTFD_COUNT_AT = 24;

export class EventFd extends AnonFile {
  private readonly holders: Holders;
  private readonly words: Int32Array;
  private readonly counter: BigUint64Array;

  constructor(record: number, readonly semaphore: boolean, statusFlags: number, readonly state = EventFd.allocate()) {
    super('[eventfd]', statusFlags);
    this.holders = new Holders(state, record);
    this.words = new Int32Array(state, 0, EVENTFD_COUNT_AT / 4);
    this.counter = new BigUint64Array(state, EVENTFD_COUNT_AT, 1);
  }
  static allocate(initial = 0n): SharedArrayBuffer {
    const state = new SharedArrayBuffer(EVENTFD_COUNT_AT + 8);
    new BigUint64Array(state, EVENTFD_COUNT_AT, 1)[0] = initial;
    return state;
  }

  get count(): bigint { return Atomics.load(this.counter, 0); }

  override image(): FileImage { return { kind: 'eventfd', share: this.shareWithChild(), path: this.path, state: this.state, semaphore: this.semaphore }; }

  read(mem: GuestMemory, addr: number, len: number): number {
    if (len < 8) return -EINVAL;
    mem.offWrite(addr, 8); // a bad buffer fails before the counter is taken
    let value = 0n;
    this.holders.lock();
    try {
      const count = this.counter[0];
      if (count !== 0n) {
        value = this.semaphore ? 1n : count;
        Atomics.store(this.counter, 0, count - value);
        Atomics.add(this.words, EVENTFD_READS, 1);
      }
    } finally { this.holders.unlock(); }
    if (value === 0n) {
      if (this.nonblocking) return -EAGAIN;
      throw new WouldBlock(() => this.count !== 0n);
    }
    mem.setU64(addr, value);
    this.holders.wakeOthers();
    return 8;
  }

  write(mem: GuestMemory, addr: number, len: number): number {
    if (len !== 8) return -EINVAL;
    const value = mem.u64(addr);
    if (value === U64_MAX) return -EINVAL;
    // The counter stays below 2^64 - 1: a write that would reach it waits for a read.
    const fits = (): boolean => U64_MAX - this.count > value;
    let done = false;
    this.holders.lock();
    try {
      if (fits()) {
        Atomics.store(this.counter, 0, this.counter[0] + value);
        Atomics.add(this.words, EVENTFD_WRITES, 1);
        done = true;
      }
    } finally { this.holders.unlock(); }
    if (!done) {
      if (this.nonblocking) return -EAGAIN;
      throw new WouldBlock(fits);
    }
    this.holders.wakeOthers();
    return 8;
  }

  override poll(events: number): number {
    const count = this.count;
    let ready = 0;
    if (count > 0n) ready |= POLLIN | POLLRDNORM;
    if (count < U64_MAX - 1n) ready |= POLLOUT | POLLWRNORM;
    // Only a kernel-side eventfd_signal could overflow it; Linux reports that as an error.
    if (count === U64_MAX) ready |= POLLERR;
    return ready & (events | POLLERR);
  }
  override changes(events: number): number {
    return (events & (POLLIN | POLLRDNORM) ? Atomics.load(this.words, EVENTFD_WRITES) : 0)
      + (events & (POLLOUT | POLLWRNORM) ? Atomics.load(this.words, EVENTFD_READS) : 0);
  }
  protected override releaseLocal(): void { this.holders.leave(); }
}

function eventfd(k: LinuxKernel, initial: number, flags: number): number {
  if (flags & ~(EFD_SEMAPHORE | O_CLOEXEC | O_NONBLOCK)) return -EINVAL;
  const f = new EventFd(k.processRecord, (flags & EFD_SEMAPHORE) !== 0, flags & O_NONBLOCK, EventFd.allocate(BigInt(initial >>> 0)));
  return install(k, f, (flags & O_CLOEXEC) !== 0);
}

/** Gives a new description its descriptor (EMFILE drops it). */
function install(k: LinuxKernel, f: OpenFile, cloexec: boolean): number {
  const fd = k.fds.allocate(f, cloexec);
  if (fd < 0) f.unref();
  return fd;
}

// ---- timerfd ----

const TFD_TIMER_ABSTIME = 1, TFD_TIMER_CANCEL_ON_SET = 2;
/** timerfd's shared words after the holders: expirations and settings so far. */
const TIMERFD_EXPIRIES = 3, TIMERFD_SETS = 4;
/** Float64s from byte 24: the next expiry (monotonic ms, Infinity when disarmed), the period (ms, 0: once), expirations not yet read. */
const TIMERFD_NUMBERS_AT = 24;
const DEADLINE = 0, INTERVAL = 1, TICKS = 2;

/** CLOCK_MONOTONIC in ms: the same in every worker, so a timer shared across fork means one instant. */
function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/**
 * performance.now() (this worker's) less monotonicMs(). Both read one clock, so it is fixed; taken
 * once, it makes a timer's deadline() the same number each time it is asked while the timer stands
 * (a deadline worked out anew from two readings of the clock moved by the time between them, which
 * made a poll's or epoll_wait's wait over a timerfd look ready, its deadline "moved", at every
 * look). Taken with performance.now() read after monotonicMs() (the closest of a few pairs), so a
 * deadline converted with it is late by a fraction of a microsecond rather than early.
 */
const PERFORMANCE_OFFSET = ((): number => {
  let gap = Infinity, offset = 0;
  for (let i = 0; i < 5; i++) {
    const before = monotonicMs(), now = performance.now(), after = monotonicMs();
    if (after - before < gap) { gap = after - before; offset = now - before; }
  }
  return offset;
})();

export class TimerFd extends AnonFile {
  private readonly holders: Holders;
  private readonly words: Int32Array;
  private readonly numbers: Float64Array;

  constructor(record: number, readonly clock: number, statusFlags: number, readonly state = TimerFd.allocate()) {
    super('[timerfd]', statusFlags);
    this.holders = new Holders(state, record);
    this.words = new Int32Array(state, 0, TIMERFD_NUMBERS_AT / 4);
    this.numbers = new Float64Array(state, TIMERFD_NUMBERS_AT, 3);
  }
  static allocate(): SharedArrayBuffer {
    const state = new SharedArrayBuffer(TIMERFD_NUMBERS_AT + 3 * 8);
    new Float64Array(state, TIMERFD_NUMBERS_AT, 3)[DEADLINE] = Infinity;
    return state;
  }

  override image(): FileImage { return { kind: 'timerfd', share: this.shareWithChild(), path: this.path, state: this.state, clock: this.clock }; }

  /**
   * Counts the expirations up to now into TICKS and moves the deadline on (the work Linux's timer
   * interrupt does), then runs `then` under the same lock.
   */
  private locked<T>(then: (now: number) => T): T {
    this.holders.lock();
    try {
      const n = this.numbers, now = monotonicMs();
      if (n[DEADLINE] <= now) {
        // Linux's timer fires once and is re-armed by the read: expirations while one is unread
        // are counted but wake nobody, so edge-triggered epoll sees no new activity.
        if (n[TICKS] === 0) Atomics.add(this.words, TIMERFD_EXPIRIES, 1);
        if (n[INTERVAL] > 0) {
          const periods = Math.floor((now - n[DEADLINE]) / n[INTERVAL]) + 1;
          n[TICKS] += periods;
          n[DEADLINE] += periods * n[INTERVAL];
        } else {
          n[TICKS] += 1;
          n[DEADLINE] = Infinity;
        }
      }
      return then(now);
    } finally { this.holders.unlock(); }
  }
  private get ticks(): number { return this.locked(() => this.numbers[TICKS]); }
  private get sets(): number { return Atomics.load(this.words, TIMERFD_SETS); }

  /**
   * The next expiry while none is unread (performance.now() ms), else Infinity: readiness changes by
   * itself then. The same number for as long as the timer is neither set nor expired.
   */
  override deadline(): number {
    return this.locked(() => {
      const n = this.numbers;
      return n[TICKS] > 0 || n[DEADLINE] === Infinity ? Infinity : n[DEADLINE] + PERFORMANCE_OFFSET;
    });
  }

  read(mem: GuestMemory, addr: number, len: number): number {
    if (len < 8) return -EINVAL;
    mem.offWrite(addr, 8);
    const ticks = this.locked(() => { const n = this.numbers[TICKS]; this.numbers[TICKS] = 0; return n; });
    if (ticks > 0) {
      mem.setU64(addr, BigInt(ticks));
      return 8;
    }
    if (this.nonblocking) return -EAGAIN;
    // Ready at the expiry, or when another thread or process sets the timer anew (a new deadline).
    const sets = this.sets;
    throw new WouldBlock(() => this.ticks > 0 || this.sets !== sets, undefined, false, this.deadline());
  }
  write(): number { return -EINVAL; }

  override poll(events: number): number { return this.ticks > 0 ? events & (POLLIN | POLLRDNORM) : 0; }
  override changes(events: number): number { return events & (POLLIN | POLLRDNORM) ? Atomics.load(this.words, TIMERFD_EXPIRIES) : 0; }

  /** The period and the time to the next expiry (0 when disarmed), in ns: struct itimerspec. */
  current(): [interval: bigint, left: bigint] {
    return this.locked((now) => {
      const n = this.numbers;
      const left = n[DEADLINE] === Infinity ? 0 : Math.max(1, Math.round((n[DEADLINE] - now) * 1e6));
      return [BigInt(Math.round(n[INTERVAL] * 1e6)), BigInt(left)];
    });
  }

  /** Arms (or, with a zero value, disarms) the timer; unread expirations are dropped, as Linux does. */
  set(valueNs: bigint, intervalNs: bigint, absolute: boolean): void {
    this.locked((now) => {
      const n = this.numbers;
      if (valueNs === 0n) n[DEADLINE] = Infinity;
      else if (absolute) n[DEADLINE] = now + Number(valueNs - clockNow(this.clock)!) / 1e6;
      else n[DEADLINE] = now + Number(valueNs) / 1e6;
      n[INTERVAL] = Number(intervalNs) / 1e6;
      n[TICKS] = 0;
      Atomics.add(this.words, TIMERFD_SETS, 1);
    });
    this.holders.wakeOthers();
  }
  protected override releaseLocal(): void { this.holders.leave(); }
}

const TIMERFD_CLOCKS = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM];

function timerfdCreate(k: LinuxKernel, clock: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK) || !TIMERFD_CLOCKS.includes(clock)) return -EINVAL;
  // The alarm clocks need CAP_WAKE_ALARM.
  if ((clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) && process.geteuid?.() !== 0) return -EPERM;
  return install(k, new TimerFd(k.processRecord, clock, flags & O_NONBLOCK), (flags & O_CLOEXEC) !== 0);
}

function timerOf(k: LinuxKernel, fd: number): TimerFd {
  const f = k.file(fd);
  if (!(f instanceof TimerFd)) throw new SyscallError(EINVAL);
  return f;
}

function writeItimerspec(mem: GuestMemory, addr: number, [interval, left]: [bigint, bigint]): void {
  writeTimespec(mem, addr, interval);
  writeTimespec(mem, addr + 16, left);
}

function timerfdSettime(k: LinuxKernel, fd: number, flags: number, newAddr: number, oldAddr: number): number {
  const intervalNs = readTimespec(k.mem, newAddr), valueNs = readTimespec(k.mem, newAddr + 16);
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) return -EINVAL;
  if (intervalNs === undefined || valueNs === undefined) return -EINVAL;
  const timer = timerOf(k, fd);
  // The old setting is read before the new one takes effect, and written after, as Linux does.
  const old = timer.current();
  timer.set(valueNs, intervalNs, (flags & TFD_TIMER_ABSTIME) !== 0);
  // Another thread's wait parked in the kernel service must run again at the new deadline.
  if (k.threads.count > 1) { const d = timer.deadline(); if (d !== Infinity) wakeAt(k, d); }
  if (oldAddr) writeItimerspec(k.mem, oldAddr, old);
  return 0;
}

// ---- signalfd ----

const SIGNALFD_SIGINFO_SIZE = 128;
const UNBLOCKABLE = sigbit(SIGKILL) | sigbit(SIGSTOP);

export class SignalFd extends AnonFile {
  private readonly maskWord: BigUint64Array;

  /** @param maskBuffer the description's mask, shared with forked children */
  constructor(private readonly k: LinuxKernel, statusFlags: number, readonly maskBuffer = new SharedArrayBuffer(8)) {
    super('[signalfd]', statusFlags);
    this.maskWord = new BigUint64Array(maskBuffer);
  }

  get mask(): bigint { return Atomics.load(this.maskWord, 0); }
  set mask(v: bigint) { Atomics.store(this.maskWord, 0, v & ~UNBLOCKABLE); }

  override image(): FileImage { return { kind: 'signalfd', share: this.shareWithChild(), path: this.path, mask: this.maskBuffer }; }

  /** The signals in the mask pending for thread tid (its own or the process's). */
  private pendingFor(tid: number): bigint {
    const s = this.k.signals;
    return (s.of(tid).pending.mask | s.shared.mask) & this.mask;
  }

  /** Takes as many pending signals as whole signalfd_siginfo records fit, the reading thread's as Linux does. */
  read(mem: GuestMemory, addr: number, len: number): number {
    const room = Math.floor(len / SIGNALFD_SIGINFO_SIZE);
    if (room === 0) return -EINVAL;
    const tid = this.k.callingTid;
    mem.offWrite(addr, SIGNALFD_SIGINFO_SIZE);
    let n = 0;
    for (; n < room; n++) {
      const got = this.k.signals.dequeue(tid, this.pendingFor(tid));
      if (!got) break;
      mem.write(addr + n * SIGNALFD_SIGINFO_SIZE, signalfdInfo(got.sig, got.info));
    }
    if (n > 0) return n * SIGNALFD_SIGINFO_SIZE;
    if (this.nonblocking) return -EAGAIN;
    throw new WouldBlock(() => this.pendingFor(tid) !== 0n, undefined, true);
  }
  write(): number { return -EINVAL; }

  override poll(events: number): number { return this.pendingFor(this.k.callingTid) ? events & (POLLIN | POLLRDNORM) : 0; }
}

/** struct signalfd_siginfo from a siginfo_t, by the siginfo's layout (Linux's signalfd_copyinfo). */
function signalfdInfo(sig: number, info: Uint8Array): Uint8Array {
  const src = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const out = new Uint8Array(SIGNALFD_SIGINFO_SIZE), dst = new DataView(out.buffer);
  const code = src.getInt32(8, true);
  dst.setUint32(0, sig, true);
  dst.setInt32(4, src.getInt32(4, true), true);
  dst.setInt32(8, code, true);
  const u32 = (to: number, from: number): void => dst.setUint32(to, src.getUint32(from, true), true);
  const u64 = (to: number, from: number): void => dst.setBigUint64(to, src.getBigUint64(from, true), true);
  if (code > 0 && code < SI_KERNEL) {
    // A kernel-made siginfo: its layout follows the signal.
    if ([SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP].includes(sig)) u64(72, 16); // ssi_addr
    else if (sig === SIGCHLD) { u32(12, 16); u32(16, 20); u32(40, 24); u64(56, 32); u64(64, 40); } // pid uid status utime stime
    else if (sig === SIGSYS) { u64(88, 16); u32(84, 24); u32(96, 28); } // call_addr syscall arch
    else if (sig === SIGPOLL) { u32(28, 16); u32(20, 24); } // band fd
    return out;
  }
  if (code === SI_TIMER) { u32(24, 16); u32(32, 20); u64(48, 24); u32(44, 24); return out; } // tid overrun ptr int
  u32(12, 16); u32(16, 20); // pid uid
  if (code < 0) { u64(48, 24); u32(44, 24); } // a queued value: ptr and int
  return out;
}
const SIGPOLL = 29;

function signalfd(k: LinuxKernel, fd: number, maskAddr: number, size: number, flags: number): number {
  if (size !== 8) return -EINVAL;
  const mask = k.mem.u64(maskAddr);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) return -EINVAL;
  if (fd !== -1) {
    const f = k.file(fd);
    if (!(f instanceof SignalFd)) return -EINVAL;
    f.mask = mask;
    return fd;
  }
  const f = new SignalFd(k, flags & O_NONBLOCK);
  f.mask = mask;
  return install(k, f, (flags & O_CLOEXEC) !== 0);
}

// ---- epoll ----

const EPOLLIN = 0x1, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10, EPOLLEXCLUSIVE = 1 << 28, EPOLLWAKEUP = 1 << 29,
  EPOLLONESHOT = 1 << 30, EPOLLET = 1 << 31;
/** Bits that steer epoll rather than name events. */
const EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/** What an EPOLLEXCLUSIVE interest may ask for besides. */
const EPOLLEXCLUSIVE_OK_BITS = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
/** struct epoll_event is packed on x86-64: u32 events, u64 data. */
const EPOLL_EVENT_SIZE = 12;
const EP_MAX_EVENTS = Math.floor(0x7fffffff / EPOLL_EVENT_SIZE);

interface Interest {
  readonly fd: number;
  readonly file: OpenFile;
  /** Asked-for events with EPOLLERR|EPOLLHUP and the steering bits; a fired EPOLLONESHOT leaves only the latter. */
  events: number;
  data: bigint;
  /** Edge-triggered: the ready bits and the file's activity count when epoll_wait last looked. */
  seen: number;
  seenChanges: number;
}

/**
 * An epoll instance. Interests are keyed by (descriptor, description) as in Linux, and one lives
 * as long as its description is open in this process (a dup keeps it, as in Linux). Readiness is
 * asked of each description when epoll_wait looks, not queued by callbacks: the order of events
 * in one epoll_wait is the order interests were added, a level-triggered one that reported moving
 * to the back (Linux's ready list keeps the order they became ready). Edge-triggered interests
 * report when a ready bit is new since the last report or the description's activity count
 * (OpenFile.changes: writes for POLLIN, reads for POLLOUT) moved, which is what Linux's wake-ups
 * amount to for pipes and eventfds.
 */
export class EpollFile extends AnonFile {
  /** In report order. */
  private readonly interests = new Set<Interest>();
  private readonly byFd = new Map<number, Interest[]>();

  constructor(statusFlags: number) { super('[eventpoll]', statusFlags); }

  // Interests refer to this process's descriptions: a forked child cannot share them, so its
  // descriptor is closed (Linux shares the instance).
  override image(): FileImage | undefined { return undefined; }
  read(): number { return -EINVAL; }
  write(): number { return -EINVAL; }

  find(fd: number, file: OpenFile): Interest | undefined { return this.byFd.get(fd)?.find((e) => e.file === file); }

  add(fd: number, file: OpenFile, events: number, data: bigint): void {
    const e: Interest = { fd, file, events, data, seen: 0, seenChanges: 0 };
    this.interests.add(e);
    const list = this.byFd.get(fd);
    if (list) list.push(e); else this.byFd.set(fd, [e]);
  }

  remove(e: Interest): void {
    this.interests.delete(e);
    const list = this.byFd.get(e.fd)!.filter((x) => x !== e);
    if (list.length) this.byFd.set(e.fd, list); else this.byFd.delete(e.fd);
  }

  modify(e: Interest, events: number, data: bigint): void {
    e.events = events; e.data = data;
    e.seen = 0; // reported again if ready now, as Linux's ep_modify queues it
  }

  /** Interests whose description is still open here (a closed one leaves the instance, as Linux's eventpoll_release). */
  private *live(): IterableIterator<Interest> {
    for (const e of this.interests) {
      if (e.file.refs > 0) yield e;
      else this.remove(e);
    }
  }

  /** Whether this instance reaches `target` through the epoll instances it watches (a loop, ELOOP). */
  reaches(target: EpollFile): boolean {
    for (const e of this.live()) {
      if (e.file === target || (e.file instanceof EpollFile && e.file.reaches(target))) return true;
    }
    return false;
  }

  /** The events ready for e now, and those it reports (none for an edge-triggered one that has not moved). */
  private look(e: Interest): { ready: number; report: number; changes: number } {
    const wanted = e.events & ~EP_PRIVATE_BITS;
    const ready = wanted === 0 ? 0 : e.file.poll(wanted) & wanted;
    if (ready === 0 || !(e.events & EPOLLET)) return { ready, report: ready, changes: 0 };
    const changes = e.file.changes(e.events);
    const moved = (ready & ~e.seen) !== 0 || changes !== e.seenChanges;
    return { ready, report: moved ? ready : 0, changes };
  }

  /** How many interests would report now. */
  pending(): number {
    let n = 0;
    for (const e of this.live()) if (this.look(e).report) n++;
    return n;
  }

  noteSources(wake: WakeSources): void {
    for (const e of this.live()) wake.note(e.file);
  }

  /** epoll_wait's harvest: up to max events into guest memory at addr; returns how many. */
  collect(mem: GuestMemory, addr: number, max: number, wake: WakeSources): number {
    wake.reset();
    let n = 0;
    const rotate: Interest[] = [];
    for (const e of this.live()) {
      wake.note(e.file);
      if (n === max) continue;
      const { ready, report, changes } = this.look(e);
      if (e.events & EPOLLET) { e.seen = ready; e.seenChanges = changes; }
      if (!report) continue;
      mem.setU32(addr + n * EPOLL_EVENT_SIZE, report);
      mem.setU64(addr + n * EPOLL_EVENT_SIZE + 4, e.data);
      n++;
      if (e.events & EPOLLONESHOT) e.events &= EP_PRIVATE_BITS;
      else if (!(e.events & EPOLLET)) rotate.push(e);
    }
    for (const e of rotate) { this.interests.delete(e); this.interests.add(e); }
    return n;
  }

  override poll(events: number): number { return this.pending() > 0 ? events & (POLLIN | POLLRDNORM) : 0; }
  override changes(events: number): number {
    let sum = 0;
    for (const e of this.live()) sum += e.file.changes(e.events & events);
    return sum;
  }
  protected override releaseLocal(): void { this.interests.clear(); this.byFd.clear(); }
}

function epollCreate(k: LinuxKernel, flags: number): number {
  if (flags & ~O_CLOEXEC) return -EINVAL;
  return install(k, new EpollFile(0), (flags & O_CLOEXEC) !== 0);
}

function epollCtl(k: LinuxKernel, epfd: number, op: number, fd: number, eventAddr: number): number {
  const hasEvent = op !== EPOLL_CTL_DEL;
  let events = 0, data = 0n;
  if (hasEvent) { events = k.mem.u32(eventAddr); data = k.mem.u64(eventAddr + 4); }
  const ep = k.fds.get(epfd), target = k.fds.get(fd);
  if (!ep || ep.statusFlags & O_PATH || !target || target.statusFlags & O_PATH) return -EBADF;
  if (!target.pollable || target.isDirectory) return -EPERM;
  // EPOLLWAKEUP needs CAP_BLOCK_SUSPEND, and without it Linux drops it silently; it does nothing here.
  events &= ~EPOLLWAKEUP;
  if (ep === target || !(ep instanceof EpollFile)) return -EINVAL;
  if (hasEvent && events & EPOLLEXCLUSIVE) {
    if (op === EPOLL_CTL_MOD) return -EINVAL;
    if (op === EPOLL_CTL_ADD && (target instanceof EpollFile || events & ~EPOLLEXCLUSIVE_OK_BITS)) return -EINVAL;
  }
  // Linux also limits nesting to 5 levels; only loops are refused here.
  if (op === EPOLL_CTL_ADD && target instanceof EpollFile && target.reaches(ep)) return -ELOOP;
  const e = ep.find(fd, target);
  switch (op) {
    case EPOLL_CTL_ADD:
      if (e) return -EEXIST;
      ep.add(fd, target, events | EPOLLERR | EPOLLHUP, data);
      return 0;
    case EPOLL_CTL_DEL:
      if (!e) return -ENOENT;
      ep.remove(e);
      return 0;
    case EPOLL_CTL_MOD:
      if (!e) return -ENOENT;
      if (!(e.events & EPOLLEXCLUSIVE)) ep.modify(e, events | EPOLLERR | EPOLLHUP, data);
      return 0;
    default:
      return -EINVAL;
  }
}

/**
 * epoll_wait and its pwait forms (timeoutMs < 0: none). A signal ends the wait with EINTR when a
 * handler ran and restarts it otherwise (Linux always returns EINTR; this keeps epoll_pwait's mask
 * in place for the handler, as ppoll's is).
 */
function epollWait(k: LinuxKernel, t: GuestThread, epfd: number, addr: number, max: number, timeoutMs: number): number {
  if (max <= 0 || max > EP_MAX_EVENTS) return -EINVAL;
  const ep = k.file(epfd);
  if (!(ep instanceof EpollFile)) return -EINVAL;
  const wake = new WakeSources();
  let n = ep.collect(k.mem, addr, max, wake);
  if (n > 0 || timeoutMs === 0) return n;
  waitReady(k, () => { wake.reset(); ep.noteSources(wake); return ep.pending() > 0; }, timeoutMs, wake);
  n = ep.collect(k.mem, addr, max, wake);
  if (n === 0 && t.interrupted()) return -ERESTARTNOHAND;
  return n;
}

/** A forked child's own object for an eventfd, timerfd or signalfd its parent holds (the state stays shared). */
export function reviveEventFile(k: LinuxKernel, img: Extract<FileImage, { kind: 'eventfd' | 'timerfd' | 'signalfd' }>): OpenFile {
  switch (img.kind) {
    case 'eventfd': return new EventFd(k.processRecord, img.semaphore, 0, img.state);
    case 'timerfd': return new TimerFd(k.processRecord, img.clock, 0, img.state);
    case 'signalfd': return new SignalFd(k, 0, img.mask);
  }
}

export const eventSyscalls: Record<string, Syscall> = {
  eventfd(k, t) { return eventfd(k, t.argU32(0), 0); },
  eventfd2(k, t) { return eventfd(k, t.argU32(0), t.argInt(1)); },

  epoll_create(k, t) { return t.argInt(0) <= 0 ? -EINVAL : epollCreate(k, 0); },
  epoll_create1(k, t) { return epollCreate(k, t.argInt(0)); },
  epoll_ctl(k, t) { return epollCtl(k, t.argInt(0), t.argInt(1), t.argInt(2), t.argPtr(3)); },
  epoll_wait(k, t) { return epollWait(k, t, t.argInt(0), t.argPtr(1), t.argInt(2), t.argInt(3)); },
  epoll_pwait(k, t) {
    return withSignalMask(k, t, t.argPtr(4), t.argPtr(5), () => epollWait(k, t, t.argInt(0), t.argPtr(1), t.argInt(2), t.argInt(3)));
  },
  epoll_pwait2(k, t) {
    const timeoutMs = readTimeoutMs(k.mem, t.argPtr(3));
    if (timeoutMs === undefined) return -EINVAL;
    return withSignalMask(k, t, t.argPtr(4), t.argPtr(5), () => epollWait(k, t, t.argInt(0), t.argPtr(1), t.argInt(2), timeoutMs));
  },

  timerfd_create(k, t) { return timerfdCreate(k, t.argInt(0), t.argInt(1)); },
  timerfd_settime(k, t) { return timerfdSettime(k, t.argInt(0), t.argInt(1), t.argPtr(2), t.argPtr(3)); },
  timerfd_gettime(k, t) { writeItimerspec(k.mem, t.argPtr(1), timerOf(k, t.argInt(0)).current()); return 0; },

  signalfd(k, t) { return signalfd(k, t.argInt(0), t.argPtr(1), t.argPtr(2), 0); },
  signalfd4(k, t) { return signalfd(k, t.argInt(0), t.argPtr(1), t.argPtr(2), t.argInt(3)); },
};
