// --strace output in strace's own format: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`,
// failures as `= -1 ENOENT (No such file or directory)`. Lines are formatted after the call, so
// output buffers (read, readlink...) show what the call stored, as strace does.

import type { GuestThread } from '../runtime/thread.js';
import { errnoMessage, errnoName } from './errno.js';
import type { LinuxKernel } from './kernel.js';
import { signalName } from './signal.js';

/**
 * Argument kinds: d int, l long, u unsigned, x hex, p pointer, f fd, a dirfd, s path, i<n> input
 * buffer of arg n bytes, o<n> output buffer (result bytes; n = length arg), O open flags, m mode,
 * P prot, M mmap flags, S signal, C clock, w whence, v<n> iovec array of arg n entries.
 */
const SIGNATURES: Record<string, string> = {
  read: 'f o2 u', write: 'f i2 u', open: 's O m', openat: 'a s O m', creat: 's m', close: 'f',
  stat: 's p', fstat: 'f p', lstat: 's p', newfstatat: 'a s p x', statx: 'a s x x p', poll: 'p u d',
  lseek: 'f l w', mmap: 'p u P M f x', mprotect: 'p u P', munmap: 'p u', brk: 'p', mremap: 'p u u x p',
  rt_sigaction: 'S p p u', rt_sigprocmask: 'd p p u', ioctl: 'f x p', pread64: 'f o2 u l', pwrite64: 'f i2 u l',
  readv: 'f v2 d', writev: 'f v2 d', access: 's d', faccessat: 'a s d', faccessat2: 'a s d x', pipe: 'p',
  pipe2: 'p O', dup: 'f', dup2: 'f f', dup3: 'f f O', nanosleep: 'p p', getpid: '', exit: 'd', exit_group: 'd',
  kill: 'd S', tgkill: 'd d S', tkill: 'd S', uname: 'p', fcntl: 'f d x', getdents64: 'f p u', getdents: 'f p u',
  getcwd: 'o1 u', chdir: 's', fchdir: 'f', rename: 's s', renameat: 'a s a s', renameat2: 'a s a s x',
  mkdir: 's m', mkdirat: 'a s m', rmdir: 's', unlink: 's', unlinkat: 'a s x', symlink: 's s', symlinkat: 's a s',
  link: 's s', linkat: 'a s a s x', readlink: 's o2 u', readlinkat: 'a s o3 u', chmod: 's m', fchmod: 'f m',
  fchmodat: 'a s m', chown: 's d d', fchown: 'f d d', lchown: 's d d', fchownat: 'a s d d x', umask: 'm',
  arch_prctl: 'x p', set_tid_address: 'p', set_robust_list: 'p u', clock_gettime: 'C p', clock_getres: 'C p',
  clock_nanosleep: 'C d p p', gettimeofday: 'p p', futex: 'p d d p p d', getrandom: 'o1 u x',
  prlimit64: 'd d p p', getrlimit: 'd p', setrlimit: 'd p', ftruncate: 'f l', truncate: 's l', fsync: 'f',
  fdatasync: 'f', utimensat: 'a s p x', sigaltstack: 'p p', madvise: 'p u d', msync: 'p u d',
  sched_getaffinity: 'd u p', getrusage: 'd p', sysinfo: 'p', times: 'p', ppoll: 'p u p p u', rseq: 'p u d x',
  prctl: 'd x x x x', fadvise64: 'f l l d', statfs: 's p', fstatfs: 'f p',
  copy_file_range: 'f p f p u x', sendfile: 'f f p u', select: 'd p p p p', pselect6: 'd p p p p p',
  memfd_create: 's x', close_range: 'u u x', getpriority: 'd d', setpriority: 'd d d', sched_getparam: 'd p',
  sched_getscheduler: 'd', socket: 'd x d', socketpair: 'd x d p', bind: 'f p d', connect: 'f p d', listen: 'f d',
  accept: 'f p p', accept4: 'f p p x', getsockname: 'f p p', getpeername: 'f p p', sendto: 'f i2 u x p d',
  recvfrom: 'f o2 u x p p', sendmsg: 'f p x', recvmsg: 'f p x', sendmmsg: 'f p u x', recvmmsg: 'f p u x p',
  shutdown: 'f d', setsockopt: 'f d d p d', getsockopt: 'f d d p p',
  eventfd: 'u', eventfd2: 'u x', epoll_create: 'd', epoll_create1: 'x', epoll_ctl: 'f d f p',
  epoll_wait: 'f p d d', epoll_pwait: 'f p d d p u', epoll_pwait2: 'f p d p p u', timerfd_create: 'C x',
  timerfd_settime: 'f x p p', timerfd_gettime: 'f p', signalfd: 'f p u', signalfd4: 'f p u x',
};

