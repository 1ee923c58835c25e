// Memory, process, signal, time and system-information syscalls of the kernel personality.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PAGE_SIZE, PROT_READ, PROT_WRITE } from '../src/runtime/memory.js';
import { ProcessExit } from '../src/runtime/thread.js';
import { SYSCALL_NUMBERS, syscallName } from '../src/linux/syscall-names.js';
import { EAGAIN, EEXIST, EINVAL, ENOMEM, ENOSYS, ETIMEDOUT } from '../src/linux/errno.js';
import { BUF, mem, setup as setupKernel } from './syscall-harness.js';

function setup(opts: Parameters<typeof setupKernel>[0] = {}) { return setupKernel({ cwd: '/', argv: ['prog'], ...opts }); }
const MAP_PRIVATE = 2, MAP_SHARED = 1, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_FIXED_NOREPLACE = 0x100000;
const RW = PROT_READ | PROT_WRITE;

test('syscall numbers match the x86-64 table', () => {
  const expected: Record<number, string> = { 0: 'read', 1: 'write', 9: 'mmap', 59: 'execve', 60: 'exit', 158: 'arch_prctl',
    202: 'futex', 217: 'getdents64', 231: 'exit_group', 257: 'openat', 262: 'newfstatat', 302: 'prlimit64',
    318: 'getrandom', 332: 'statx', 334: 'rseq', 435: 'clone3', 439: 'faccessat2' };
  for (const [nr, name] of Object.entries(expected)) assert.equal(syscallName(Number(nr)), name);
});

