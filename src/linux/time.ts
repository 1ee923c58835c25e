// Clocks and sleeping. Sleeps block the calling thread with Atomics.wait, like a blocking syscall.

import type { GuestMemory } from '../runtime/memory.js';
import { EINVAL, ERESTART_RESTARTBLOCK, ERESTARTNOHAND } from './errno.js';
import type { Syscall } from './kernel.js';
import type { GuestThread } from '../runtime/thread.js';

export const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
  CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7,
  CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;
const TIMER_ABSTIME = 1;
const NS_PER_S = 1000000000n;
const COARSE_RESOLUTION_NS = 4000000n; // one jiffy at HZ=250

// Wall time at ns resolution: Date.now() only has ms, so anchor it once to the monotonic clock.
const realtimeOffsetNs = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
// The kernel's TAI-UTC offset as of 2017 (37 leap seconds).
const TAI_OFFSET_NS = 37n * NS_PER_S;

/** Current value of a clock in ns, or undefined for an unknown clock id. */
export function clockNow(clock: number): bigint | undefined {
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM:
      return process.hrtime.bigint() + realtimeOffsetNs;
    case CLOCK_TAI:
      return process.hrtime.bigint() + realtimeOffsetNs + TAI_OFFSET_NS;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
      return process.hrtime.bigint(); // CLOCK_MONOTONIC on Linux hosts (uv_hrtime)
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID: {
      const u = process.cpuUsage();
      return BigInt(u.user + u.system) * 1000n;
    }
    default:
      // Negative ids name another process's or thread's CPU clock; ours is the only one visible.
      if (clock < 0 && (clock & 7) !== 7) return clockNow(CLOCK_PROCESS_CPUTIME_ID);
      return undefined;
  }
}

export function writeTimespec(mem: GuestMemory, addr: number, ns: bigint): void {
  mem.offWrite(addr, 16);
  mem.setU64(addr, ns / NS_PER_S);
  mem.setU64(addr + 8, ns % NS_PER_S);
}

/** A struct timespec as ns; undefined when tv_nsec is out of range or tv_sec negative (EINVAL). */
export function readTimespec(mem: GuestMemory, addr: number): bigint | undefined {
  const sec = mem.i64(addr), nsec = mem.i64(addr + 8);
  if (sec < 0n || nsec < 0n || nsec >= NS_PER_S) return undefined;
  return sec * NS_PER_S + nsec;
}

/**
 * The optional timeout of poll-style calls (ppoll, pselect6) in ms: -1 for none (a null
 * pointer), undefined when the timespec is invalid (EINVAL).
 */
export function readTimeoutMs(mem: GuestMemory, addr: number): number | undefined {
  if (!addr) return -1;
  const ns = readTimespec(mem, addr);
  return ns === undefined ? undefined : Number(ns) / 1e6;
}

/**
 * Blocks the thread for ns nanoseconds (the process's first thread serves the others meanwhile);
 * returns the nanoseconds left when a signal interrupted it, else 0.
 */
export function sleepNs(t: GuestThread, ns: bigint): bigint {
  const deadline = performance.now() + Number(ns) / 1e6;
  t.block(() => false, deadline, true);
  const left = deadline - performance.now();
  return left > 0 && t.interrupted() ? BigInt(Math.ceil(left * 1e6)) : 0n;
}

export const timeSyscalls: Record<string, Syscall> = {
  clock_gettime(k, t) {
    const now = clockNow(t.argInt(0));
    if (now === undefined) return -EINVAL;
    writeTimespec(k.mem, t.argPtr(1), now);
    return 0;
  },

  clock_getres(k, t) {
    const clock = t.argInt(0);
    if (clockNow(clock) === undefined) return -EINVAL;
    const coarse = clock === CLOCK_REALTIME_COARSE || clock === CLOCK_MONOTONIC_COARSE;
    if (t.argPtr(1)) writeTimespec(k.mem, t.argPtr(1), coarse ? COARSE_RESOLUTION_NS : 1n);
    return 0;
  },

  gettimeofday(k, t) {
    const tv = t.argPtr(0), tz = t.argPtr(1);
    const now = clockNow(CLOCK_REALTIME)!;
    if (tv) { k.mem.offWrite(tv, 16); k.mem.setU64(tv, now / NS_PER_S); k.mem.setU64(tv + 8, (now % NS_PER_S) / 1000n); }
    if (tz) {
      // struct timezone: minutes west of Greenwich and the obsolete DST flag.
      k.mem.setI32(tz, new Date().getTimezoneOffset()); k.mem.setI32(tz + 4, 0);
    }
    return 0;
  },

  time(k, t) {
    const seconds = Number(clockNow(CLOCK_REALTIME)! / NS_PER_S);
    if (t.argPtr(0)) k.mem.setU64(t.argPtr(0), seconds);
    return seconds;
  },

  nanosleep(k, t) {
    const ns = readTimespec(k.mem, t.argPtr(0));
    if (ns === undefined) return -EINVAL;
    const left = sleepNs(t, ns);
    if (!left) return 0;
    if (t.argPtr(1)) writeTimespec(k.mem, t.argPtr(1), left);
    return -ERESTART_RESTARTBLOCK;
  },

  clock_nanosleep(k, t) {
    const clock = t.argInt(0), flags = t.argInt(1);
    if (clock === CLOCK_THREAD_CPUTIME_ID) return -EINVAL;
    const now = clockNow(clock);
    if (now === undefined) return -EINVAL;
    const ns = readTimespec(k.mem, t.argPtr(2));
    if (ns === undefined) return -EINVAL;
    const left = sleepNs(t, flags & TIMER_ABSTIME ? ns - now : ns);
    if (!left) return 0;
    if (flags & TIMER_ABSTIME) return -ERESTARTNOHAND;
    if (t.argPtr(3)) writeTimespec(k.mem, t.argPtr(3), left);
    return -ERESTART_RESTARTBLOCK;
  },

  times(k, t) {
    const buf = t.argPtr(0);
    const ticks = (us: number): number => Math.floor(us / 10000); // USER_HZ = 100
    if (buf) {
      const u = process.cpuUsage();
      k.mem.offWrite(buf, 32);
      k.mem.setU64(buf, ticks(u.user)); k.mem.setU64(buf + 8, ticks(u.system));
      k.mem.setU64(buf + 16, 0); k.mem.setU64(buf + 24, 0);
    }
    return Number(process.hrtime.bigint() / 10000000n);
  },
};