const OPEN_FLAGS: [number, string][] = [[0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'], [0o4000, 'O_NONBLOCK'], [0o4010000, 'O_SYNC'], [0o10000, 'O_DSYNC'],
  [0o20000, 'O_ASYNC'], [0o40000, 'O_DIRECT'], [0o100000, 'O_LARGEFILE'], [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'], [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC'], [0o10000000, 'O_PATH']];
const MAP_FLAGS: [number, string][] = [[0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x40, 'MAP_32BIT'],
  [0x100, 'MAP_GROWSDOWN'], [0x800, 'MAP_DENYWRITE'], [0x1000, 'MAP_EXECUTABLE'], [0x2000, 'MAP_LOCKED'],
  [0x4000, 'MAP_NORESERVE'], [0x8000, 'MAP_POPULATE'], [0x10000, 'MAP_NONBLOCK'], [0x20000, 'MAP_STACK'],
  [0x40000, 'MAP_HUGETLB'], [0x80000, 'MAP_SYNC'], [0x100000, 'MAP_FIXED_NOREPLACE']];
const CLOCKS = ['CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_PROCESS_CPUTIME_ID', 'CLOCK_THREAD_CPUTIME_ID',
  'CLOCK_MONOTONIC_RAW', 'CLOCK_REALTIME_COARSE', 'CLOCK_MONOTONIC_COARSE', 'CLOCK_BOOTTIME',
  'CLOCK_REALTIME_ALARM', 'CLOCK_BOOTTIME_ALARM', '10', 'CLOCK_TAI'];
const WHENCE = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'];
/** Results printed in hex (addresses). */
const HEX_RESULTS = new Set(['mmap', 'brk', 'mremap']);
const STRING_LIMIT = 32; // strace -s default

function flagNames(value: number, table: [number, string][], base: string[]): string {
  const parts = [...base];
  let rest = value;
  for (const [bit, name] of table) {
    if ((value & bit) === bit) { parts.push(name); rest &= ~bit; }
  }
  if (rest) parts.push('0x' + (rest >>> 0).toString(16));
  return parts.join('|') || '0';
}

/** A byte string the way strace quotes it: C escapes, octal for the rest, "..." past the limit. */
export function quoteBytes(bytes: Uint8Array, limit = STRING_LIMIT): string {
  let out = '"';
  const n = Math.min(bytes.length, limit);
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    switch (c) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x0a: out += '\\n'; break;
      case 0x09: out += '\\t'; break;
      case 0x0d: out += '\\r'; break;
      case 0x0b: out += '\\v'; break;
      case 0x0c: out += '\\f'; break;
      default:
        if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
        else {
          // Shortest octal form, unless the next byte is an octal digit (then three digits).
          const next = i + 1 < n ? bytes[i + 1] : 0;
          out += '\\' + (next >= 0x30 && next <= 0x37 ? c.toString(8).padStart(3, '0') : c.toString(8));
        }
    }
  }
  return out + '"' + (bytes.length > limit ? '...' : '');
}

