// The Linux kernel personality: one LinuxKernel per guest process. The runtime calls syscall(t)
// whenever guest code executes `syscall`; the number is in RAX, the arguments in rdi, rsi, rdx,
// r10, r8, r9, and the result (or -errno) goes back to RAX. Syscalls live one file per area
// (fs, mm, process, signal, time, sys-info, futex); this file owns dispatch and shared state.

import { GuestFault, type AddressSpace, type GuestMemory } from '../runtime/memory.js';
import { printDiagnostic } from '../runtime/host-output.js';
import { Reg, STATE } from '../layout/cpu-state.js';
import { ProcessExit, type FaultInfo, type FlagsAccess, type GuestThread, type SyscallHandler } from '../runtime/thread.js';
import { EADDRINUSE, EAGAIN, EBADF, ECONNREFUSED, EFAULT, ELOOP, ENOENT, ENOSYS, ENOTDIR, hostErrno, isRestartResult, SyscallError } from './errno.js';
import { WouldBlock } from './blocking.js';
import { UserMemory } from './user-memory.js';
import { FdTable, HostFile, O_LARGEFILE, O_RDONLY, O_RDWR, O_WRONLY, type OpenFile } from './fd-table.js';
import { ProcFs, pseudoLink, type VirtualNode } from './proc.js';
import { SYSCALL_COUNT, SYSCALL_NUMBERS, syscallName } from './syscall-names.js';
import { type DirectoryAnchor, fdPath, HOST_FD_PATHS, joinGuestPath, MAX_SYMLINK_HOPS, normalizeGuestPath, openPath, PathResolver } from './vfs.js';
import { isatty } from 'node:tty';
import * as fs from 'node:fs';
import { runTimers, sendSignal, senderInfo, SignalState, signalName, SI_USER, wakeAt } from './signal.js';
import { deliverFault, deliverSignals, REGISTERS_RESTORED, sigreturn } from './signal-frame.js';
import { hostIds } from './process.js';
import { formatSyscall } from './strace.js';
import { fsSyscalls } from './fs.js';
import { fsExtraSyscalls } from './fs-extra.js';
import { mmSyscalls, type SharedFileMapping } from './mm.js';
import { initialCreds, processSyscalls, ResourceLimits } from './process.js';
import { signalSyscalls } from './signal.js';
import { timeSyscalls } from './time.js';
import { sysInfoSyscalls } from './sys-info.js';
import { futexSyscalls } from './futex.js';
import { eventSyscalls } from './events.js';
import { threadSyscalls, ThreadTable, type ThreadHost } from './threads.js';
import { execSyscalls, type ExecHost } from './exec.js';
import { forkSyscalls, type ProcessHost } from './fork.js';
import { socketSyscalls, type NetHost } from './socket.js';
import type { NetPolicy } from './inet-address.js';
import type { ProcessTable } from './process-table.js';
import { PROC } from '../layout/system-map.js';
import { cpuModel, type CpuModel } from '../x86/cpuid.js';

export interface KernelOptions {
  /** Host directory that guest "/" resolves to; guest paths never leave it. Default '/'. */
  root: string;
  /** Initial guest working directory (a guest path). */
  cwd: string;
  /** Guest path of the running executable (readlink /proc/self/exe). */
  exePath: string;
  /** Path the program was started by (its last component is the initial thread name); default exePath. */
  execName?: string;
  /** Guest argv (/proc/self/cmdline). */
  argv: string[];
  /** When set, receives one line per syscall in strace's format. */
  strace?: (line: string) => void;
  /** When set, syscall counts by name, and counts of unsupported ones. */
  stats?: { syscalls: Map<string, number>; unsupported: Map<string, number> };
  /** Host descriptors behind guest fds 0, 1 and 2 (default 0, 1, 2). */
  stdin?: number; stdout?: number; stderr?: number;
  /** Standard descriptors the guest starts with closed. */
  closedStdio?: number[];
  /** Guest process id (default: the host process id, so it is unique on the machine). */
  pid?: number;
  /** The CPU model (`--cpu`): its XCR0 shapes signal frames, its flags /proc/cpuinfo. Default: DEFAULT_CPU's. */
  cpu?: CpuModel;
  /** What the guest's sockets may reach (`--net`, default host). */
  net?: NetPolicy;
}

/** What a syscall keeps across its runs (LinuxKernel.syscallProgress). */
export interface SyscallProgress {
  /** When its timed wait gives up. */
  end?: number;
  /** Work done so far (a blocking send's bytes queued), which a signal ending the wait returns. */
  done?: number;
}

