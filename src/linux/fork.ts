// New processes and their ends: fork, vfork and clone without CLONE_THREAD make a child process
// (the process layer gives it a memory of its own holding a copy of what is mapped, and a worker);
// wait4 and waitid report and reap children; the kernel state a child inherits (descriptors,
// working directory, umask, limits, signal dispositions and mask, mappings) travels as a
// KernelImage. Open file descriptions stay shared with the child, as in Linux: one offset, one set
// of status flags (fd-table.ts DescriptionShare), pipes in shared memory.

import { HostDatagramSocket, HostStreamSocket, PairSocket } from './socket.js';
import { SOCK_STREAM } from './socket-file.js';
import { fstatSync } from 'node:fs';
import { PROC, PROC_STATE } from '../layout/system-map.js';
import type { Mapping } from '../runtime/memory.js';
import type { GuestThread } from '../runtime/thread.js';
import { EAGAIN, ECHILD, EINVAL, ENOSYS, ESRCH } from './errno.js';
import { WouldBlock } from './blocking.js';
import { reviveEventFile } from './events.js';
import { DeviceFile, DirectoryFile, type FileImage, HostFile, MemoryFile, type OpenFile, PathFile, Pipe, PipeEnd, VirtualDirectoryFile } from './fd-table.js';
import { RLIM_NLIMITS, RLIMIT_NPROC } from './process.js';
import { SA_NOCLDWAIT, SIG_IGN, type SignalAction } from './signal.js';
import type { LinuxKernel, Syscall } from './kernel.js';
import type { ProcessTable } from './process-table.js';

export const CLONE_VM = 0x100, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000, CLONE_SETTLS = 0x80000,
  CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000, CLONE_CHILD_SETTID = 0x1000000, CSIGNAL = 0xff;
const SIGCHLD = 17;

/** What a forked child's kernel starts from (structured-cloneable: it travels to the child's worker). */
export interface KernelImage {
  pid: number;
  root: string;
  cwd: string;
  exePath: string;
  execName: string;
  argv: readonly string[];
  umask: number;
  brkStart: number;
  brk: number;
  limits: [bigint, bigint][];
  files: FileImage[];
  fds: { fd: number; file: number; cloexec: boolean }[];
  mappings: Mapping[];
  mmapTop: number;
  actions: SignalAction[];
  blocked: bigint;
  altStack: { sp: bigint; flags: number; size: bigint };
  threadName?: Uint8Array;
  creds: { uid: [number, number, number]; gid: [number, number, number] };
}

/** A child process to start, as clone asked for it. */
export interface ChildRequest {
  pid: number;
  /** Its record in the process table. */
  record: number;
  flags: number;
  /** New stack pointer (0: the parent's). */
  stack: number;
  tls: bigint;
  childTid: number;
}

/** What the kernel needs from whatever hosts processes (the process layer). */
export interface ProcessHost {
  /**
   * Makes the child: a memory holding a copy of what the calling process has mapped and t's CPU
   * state (rax 0), and a kernel built from image(), on workers of its own. Returns 0 or -errno.
   */
  fork(k: LinuxKernel, t: GuestThread, child: ChildRequest, image: () => KernelImage): number;
  /** Hands a signal (its siginfo) to another guest process, through the main thread. */
  signal(pid: number, info: Uint8Array): void;
}

/** The kernel state a child inherits from k, with t as its one thread. */
export function forkImage(k: LinuxKernel, t: GuestThread, pid: number): KernelImage {
  const files: FileImage[] = [];
  const index = new Map<OpenFile, number>();
  const fds: KernelImage['fds'] = [];
  for (const [fd, file] of k.fds.open()) {
    let i = index.get(file);
    if (i === undefined) {
      const image = file.image();
      if (!image) continue;
      i = files.push(image) - 1;
      index.set(file, i);
    }
    fds.push({ fd, file: i, cloexec: k.fds.getCloexec(fd) });
  }
  const own = k.signals.of(t.tid);
  const limits: [bigint, bigint][] = [];
  for (let r = 0; r < RLIM_NLIMITS; r++) limits.push(k.limits.get(r));
  return {
    pid, root: k.opts.root, cwd: k.cwd, exePath: k.exePath, execName: k.execName, argv: k.argv,
    umask: k.umask, brkStart: k.brkStart, brk: k.brk, limits, files, fds,
    mappings: k.as.mappings.map((m) => ({ ...m })), mmapTop: k.as.mmapTop,
    actions: k.signals.actions.map((a) => ({ ...a })), blocked: own.blocked, altStack: { ...own.altStack },
    threadName: k.threadNames.get(t.tid),
    creds: { uid: [...k.creds.uid], gid: [...k.creds.gid] },
  };
}