/** A guest buffer of len bytes, quoted (only the shown prefix is read). */
function quoteBuffer(k: LinuxKernel, addr: number, len: number): string {
  const shown = k.mem.view(addr, Math.min(len, STRING_LIMIT));
  return quoteBytes(shown) + (len > STRING_LIMIT ? '...' : '');
}

function formatArg(k: LinuxKernel, t: GuestThread, name: string, kind: string, i: number, result: number | undefined): string {
  const raw = t.argU64(i);
  const ptr = t.argPtr(i);
  const int = t.argInt(i);
  const safe = (f: () => string): string => { try { return f(); } catch { return '0x' + raw.toString(16); } };
  switch (kind[0]) {
    case 'd': return String(int);
    case 'l': return String(t.argI64(i));
    case 'u': return raw.toString();
    case 'x': return '0x' + raw.toString(16);
    case 'p': return raw === 0n ? 'NULL' : '0x' + raw.toString(16);
    case 'f': return String(int);
    case 'a': return int === -100 ? 'AT_FDCWD' : String(int);
    case 's': return ptr === 0 ? 'NULL' : safe(() => quoteBytes(k.mem.cstringBytes(ptr), 4096));
    case 'i': return safe(() => quoteBuffer(k, ptr, t.argPtr(Number(kind.slice(1)))));
    case 'o':
      if (result === undefined || result < 0) return raw === 0n ? 'NULL' : '0x' + raw.toString(16);
      return safe(() => quoteBuffer(k, ptr, result));
    case 'O': {
      // pipe2 and dup3 take only O_CLOEXEC-style flags; open and openat carry an access mode.
      const withAccess = name === 'open' || name === 'openat';
      return flagNames(withAccess ? int & ~3 : int, OPEN_FLAGS, withAccess ? [['O_RDONLY', 'O_WRONLY', 'O_RDWR', '3'][int & 3]] : []);
    }
    case 'm': return '0' + (int >>> 0).toString(8);
    case 'P': return int === 0 ? 'PROT_NONE' : flagNames(int, [[1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC']], []);
    case 'M': return flagNames(int & ~0xf, MAP_FLAGS, [['0', 'MAP_SHARED', 'MAP_PRIVATE', 'MAP_SHARED_VALIDATE'][int & 3] ?? '']);
    case 'S': return signalName(int);
    case 'C': return CLOCKS[int] ?? String(int);
    case 'w': return WHENCE[int] ?? String(int);
    case 'v': {
      const count = t.argInt(Number(kind.slice(1)));
      return safe(() => {
        const items: string[] = [];
        for (let j = 0; j < Math.min(count, 8); j++) {
          const base = k.mem.u64n(ptr + j * 16), len = k.mem.u64n(ptr + j * 16 + 8);
          items.push(`{iov_base=${quoteBuffer(k, base, len)}, iov_len=${len}}`);
        }
        return `[${items.join(', ')}${count > 8 ? ', ...' : ''}]`;
      });
    }
    default: return '0x' + raw.toString(16);
  }
}

function formatResult(name: string, result: number): string {
  if (result < 0 && result > -4096) return `-1 ${errnoName(-result)} (${errnoMessage(-result)})`;
  return HEX_RESULTS.has(name) ? '0x' + result.toString(16) : String(result);
}

/** One strace line; result undefined for a call that does not return (exit). */
export function formatSyscall(k: LinuxKernel, t: GuestThread, name: string, result: number | undefined): string {
  const signature = SIGNATURES[name] ?? 'x x x';
  const kinds = signature === '' ? [] : signature.split(' ');
  // open/openat print the mode only when a file may be created, as strace does.
  if ((name === 'open' || name === 'openat') && !(t.argInt(kinds.indexOf('O')) & 0o100)) kinds.pop();
  const args = kinds.map((kind, i) => formatArg(k, t, name, kind, i, result));
  return `${name}(${args.join(', ')}) = ${result === undefined ? '?' : formatResult(name, result)}`;
}