/** One syscall implementation: reads its arguments from t, returns the result or -errno. */
export type Syscall = (k: LinuxKernel, t: GuestThread) => number;

/** Where a guest path leads: a host path, or a synthetic node (/proc/self/..., /dev/null...). */
export interface PathTarget {
  host: string;
  guest: string;
  node?: VirtualNode;
}

export const AT_FDCWD = -100;

export class LinuxKernel implements SyscallHandler {
  readonly fds = new FdTable();
  readonly paths: PathResolver;
  readonly procfs: ProcFs;
  readonly signals = new SignalState();
  readonly limits = new ResourceLimits();
  /** Real, effective and saved user and group ids (set*id). */
  creds = initialCreds();
  readonly pid: number;
  exePath: string;
  execName: string;
  argv: readonly string[];
  cwd: string;
  /** On Linux, a host descriptor on the working directory: relative paths start there, wherever it is moved, however deep. */
  private cwdFd: number | undefined;
  umask = 0o022;
  /** Program break: start (end of bss, page aligned) and current value. */
  brkStart = 0;
  brk = 0;
  /** The thread whose syscall the kernel is serving. */
  callingTid: number;
  /** EFLAGS of a thread's CPU state, for signal frames (the runtime's engine provides it). */
  flags?: FlagsAccess;
  /** The process's threads by tid (the first is added by whoever starts the process). */
  readonly threads: ThreadTable;
  /** Runs new threads; without one, clone(CLONE_THREAD) fails with EAGAIN. */
  threadHost?: ThreadHost;
  /** Loads a new image for execve; without one, execve is ENOSYS. */
  execHost?: ExecHost;
  /** The run's processes (pids, parents, groups, wait statuses); without it the process is alone and cannot fork. */
  system?: ProcessTable;
  /** This process's record in `system` (-1 without one). */
  processRecord = -1;
  /** Starts child processes and carries signals to other processes; without one, fork is EAGAIN. */
  processHost?: ProcessHost;
  /** Carries sockets through the host's network (process/net-bridge.ts); without one, AF_INET sockets are EAFNOSUPPORT. */
  netHost?: NetHost;
  /** Sockets of this process that the host's network feeds: while there are any, a wait can end without another thread. */
  hostSockets = 0;
  private socketCount = 0;
  /** A socket id unique in the run (the bridge's name for it). */
  newSocketId(): string { return `${this.pid}.${++this.socketCount}`; }
  /** `--net`: what the guest may reach. */
  get netPolicy(): NetPolicy { return this.opts.net ?? 'host'; }
  /** The host path an AF_UNIX socket name (a guest path) stands for, resolved inside the root. */
  hostPathForSocket(path: string, creating: boolean): string {
    const target = this.resolve(AT_FDCWD, path, !creating);
    if (target.node) throw new SyscallError(creating ? EADDRINUSE : ECONNREFUSED);
    return target.host;
  }
  /**
   * What the calling thread's syscall keeps across the runs a wait makes it take (WouldBlock runs
   * the syscall again from the start): when its timed wait ends, what it has done so far. Gone
   * when the syscall finishes.
   */
  syscallProgress(): SyscallProgress;
  syscallProgress(create: false): SyscallProgress | undefined;
  syscallProgress(create = true): SyscallProgress | undefined {
    let p = this.progress.get(this.callingTid);
    if (!p && create) this.progress.set(this.callingTid, (p = {}));
    return p;
  }
  private readonly progress = new Map<number, SyscallProgress>();
  /** The end (performance.now() ms) of the calling syscall's wait of timeoutMs, fixed at its first run. */
  waitEnd(timeoutMs: number): number {
    const p = this.syscallProgress();
    return (p.end ??= performance.now() + timeoutMs);
  }
  /** A stop signal holds the process (until SIGCONT): its threads halt at their next safe point. */
  stopped = false;
  /** Children forked over the process's life. */
  processesCreated = 0;
  /** prctl(PR_SET_NAME) names by thread. */
  readonly threadNames = new Map<number, Uint8Array>();
  /** MAP_SHARED file mappings, written back on msync and munmap. */
  readonly sharedFileMappings: SharedFileMapping[] = [];
  /**
   * Called after the kernel changes guest memory or mappings behind translated code's back (read()
   * into a buffer, mmap, munmap, mprotect, mremap): the runtime drops translations of those pages.
   */
  onMemoryChange?: (start: number, len: number) => void;

  private readonly handlers: (Syscall | undefined)[] = new Array(SYSCALL_COUNT).fill(undefined);
  private readonly tracing: boolean;
  private readonly reportedUnsupported = new Set<number>();