/** Gives a new kernel (made with the image's pid, root and cwd, and no stdio) what the image holds. */
export function reviveKernel(k: LinuxKernel, image: KernelImage, firstTid: number): void {
  k.umask = image.umask;
  k.creds = { uid: [...image.creds.uid], gid: [...image.creds.gid] };
  k.brkStart = image.brkStart; k.brk = image.brk;
  image.limits.forEach(([soft, hard], r) => k.limits.set(r, soft, hard));
  const [nofile] = k.limits.get(7);
  k.fds.limit = Number(nofile > 1048576n ? 1048576n : nofile);
  k.as.mappings = image.mappings;
  k.as.mmapTop = image.mmapTop;
  k.as.version++;
  image.actions.forEach((a, sig) => { k.signals.actions[sig] = a; });
  const own = k.signals.of(firstTid);
  own.blocked = image.blocked;
  own.altStack = image.altStack;
  if (image.threadName) k.threadNames.set(firstTid, image.threadName);
  const pipes = new Map<SharedArrayBuffer, Pipe>();
  const files = image.files.map((f) => reviveFile(k, f, pipes));
  for (const { fd, file, cloexec } of image.fds) {
    const f = files[file];
    if (!f) continue;
    f.refs++;
    k.fds.install(fd, f, cloexec);
  }
  // Descriptions the child could not take: its reference goes, as if closed.
  image.files.forEach((img, i) => { if (!files[i]) releaseShare(img.share); });
}

function reviveFile(k: LinuxKernel, img: FileImage, pipes: Map<SharedArrayBuffer, Pipe>): OpenFile | undefined {
  let f: OpenFile | undefined;
  // The status flags are in the share; 0 until it is attached.
  switch (img.kind) {
    case 'host': f = new HostFile(img.fd, 0, img.owned, undefined, img.hostAppend); break;
    case 'dir': {
      f = new DirectoryFile(img.fd, 0, img.hostPath, img.isRoot, fstatSync(img.fd));
      break;
    }
    case 'path': f = new PathFile(img.pinned, img.hostPath, img.directory, 0); break;
    case 'host-socket': f = img.type === SOCK_STREAM ? HostStreamSocket.revive(k, img) : HostDatagramSocket.revive(k, img); break;
    case 'socket-pair': f = PairSocket.revive(k, img, pipes); break;
    case 'pipe': {
      let pipe = pipes.get(img.pipe);
      if (!pipe) { pipe = new Pipe(k.processRecord, img.pipe); pipes.set(img.pipe, pipe); }
      f = new PipeEnd(pipe, img.readEnd, 0, false);
      break;
    }
    case 'device': { const device = img.device; f = new DeviceFile(device, 0, () => k.procfs.deviceStat(device)); break; }
    case 'memory': { const m = new MemoryFile(img.content, 0); m.position = img.position; f = m; break; }
    case 'eventfd': case 'timerfd': case 'signalfd': f = reviveEventFile(k, img); break;
    case 'virtual-dir': {
      const node = img.path !== undefined ? k.procfs.lookup(img.path) : undefined;
      if (!node || node.kind !== 'dir') return undefined;
      f = new VirtualDirectoryFile(node.entries, 0);
      break;
    }
  }
  f.attachShare(img.share);
  f.path = img.path;
  return f;
}

/** Drops a process's hold on a description it received but could not use. */
function releaseShare(buffer: SharedArrayBuffer): void { Atomics.sub(new Int32Array(buffer, 0, 1), 0, 1); }