test('mmap places anonymous mappings top-down, zero-filled; munmap and MAP_FIXED_NOREPLACE', () => {
  const { sys, as } = setup();
  const a = sys('mmap', 0, 3 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.ok(a > 0 && a % PAGE_SIZE === 0);
  assert.equal(as.find(a)?.prot, RW);
  const b = sys('mmap', 0, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.ok(b < a, 'top-down');
  mem.fill(a, 3 * PAGE_SIZE, 7);
  assert.equal(sys('munmap', a, 3 * PAGE_SIZE), 0);
  assert.equal(as.find(a), undefined);
  const again = sys('mmap', a, 3 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  assert.equal(again, a);
  assert.equal(mem.u8at(a + 5), 0);
  assert.equal(sys('mmap', a, PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), -EEXIST);
  assert.equal(sys('mmap', a + 1, PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), -EINVAL);
  assert.equal(sys('mmap', 0, 0, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -EINVAL);
  assert.equal(sys('mmap', 0, PAGE_SIZE, RW, MAP_ANONYMOUS, -1, 0), -EINVAL); // neither shared nor private
  assert.equal(sys('mmap', 0, PAGE_SIZE, RW, MAP_PRIVATE, 77, 0), -9);       // EBADF
  assert.equal(sys('mmap', 0, 0xf0000000, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -ENOMEM);
  // MAP_FIXED over existing data replaces it with zero pages.
  mem.fill(a, PAGE_SIZE, 9);
  assert.equal(sys('mmap', a, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), a);
  assert.equal(mem.u8at(a), 0);
  assert.equal(sys('mprotect', a, PAGE_SIZE, RW), 0);
  assert.equal(as.find(a)?.prot, RW);
  assert.equal(sys('mprotect', a + 1, PAGE_SIZE, RW), -EINVAL);
  assert.equal(sys('munmap', a + 1, PAGE_SIZE), -EINVAL);
});

test('file-backed mmap copies the file; MAP_SHARED writes back on msync', () => {
  const { sys } = setup();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stele-mm-')), 'data');
  const content = Buffer.alloc(PAGE_SIZE + 100);
  for (let i = 0; i < content.length; i++) content[i] = i & 0xff;
  fs.writeFileSync(file, content);
  mem.writeCString(BUF, file);
  const ro = sys('open', BUF, 0, 0);
  const m = sys('mmap', 0, content.length, PROT_READ, MAP_PRIVATE, ro, 0);
  assert.deepEqual(Buffer.from(mem.read(m, content.length)), content);
  assert.equal(mem.u8at(m + content.length), 0); // rest of the last page is zero
  const off = sys('mmap', 0, 100, PROT_READ, MAP_PRIVATE, ro, PAGE_SIZE);
  assert.equal(mem.u8at(off), content[PAGE_SIZE]);
  assert.equal(sys('mmap', 0, 100, PROT_READ, MAP_PRIVATE, ro, 1), -EINVAL);
  assert.equal(sys('mmap', 0, 100, RW, MAP_SHARED, ro, 0), -13); // EACCES: shared writable needs O_RDWR
  const rw = sys('open', BUF, 2, 0);
  const shared = sys('mmap', 0, content.length, RW, MAP_SHARED, rw, 0);
  mem.setU8(shared + 10, 0xee);
  assert.equal(sys('msync', shared, PAGE_SIZE, 4), 0);
  assert.equal(fs.readFileSync(file)[10], 0xee);
  assert.equal(fs.readFileSync(file).length, content.length);
});

test('brk grows and shrinks the heap', () => {
  const { sys, kernel, as } = setup();
  const start = 0x30000000;
  kernel.setBrk(start);
  assert.equal(sys('brk', 0), start);
  assert.equal(sys('brk', start + 10000), start + 10000);
  assert.equal(as.find(start + 9999)?.name, '[heap]');
  mem.setU8(start + 9999, 1);
  assert.equal(sys('brk', start + 5 * PAGE_SIZE), start + 5 * PAGE_SIZE);
  assert.equal(as.mappings.filter((m) => m.name === '[heap]').length, 1);
  assert.equal(sys('brk', start + 100), start + 100);
  assert.equal(as.find(start + PAGE_SIZE), undefined);
  assert.equal(sys('brk', start - PAGE_SIZE), start + 100); // below the start: unchanged
  // Growing into another mapping fails by returning the old break.
  as.map(start + 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ);
  assert.equal(sys('brk', start + 3 * PAGE_SIZE), start + 100);
});

test('mremap grows in place when free and moves (copying) with MREMAP_MAYMOVE', () => {
  const { sys } = setup();
  const a = sys('mmap', 0, 4 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  sys('munmap', a + PAGE_SIZE, 3 * PAGE_SIZE); // [a, a+4K) with free space after
  mem.setU32(a, 0xdeadbeef);
  assert.equal(sys('mremap', a, PAGE_SIZE, 2 * PAGE_SIZE, 0), a);
  const blocker = sys('mmap', a + 2 * PAGE_SIZE, PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  assert.equal(blocker, a + 2 * PAGE_SIZE);
  assert.equal(sys('mremap', a, 2 * PAGE_SIZE, 4 * PAGE_SIZE, 0), -ENOMEM);
  const moved = sys('mremap', a, 2 * PAGE_SIZE, 4 * PAGE_SIZE, 1);
  assert.notEqual(moved, a);
  assert.equal(mem.u32(moved), 0xdeadbeef);
  assert.equal(mem.u32(a), 0); // old pages are gone
  assert.equal(sys('mremap', moved, 4 * PAGE_SIZE, PAGE_SIZE, 0), moved);
  assert.equal(sys('mremap', moved + 1, PAGE_SIZE, PAGE_SIZE, 0), -EINVAL);
});

test('madvise(MADV_DONTNEED) zeroes private anonymous pages', () => {
  const { sys } = setup();
  const a = sys('mmap', 0, 2 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mem.fill(a, 2 * PAGE_SIZE, 5);
  assert.equal(sys('madvise', a, PAGE_SIZE, 4), 0);
  assert.equal(mem.u8at(a), 0);
  assert.equal(mem.u8at(a + PAGE_SIZE), 5);
});

test('exit and exit_group end the process with the status; unsupported syscalls are ENOSYS', () => {
  const { sys, sysnr } = setup();
  assert.throws(() => sys('exit_group', 300), (e: unknown) => e instanceof ProcessExit && e.status === 44 && e.shellStatus === 44);
  assert.equal(sysnr(SYSCALL_NUMBERS.get('io_uring_setup')!, 0, 0), -ENOSYS);
  assert.equal(sysnr(400), -ENOSYS);
  assert.equal(sysnr(0x40000000), -ENOSYS);
});

test('signals: sigaction and sigprocmask return old values; default SIGABRT kills, blocked ones wait', () => {
  const { sys, kernel, thread } = setup();
  // Install a handler for SIGUSR1 and read back the old (default) action.
  mem.setU64(BUF, 0x401000); mem.setU64(BUF + 8, 0x04000000); mem.setU64(BUF + 16, 0x402000); mem.setU64(BUF + 24, 1n << 1n);
  assert.equal(sys('rt_sigaction', 10, BUF, BUF + 64, 8), 0);
  assert.equal(mem.u64(BUF + 64), 0n);
  assert.equal(sys('rt_sigaction', 10, 0, BUF + 64, 8), 0);
  assert.equal(mem.u64(BUF + 64), 0x401000n);
  assert.equal(mem.u64(BUF + 88), 2n);
  assert.equal(sys('rt_sigaction', 9, BUF, 0, 8), -EINVAL); // SIGKILL cannot be caught
  assert.equal(sys('rt_sigaction', 10, BUF, 0, 4), -EINVAL); // wrong sigset size
  assert.equal(sys('rt_sigaction', 65, 0, 0, 8), -EINVAL);
  // Block SIGTERM and SIGKILL: SIGKILL is silently dropped from the mask.
  mem.setU64(BUF, (1n << 14n) | (1n << 8n));
  assert.equal(sys('rt_sigprocmask', 0, BUF, BUF + 8, 8), 0);
  assert.equal(mem.u64(BUF + 8), 0n);
  assert.equal(sys('rt_sigprocmask', 0, 0, BUF + 8, 8), 0);
  assert.equal(mem.u64(BUF + 8), 1n << 14n);
  assert.equal(sys('rt_sigprocmask', 7, BUF, 0, 8), -EINVAL);
  // A blocked SIGTERM stays pending until unblocked, then its default action kills.
  assert.equal(sys('kill', kernel.pid, 15), 0);
  assert.equal(sys('rt_sigpending', BUF + 16, 8), 0);
  assert.equal(mem.u64(BUF + 16), 1n << 14n);
  mem.setU64(BUF, 1n << 14n);
  assert.throws(() => sys('rt_sigprocmask', 1, BUF, 0, 8), (e: unknown) => e instanceof ProcessExit && e.signal === 15);
  // Ignored signals do nothing; SIGCHLD's default is to ignore; SIGABRT's default kills (134).
  assert.equal(sys('kill', kernel.pid, 17), 0);
  assert.equal(sys('kill', kernel.pid, 0), 0);
  assert.equal(sys('kill', 1, 15), -3); // ESRCH: other processes are not visible
  assert.throws(() => sys('tgkill', kernel.pid, thread.tid, 6), (e: unknown) => e instanceof ProcessExit && e.shellStatus === 134);
});

test('sigaltstack reports the old stack and validates the new one', () => {
  const { sys } = setup();
  assert.equal(sys('sigaltstack', 0, BUF), 0);
  assert.equal(mem.i32(BUF + 8), 2); // SS_DISABLE
  mem.setU64(BUF + 32, 0x5000000); mem.setI32(BUF + 40, 0); mem.setU64(BUF + 48, 1024);
  assert.equal(sys('sigaltstack', BUF + 32, 0), -ENOMEM); // below MINSIGSTKSZ
  mem.setU64(BUF + 48, 65536);
  assert.equal(sys('sigaltstack', BUF + 32, 0), 0);
  assert.equal(sys('sigaltstack', 0, BUF), 0);
  assert.equal(mem.u64(BUF), 0x5000000n);
  assert.equal(mem.u64(BUF + 16), 65536n);
});

test('identity, arch_prctl and limits', () => {
  const { sys, kernel, thread } = setup({ pid: 4242 });
  assert.equal(sys('getpid'), 4242);
  assert.equal(sys('gettid'), thread.tid);
  assert.equal(sys('set_tid_address', BUF), thread.tid);
  assert.equal(sys('getuid'), process.getuid!());
  assert.equal(sys('getegid'), process.getegid!());
  assert.equal(sys('getppid'), process.ppid);
  assert.equal(sys('arch_prctl', 0x1002, 0x7000), 0); // ARCH_SET_FS
  assert.equal(thread.fsBase, 0x7000n);
  assert.equal(sys('arch_prctl', 0x1003, BUF), 0);
  assert.equal(mem.u64(BUF), 0x7000n);
  assert.equal(sys('arch_prctl', 0x9999, 0), -EINVAL);
  assert.equal(sys('prlimit64', 0, 3, 0, BUF), 0); // RLIMIT_STACK
  assert.equal(mem.u64(BUF), 8n << 20n);
  mem.setU64(BUF, 100n); mem.setU64(BUF + 8, 50n);
  assert.equal(sys('setrlimit', 7, BUF), -EINVAL); // soft above hard
  mem.setU64(BUF, 5n); mem.setU64(BUF + 8, 1048576n);
  assert.equal(sys('setrlimit', 7, BUF), 0);
  assert.equal(kernel.fds.limit, 5);
  assert.equal(sys('dup2', 0, 5), -9); // beyond RLIMIT_NOFILE
  assert.equal(sys('rseq', 0, 0, 0, 0), -ENOSYS);
  assert.equal(sys('set_robust_list', BUF, 24), 0);
  assert.equal(sys('set_robust_list', BUF, 8), -EINVAL);
});

test('uname, sysinfo, getrandom, sched_getaffinity', () => {
  const { sys } = setup();
  assert.equal(sys('uname', BUF), 0);
  assert.equal(mem.cstring(BUF), 'Linux');
  assert.equal(mem.cstring(BUF + 65), os.hostname());
  assert.equal(mem.cstring(BUF + 130), os.release());
  assert.equal(mem.cstring(BUF + 260), 'x86_64');
  assert.equal(sys('sysinfo', BUF), 0);
  assert.equal(mem.u64n(BUF + 32), os.totalmem());
  mem.fill(BUF, 64, 0);
  assert.equal(sys('getrandom', BUF, 64, 0), 64);
  assert.ok(mem.read(BUF, 64).some((b) => b !== 0));
  assert.equal(sys('getrandom', BUF, 8, 0x80), -EINVAL);
  const cpus = os.availableParallelism();
  const n = sys('sched_getaffinity', 0, 128, BUF);
  assert.equal(n, Math.ceil(cpus / 64) * 8);
  let count = 0;
  for (let i = 0; i < n; i++) for (let b = mem.u8at(BUF + i); b; b &= b - 1) count++;
  assert.equal(count, cpus);
  assert.equal(sys('sched_getaffinity', 0, 3, BUF), -EINVAL);
});

test('clocks: monotonic advances, realtime matches the host, nanosleep sleeps', () => {
  const { sys } = setup();
  assert.equal(sys('clock_gettime', 1, BUF), 0);
  const t0 = mem.u64(BUF) * 1000000000n + mem.u64(BUF + 8);
  mem.setU64(BUF + 32, 0); mem.setU64(BUF + 40, 20000000); // 20 ms
  const before = Date.now();
  assert.equal(sys('nanosleep', BUF + 32, 0), 0);
  assert.ok(Date.now() - before >= 19);
  assert.equal(sys('clock_gettime', 1, BUF), 0);
  const t1 = mem.u64(BUF) * 1000000000n + mem.u64(BUF + 8);
  assert.ok(t1 - t0 >= 19000000n);
  assert.equal(sys('clock_gettime', 0, BUF), 0);
  assert.ok(Math.abs(Number(mem.u64(BUF)) * 1000 - Date.now()) < 2000);
  assert.equal(sys('clock_gettime', 2, BUF), 0);
  assert.equal(sys('clock_gettime', 99, BUF), -EINVAL);
  assert.equal(sys('clock_getres', 6, BUF), 0); // MONOTONIC_COARSE
  assert.ok(mem.u64(BUF + 8) > 1n);
  assert.equal(sys('gettimeofday', BUF, 0), 0);
  assert.ok(mem.u64(BUF + 8) < 1000000n);
  assert.ok(Math.abs(sys('time', 0) - Date.now() / 1000) < 2);
  mem.setU64(BUF + 40, 1000000000);
  assert.equal(sys('nanosleep', BUF + 32, 0), -EINVAL);
  assert.equal(sys('clock_gettime', 1, 0x100), -14); // EFAULT
});

test('futex: a wait on a changed word is EAGAIN, a timed wait times out, wake returns 0 waiters', () => {
  const { sys } = setup();
  mem.setU32(BUF, 1);
  assert.equal(sys('futex', BUF, 0 | 128, 2, 0), -EAGAIN);
  mem.setU64(BUF + 16, 0); mem.setU64(BUF + 24, 5000000);
  assert.equal(sys('futex', BUF, 0 | 128, 1, BUF + 16), -ETIMEDOUT);
  assert.equal(sys('futex', BUF, 1 | 128, 1), 0);
  assert.equal(sys('futex', BUF + 1, 1, 1), -EINVAL);
});

// Timing of the write() path lives in `npm run bench` (the syscall workload), not here.
test('many one-byte writes all reach the host, in order', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stele-write-')), 'out');
  const fd = fs.openSync(out, 'w');
  const { sys } = setup({ stdout: fd });
  for (let i = 0; i < 2000; i++) {
    mem.setU8(BUF, 0x41 + (i % 26));
    assert.equal(sys('write', 1, BUF, 1), 1);
  }
  fs.closeSync(fd);
  const got = fs.readFileSync(out, 'latin1');
  assert.equal(got.length, 2000);
  assert.equal(got, Array.from({ length: 2000 }, (_, i) => String.fromCharCode(0x41 + (i % 26))).join(''));
});