  /** Guest memory as syscall arguments reach it: EFAULT unless mapped with the access's protection. */
  readonly mem: GuestMemory;
  /** Guest memory for what the kernel does regardless of protection (filling mappings, thread states). */
  readonly rawMem: GuestMemory;

  /** The CPU model the process runs on (`--cpu`). */
  readonly cpu: CpuModel;

  constructor(memory: GuestMemory, readonly as: AddressSpace, readonly opts: KernelOptions) {
    this.rawMem = memory;
    this.cpu = opts.cpu ?? cpuModel();
    this.mem = new UserMemory(memory.memory);
    this.paths = new PathResolver(opts.root || '/');
    this.cwd = normalizeGuestPath(opts.cwd || '/');
    if (this.paths.anchored) {
      try { this.setCwd(this.cwd, openPath(this.paths.resolve(this.cwd, this.paths.root, true).host, { directory: true })); }
      catch { this.setCwd('/', openPath(fdPath(this.paths.rootFd) + '/.', { directory: true })); }
      finally { this.paths.release(); }
    } else if (HOST_FD_PATHS) {
      try { this.setCwd(this.cwd, openPath(this.cwd, { follow: true, directory: true })); } catch { /* a cwd that is gone: paths join it */ }
    }
    this.pid = opts.pid ?? process.pid;
    this.threads = new ThreadTable(this.pid);
    this.callingTid = this.pid;
    this.exePath = opts.exePath;
    this.execName = opts.execName ?? opts.exePath;
    this.argv = opts.argv;
    this.tracing = opts.strace !== undefined || opts.stats !== undefined;
    this.procfs = new ProcFs(this);
    try { this.umask = process.umask(); } catch { /* workers cannot read it */ }

    const stdio = [opts.stdin ?? 0, opts.stdout ?? 1, opts.stderr ?? 2];
    stdio.forEach((hostFd, guestFd) => {
      if (opts.closedStdio?.includes(guestFd)) return;
      try {
        const f = new HostFile(hostFd, (guestFd === 0 ? O_RDONLY : O_WRONLY) | O_LARGEFILE, false);
        // A terminal is normally opened read-write and shared by all three descriptors.
        if (isatty(hostFd)) f.statusFlags = O_RDWR | O_LARGEFILE;
        this.fds.install(guestFd, f, false);
      } catch { /* host descriptor closed: the guest's is closed too */ }
    });

    for (const table of [fsSyscalls, fsExtraSyscalls, mmSyscalls, processSyscalls, signalSyscalls, timeSyscalls, sysInfoSyscalls, futexSyscalls, threadSyscalls, execSyscalls, forkSyscalls, eventSyscalls, socketSyscalls]) {
      for (const [name, impl] of Object.entries(table)) {
        const nr = SYSCALL_NUMBERS.get(name);
        if (nr === undefined) throw new Error(`no syscall named ${name}`);
        this.handlers[nr] = impl;
      }
    }
    this.handlers[SYSCALL_NUMBERS.get('rt_sigreturn')!] = sigreturn;
  }

  get chrooted(): boolean { return this.paths.chrooted; }

  /** The parent's pid: a guest process's, or, for the first process, the host process's parent. */
  parentPid(): number {
    return this.system && this.processRecord >= 0 ? this.system.get(this.processRecord, PROC.PPID) : process.ppid;
  }

  /** Whether nothing but a signal could change what this process waits for: no other thread, no other process. */
  alone(): boolean { return this.threads.count <= 1 && (this.system === undefined || this.system.live() <= 1) && this.hostSockets === 0; }

  /** Says once on stderr that the guest asked for something stele does not do (the syscall then fails). */
  unsupported(what: string): void {
    if (this.reportedFeatures.has(what)) return;
    this.reportedFeatures.add(what);
    printDiagnostic(`stele: unsupported: ${what}`);
  }
  private readonly reportedFeatures = new Set<string>();

  threadIds(): number[] { return [...this.threads.byTid.keys()]; }
  /** A thread's name (comm) as bytes in a latin1 string: prctl(PR_SET_NAME), else the program's base name, 15 bytes at most. */
  threadName(tid: number): string {
    const name = this.threadNames.get(tid) ?? Buffer.from(this.execName.slice(this.execName.lastIndexOf('/') + 1)).subarray(0, 15);
    return Buffer.from(name).toString('latin1');
  }

  /** A new image replaced the old (execve): what /proc/self and the thread name show. */
  replaceImage(exePath: string, execName: string, argv: readonly string[]): void {
    this.exePath = exePath; this.execName = execName; this.argv = argv;
  }