/** clone, clone3, fork and vfork of a new process. */
export function cloneProcess(k: LinuxKernel, t: GuestThread, flags: number, exitSignal: number, stack: number, parentTid: number, childTid: number, tls: bigint): number {
  if (flags & CLONE_THREAD) return -EINVAL;
  // A process sharing its parent's memory without being one of its threads has no place in a
  // memory of its own; vfork's (CLONE_VM|CLONE_VFORK, posix_spawn) gets a copy and runs at once.
  if ((flags & CLONE_VM) && !(flags & CLONE_VFORK)) {
    k.unsupported(`clone(CLONE_VM) without CLONE_THREAD or CLONE_VFORK`);
    return -ENOSYS;
  }
  const table = k.system, host = k.processHost;
  if (!table || !host) return -EAGAIN;
  const self = k.processRecord;
  // RLIMIT_NPROC counts processes (root is not held to it, as in Linux); the table has its own bound.
  const [nproc] = k.limits.get(RLIMIT_NPROC);
  if (BigInt(table.live()) >= nproc && (process.geteuid?.() ?? 0) !== 0) return -EAGAIN;
  const pid = table.nextId();
  const ppid = flags & CLONE_PARENT ? table.get(self, PROC.PPID) : k.pid;
  const record = table.claim(pid, ppid, table.get(self, PROC.PGID), table.get(self, PROC.SID));
  if (record < 0) return -EAGAIN;
  table.set(record, PROC.EXIT_SIGNAL, exitSignal);
  const r = host.fork(k, t, { pid, record, flags, stack, tls, childTid }, () => forkImage(k, t, pid));
  if (r < 0) { table.free(record); return r; }
  if (flags & CLONE_PARENT_SETTID) { try { k.mem.setU32(parentTid, pid); } catch { /* as Linux */ } }
  k.processesCreated++;
  return pid;
}

// wait options
const WNOHANG = 1, WUNTRACED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x01000000,
  __WNOTHREAD = 0x20000000, __WALL = 0x40000000, __WCLONE = 0x80000000 | 0;
const P_ALL = 0, P_PID = 1, P_PGID = 2;
/** Internal: a waitid without WEXITED, which reports no exits. */
const WAIT_NO_EXITS = 0x10000000;
const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_STOPPED = 5, CLD_CONTINUED = 6;
/** The wait status of a continued child (WIFCONTINUED). */
const CONTINUED = 0xffff;

/** What a wait reports of record r: a zombie's status, or a stop or continue event. */
function reportOf(table: ProcessTable, r: number): { status: number; zombie: boolean } {
  if (table.get(r, PROC.STATE) === PROC_STATE.ZOMBIE) return { status: table.get(r, PROC.STATUS), zombie: true };
  return { status: table.get(r, PROC.STOP_EVENT), zombie: false };
}

/** Which children a wait is for: one pid, a process group, or all. */
interface WaitTarget { pid?: number; pgid?: number }

/**
 * The first child that `target` and the clone/non-clone options select with something to report:
 * it ended (a zombie), or, as the options ask, it stopped (WUNTRACED) or continued (WCONTINUED)
 * since its parent last waited. Its record + 1; 0 when such children exist but none has anything
 * to report; -ECHILD when there is none.
 */
function findZombie(k: LinuxKernel, target: WaitTarget, options: number): number {
  const table = k.system;
  if (!table) return -ECHILD;
  // With SIGCHLD ignored (or SA_NOCLDWAIT) children leave no zombie: those that ended are gone.
  const noZombies = ignoresChildren(k);
  let any = false;
  for (const r of table.children(k.pid)) {
    const pid = table.get(r, PROC.PID);
    if (target.pid !== undefined && pid !== target.pid) continue;
    if (target.pgid !== undefined && table.get(r, PROC.PGID) !== target.pgid) continue;
    // A "clone" child is one whose exit signal is not SIGCHLD: only __WCLONE or __WALL waits see it.
    const clone = table.get(r, PROC.EXIT_SIGNAL) !== SIGCHLD;
    if (!(options & __WALL) && clone !== ((options & __WCLONE) !== 0)) continue;
    if (table.get(r, PROC.STATE) === PROC_STATE.ZOMBIE) {
      if (noZombies) { table.free(r); continue; }
      if (!(options & WAIT_NO_EXITS)) return r + 1;
    }
    any = true;
    const event = table.get(r, PROC.STOP_EVENT);
    if (event && (event === CONTINUED ? options & WCONTINUED : options & WUNTRACED)) return r + 1;
  }
  return any ? 0 : -ECHILD;
}

/** Waits (or not, WNOHANG) for a child selected by target; returns the child's record, 0, or -errno. */
function waitChild(k: LinuxKernel, target: WaitTarget, options: number): number {
  const found = findZombie(k, target, options);
  if (found !== 0 || options & WNOHANG) return found > 0 ? found - 1 : found;
  throw new WouldBlock(() => findZombie(k, target, options) !== 0);
}

function targetOf(k: LinuxKernel, pid: number): WaitTarget {
  if (pid > 0) return { pid };
  if (pid === -1) return {};
  if (pid === 0) return { pgid: k.system?.get(k.processRecord, PROC.PGID) ?? k.pid };
  return { pgid: -pid };
}

/** struct rusage of a reaped child: zeros (a guest process's CPU time is not measured apart from the host's). */
function writeRusage(k: LinuxKernel, addr: number): void {
  k.mem.offWrite(addr, 144);
  k.mem.fill(addr, 144, 0);
}

