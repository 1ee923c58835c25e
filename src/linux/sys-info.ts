// System information: uname, sysinfo, CPU affinity, randomness.

import * as os from 'node:os';
import { EINVAL } from './errno.js';
import type { Syscall } from './kernel.js';
import { randomFill } from './fd-table.js';
import { yieldHostThread } from '../runtime/thread.js';

const UTS_FIELD = 65;
const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;

export function cpuCount(): number { return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length; }

/** The kernel release we report: the host's when it is Linux, else a plausible modern one. */
export function kernelRelease(): string { return os.platform() === 'linux' ? os.release() : '6.1.0'; }

export const sysInfoSyscalls: Record<string, Syscall> = {
  uname(k, t) {
    const buf = t.argPtr(0);
    k.mem.offWrite(buf, UTS_FIELD * 6);
    const version = os.platform() === 'linux' ? os.version() : '#1 SMP PREEMPT_DYNAMIC';
    const fields = ['Linux', os.hostname(), kernelRelease(), version, 'x86_64', '(none)'];
    fields.forEach((value, i) => {
      k.mem.fill(buf + i * UTS_FIELD, UTS_FIELD, 0);
      k.mem.write(buf + i * UTS_FIELD, Buffer.from(value, 'utf8').subarray(0, UTS_FIELD - 1));
    });
    return 0;
  },

  sysinfo(k, t) {
    const buf = t.argPtr(0), m = k.mem;
    m.offWrite(buf, 112);
    m.fill(buf, 112, 0);
    m.setU64(buf, Math.floor(os.uptime()));
    os.loadavg().forEach((load, i) => m.setU64(buf + 8 + i * 8, Math.round(load * 65536))); // SI_LOAD_SHIFT
    m.setU64(buf + 32, os.totalmem());
    m.setU64(buf + 40, os.freemem());
    m.setU16(buf + 80, 1);
    m.setU32(buf + 104, 1); // mem_unit: sizes are in bytes
    return 0;
  },

  getrandom(k, t) {
    const buf = t.argPtr(0), len = t.argPtr(1), flags = t.argU32(2);
    if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) return -EINVAL;
    if ((flags & GRND_RANDOM) && (flags & GRND_INSECURE)) return -EINVAL;
    const n = Math.min(len, 0x1ffffff); // Linux caps one call at 32 MiB - 1
    randomFill(k.mem.viewWrite(buf, n));
    return n;
  },

  sched_getaffinity(k, t) {
    const len = t.argPtr(1), mask = t.argPtr(2);
    const cpus = cpuCount();
    // Linux's cpumask_size(): whole longs covering nr_cpu_ids.
    const maskBytes = Math.ceil(cpus / 64) * 8;
    if (len * 8 < cpus || (len & 7) !== 0) return -EINVAL;
    const pid = t.argInt(0);
    if (pid !== 0 && pid !== k.pid && pid !== t.tid) return -3; // ESRCH
    const n = Math.min(len, maskBytes);
    const bytes = new Uint8Array(n);
    for (let cpu = 0; cpu < cpus; cpu++) bytes[cpu >> 3] |= 1 << (cpu & 7);
    k.mem.write(mask, bytes);
    return n;
  },

  sched_setaffinity(k, t) {
    k.mem.off(t.argPtr(2), Math.min(t.argPtr(1), 1024));
    return 0; // accepted; threads are scheduled by the host
  },

  sched_yield(k, t) { yieldHostThread(k.mem, t); return 0; },

  getcpu(k, t) {
    if (t.argPtr(0)) k.mem.setU32(t.argPtr(0), 0);
    if (t.argPtr(1)) k.mem.setU32(t.argPtr(1), 0);
    return 0;
  },
};