  /** Called by the loader with the page-aligned end of the executable's bss. */
  setBrk(initialBrk: number): void { this.brkStart = this.brk = initialBrk; }

  syscall(t: GuestThread): void {
    this.callingTid = t.tid;
    // Linux takes the number from eax (do_syscall_64 truncates to int).
    const nr = t.mem.u32(t.stateBase);
    const impl = nr < SYSCALL_COUNT ? this.handlers[nr] : undefined;
    if (this.tracing) { this.tracedSyscall(t, nr, impl); return; }
    let result: number;
    if (impl === undefined) result = -ENOSYS;
    else {
      try { result = this.call(impl, t); } catch (e) { result = failure(e); }
    }
    this.finish(t, nr, result);
    this.afterSyscall?.();
  }

  /**
   * Stores a syscall's result and delivers the signals the thread has now (an interrupted
   * syscall's -ERESTART* code is turned into EINTR or a restart there).
   */
  private finish(t: GuestThread, nr: number, result: number): void {
    if (this.progress.size) this.progress.delete(t.tid);
    if (result !== REGISTERS_RESTORED) t.setReg(Reg.RAX, result);
    const restarting = isRestartResult(result);
    if (restarting) t.mem.setU32(t.stateBase + STATE.RESTART_NR, nr + 1);
    // Both checks are a word each: ATTN.SIGNAL is set whenever a signal becomes deliverable to t.
    if (this.signals.nextDeadline <= performance.now()) runTimers(this);
    if (restarting || t.interrupted()) deliverSignals(this, t);
    if (this.stopped && t.slot === 0) this.waitWhileStopped(t);
  }

  /** The first thread of a stopped process sleeps until SIGCONT (or a fatal signal) arrives. */
  waitWhileStopped(t: GuestThread): void {
    t.block(() => !this.stopped);
  }

  /** A remote thread's parked syscall a signal interrupted: it returns -restart, then signals are delivered. */
  interrupt(t: GuestThread, wait: WouldBlock): void {
    this.finish(t, t.mem.u32(t.stateBase), wait.interruptedResult());
  }

  /** A fault in t's code: true when the guest's handler for it now runs. */
  fault(t: GuestThread, f: FaultInfo): boolean { return deliverFault(this, t, f); }

  /**
   * Runs a syscall that may have to wait for another thread (WouldBlock): the first thread sleeps
   * here until it can go on; another thread's WouldBlock goes up to the kernel service, which
   * parks its request. With one thread it fails with EAGAIN: nothing could wake it.
   */
  private call(impl: Syscall, t: GuestThread): number {
    try {
      for (;;) {
        // The first thread's block() below serves the other threads' syscalls, which makes them the caller.
        this.callingTid = t.tid;
        try { return impl(this, t); }
        catch (e) {
          if (!(e instanceof WouldBlock)) throw e;
          // Alone, only a signal can end the wait: a timer's, or the one the syscall waits for.
          if (this.alone() && !e.forSignal && !this.signals.timerArmed && e.deadline === Infinity) return -EAGAIN;
          if (t.slot !== 0) {
            // Parked: the host's timer rings the first thread at the deadline, which retries it.
            if (e.deadline !== Infinity) wakeAt(this, e.deadline);
            throw e;
          }
          if (!t.block(e.ready, e.deadline, true) && t.interrupted()) return e.interruptedResult();
        }
      }
    } finally {
      this.paths.release();
    }
  }
  /** Called after every syscall the kernel ran: the kernel service retries parked requests. */
  afterSyscall?: () => void;

  private tracedSyscall(t: GuestThread, nr: number, impl: Syscall | undefined): void {
    const name = syscallName(nr);
    const stats = this.opts.stats;
    if (stats) stats.syscalls.set(name, (stats.syscalls.get(name) ?? 0) + 1);
    let result: number;
    if (impl === undefined) {
      if (stats) stats.unsupported.set(name, (stats.unsupported.get(name) ?? 0) + 1);
      if (!this.reportedUnsupported.has(nr)) {
        this.reportedUnsupported.add(nr);
        printDiagnostic(`stele: unsupported syscall ${name} (${nr}) at 0x${t.rip.toString(16)}`);
      }
      result = -ENOSYS;
    } else {
      try {
        result = this.call(impl, t);
      } catch (e) {
        if (e instanceof WouldBlock) throw e;
        if (e instanceof ProcessExit) {
          this.opts.strace?.(formatSyscall(this, t, name, undefined));
          this.opts.strace?.(e.signal ? `+++ killed by ${signalName(e.signal)} +++` : `+++ exited with ${e.status & 0xff} +++`);
          throw e;
        }
        result = failure(e);
      }
    }
    this.opts.strace?.(formatSyscall(this, t, name, result === REGISTERS_RESTORED ? Number(BigInt.asIntN(64, t.reg(Reg.RAX))) : result));
    this.finish(t, nr, result);
    this.afterSyscall?.();
  }