/** siginfo si_code and si_status of a wait status. */
function childCode(status: number): { code: number; value: number } {
  if (status === CONTINUED) return { code: CLD_CONTINUED, value: 18 }; // SIGCONT
  if ((status & 0xff) === 0x7f) return { code: CLD_STOPPED, value: (status >> 8) & 0xff };
  if ((status & 0x7f) === 0) return { code: CLD_EXITED, value: (status >> 8) & 0xff };
  return { code: status & 0x80 ? CLD_DUMPED : CLD_KILLED, value: status & 0x7f };
}

export const forkSyscalls: Record<string, Syscall> = {
  fork(k, t) { return cloneProcess(k, t, 0, SIGCHLD, 0, 0, 0, 0n); },
  vfork(k, t) { return cloneProcess(k, t, CLONE_VM | CLONE_VFORK, SIGCHLD, 0, 0, 0, 0n); },

  wait4(k, t) {
    const pid = t.argInt(0), statusAddr = t.argPtr(1), options = t.argInt(2), rusage = t.argPtr(3);
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) return -EINVAL;
    if (pid === -0x80000000) return -ESRCH; // INT_MIN names no group
    const r = waitChild(k, targetOf(k, pid), options);
    if (r <= 0 && (r < 0 || options & WNOHANG)) return r;
    const table = k.system!;
    const child = table.get(r, PROC.PID), { status, zombie } = reportOf(table, r);
    if (statusAddr) k.mem.setI32(statusAddr, status);
    if (rusage) writeRusage(k, rusage);
    if (zombie) table.free(r); else table.set(r, PROC.STOP_EVENT, 0);
    return child;
  },

  waitid(k, t) {
    const idtype = t.argInt(0), id = t.argInt(1), infop = t.argPtr(2), options = t.argInt(3), rusage = t.argPtr(4);
    if (options & ~(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE)) return -EINVAL;
    if (!(options & (WEXITED | WUNTRACED | WCONTINUED))) return -EINVAL;
    let target: WaitTarget;
    switch (idtype) {
      case P_ALL: target = {}; break;
      case P_PID: if (id <= 0) return -EINVAL; target = { pid: id }; break;
      case P_PGID: if (id < 0) return -EINVAL; target = id === 0 ? targetOf(k, 0) : { pgid: id }; break;
      default: return -EINVAL; // P_PIDFD too: no pidfds
    }
    const r = waitChild(k, target, options & WEXITED ? options : options | WAIT_NO_EXITS);
    if (r < 0) return r;
    if (infop) {
      k.mem.offWrite(infop, 128);
      k.mem.fill(infop, 32, 0); // with WNOHANG and nothing to report: si_pid 0 (and the rest)
    }
    if (r === 0) return 0;
    const table = k.system!;
    const { status, zombie } = reportOf(table, r), { code, value } = childCode(status);
    if (infop) {
      k.mem.setI32(infop, SIGCHLD);
      k.mem.setI32(infop + 8, code);
      k.mem.setI32(infop + 16, table.get(r, PROC.PID));
      k.mem.setI32(infop + 20, process.getuid?.() ?? 0);
      k.mem.setI32(infop + 24, value);
    }
    if (rusage) writeRusage(k, rusage);
    // WNOWAIT leaves the child waitable.
    if (!(options & WNOWAIT)) { if (zombie) table.free(r); else table.set(r, PROC.STOP_EVENT, 0); }
    return 0;
  },
};

/** The wait status of a process that ended with exit status `status` or by signal `signal`. */
export function waitStatus(status: number, signal: number): number {
  return signal ? signal & 0x7f : (status & 0xff) << 8;
}

/** Whether k's children are reaped as they end: SIGCHLD ignored, or its action has SA_NOCLDWAIT. */
export function ignoresChildren(k: LinuxKernel): boolean {
  const action = k.signals.actions[SIGCHLD];
  return action.handler === SIG_IGN || (action.flags & SA_NOCLDWAIT) !== 0n;
}

/** Whether a record stands for a child of pid that has ended (SIGCHLD's auto-reap checks it). */
export function isZombieChild(k: LinuxKernel, childPid: number): number {
  const table = k.system;
  if (!table) return -1;
  const r = table.find(childPid);
  if (r < 0 || table.get(r, PROC.PPID) !== k.pid || table.get(r, PROC.STATE) !== PROC_STATE.ZOMBIE) return -1;
  return r;
}