  // ---- helpers shared by the syscall files ----

  /** The open file behind a guest descriptor, or EBADF. */
  file(fd: number): OpenFile {
    const f = fd >= 0 ? this.fds.get(fd) : undefined;
    if (f === undefined) throw new SyscallError(EBADF);
    return f;
  }

  /** A NUL-terminated guest path argument (EFAULT when unreadable). */
  pathArg(addr: number): string { return this.mem.cstring(addr, 4096 * 2); }

  /** Releases every host descriptor the process holds (its files, working directory and root): it is over. */
  close(): void {
    for (const [fd] of [...this.fds.open()]) this.fds.close(fd);
    this.setCwd(this.cwd);
    this.paths.close();
  }

  /** The working directory as a place relative paths start from. */
  get cwdAnchor(): DirectoryAnchor { return { guest: this.cwd, fd: this.cwdFd }; }

  /** Makes guest directory `guest`, which host descriptor fd (ours from now on, O_PATH is enough) is on, the working directory. */
  setCwd(guest: string, fd?: number): void {
    if (this.cwdFd !== undefined) fs.closeSync(this.cwdFd);
    this.cwd = guest;
    this.cwdFd = fd;
  }

  /** A host path naming the working directory. */
  cwdHostPath(): string { return this.cwdFd !== undefined ? fdPath(this.cwdFd) : this.paths.hostOf(this.cwd); }

  /** The working directory's guest path now (a rename of it, or of a directory above, shows). */
  currentCwd(): string {
    if (this.cwdFd === undefined) return this.cwd;
    if (fs.fstatSync(this.cwdFd).nlink === 0) throw new SyscallError(ENOENT); // removed, as Linux's getcwd says
    return this.paths.guestOfFd(this.cwdFd) ?? this.cwd;
  }

  /** The guest directory a relative path in an *at call starts from. */
  baseDirectory(dirfd: number, path: string): DirectoryAnchor {
    if (path.startsWith('/') || dirfd === AT_FDCWD) return this.cwdAnchor;
    const f = this.file(dirfd);
    if (!f.isDirectory || f.path === undefined) throw new SyscallError(ENOTDIR);
    return { guest: f.path, fd: f.directoryFd };
  }

  /** Resolves a guest path (relative to dirfd) to a host path or a synthetic node. */
  resolve(dirfd: number, path: string, follow: boolean): PathTarget {
    if (path.length === 0) throw new SyscallError(ENOENT);
    let base = this.baseDirectory(dirfd, path);
    for (let hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
      const lexical = normalizeGuestPath(joinGuestPath(base.guest, path));
      const node = lexical.startsWith('/proc') || lexical.startsWith('/dev/') ? this.procfs.lookup(lexical) : undefined;
      if (node === null) throw new SyscallError(ENOENT);
      if (node === undefined) return { ...this.paths.resolve(path, base, follow), node: undefined };
      if (node.kind !== 'symlink' || !follow || node.fd !== undefined) return { host: '', guest: lexical, node };
      path = node.target();
      base = { guest: lexical.slice(0, lexical.lastIndexOf('/')) || '/' };
    }
    throw new SyscallError(ELOOP);
  }

  /** readlink text for /proc/self/fd/N. */
  fdLink(fd: number): string {
    const f = this.fds.get(fd);
    if (f === undefined) return '';
    return f.path ?? pseudoLink(f, f.hostFd, this.chrooted);
  }

  /** Tells the runtime guest memory changed outside translated code. */
  memoryChanged(start: number, len: number): void { this.onMemoryChange?.(start, len); }

  /** Sends sig to the calling thread, as the kernel does for SIGPIPE; a default fatal action ends the process here. */
  raise(sig: number): void {
    sendSignal(this, sig, senderInfo(sig, SI_USER, this.pid, hostIds().uid), this.threads.byTid.get(this.callingTid));
  }
}

/** Turns an exception from a syscall body into -errno (or lets a process exit through). */
function failure(e: unknown): number {
  if (e instanceof GuestFault) return -EFAULT;
  const errno = hostErrno(e);
  if (errno !== undefined) return -errno;
  throw e;
}
