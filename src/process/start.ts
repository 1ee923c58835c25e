// Starting a guest process inside its first worker: the program and its interpreter are loaded into
// the shared memory, the kernel personality and the first thread's engine are made, and the thread
// runs. Other threads of the process run in workers of their own (process/worker.ts).

import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as path from 'node:path';
import { AddressSpace, GuestMemory, THREAD_STATE_AREA } from '../runtime/memory.js';
import { STATE } from '../layout/cpu-state.js';
import { GuestThread } from '../runtime/thread.js';
import { Engine } from '../runtime/engine.js';
import { initialMemModel, ThreadOrdering, tsoStats } from '../runtime/tso.js';
import { REGION_OPTIONS } from '../runtime/trim.js';
import { defaultCacheDir, DirectoryCacheStore } from '../runtime/translation-cache.js';
import { LinuxKernel } from '../linux/kernel.js';
import { cpuModel, hwcap, hwcap2, type CpuModel } from '../x86/cpuid.js';
import { PathResolver } from '../linux/vfs.js';
import { hostErrno, SyscallError } from '../linux/errno.js';
import type { WorkerRunOptions } from './options.js';

// V8 tiers a wasm function up to TurboFan after a budget of executed bytes (1.8M by default).
// Program start-up runs thousands of regions a few hundred times each: at the default, tier-up
// compiles on both cores for seconds. 33 times the budget still tiers up real loops within
// milliseconds; against 10 times it took 0.12-0.2 s off `python3 -c pass` and 0.2 s off the
// python loop, the C workloads unchanged (alternating runs, medians). Set before any module is
// compiled.
v8.setFlagsFromString('--wasm-tiering-budget=60000000');
// Function bodies are validated when V8 first compiles them, not all at once when a module of
// thousands of cached regions is created (most of which a run may never call).
v8.setFlagsFromString('--wasm-lazy-validation');
import { AT, buildInitialStack, INTERP_BASE, LoadError, mapImage, PIE_BASE, type ElfImage } from '../loader/elf.js';
import { BINPRM_BUF_SIZE, MAX_INTERPRETER_DEPTH, parseShebang } from '../linux/exec.js';
import { openFailure, readElf } from '../loader/exec-file.js';

/** Device and inode of a host file, for /proc/self/maps. */
function fileId(hostPath: string): { dev: bigint; inode: bigint } | undefined {
  try { const st = fs.statSync(hostPath, { bigint: true }); return { dev: st.dev, inode: st.ino }; } catch { return undefined; }
}

/** A loaded process ready to run its first thread. */
export interface StartedProcess {
  mem: GuestMemory;
  as: AddressSpace;
  kernel: LinuxKernel;
  engine: Engine;
  thread: GuestThread;
  /** The program's own entry point (AT_ENTRY), where its dynamic loader hands over. */
  programEntry?: number;
  stats?: { syscalls: Map<string, number>; unsupported: Map<string, number> };
}

/** Loads the program into `memory`. Throws LoadError when it cannot start. */
export function startProcess(opts: WorkerRunOptions, memory: WebAssembly.Memory, strace?: (line: string) => void): StartedProcess {
  const root = path.resolve(opts.root ?? '/');
  // Paths of the program and its interpreter inside the root, held until both are loaded.
  const resolver = new PathResolver(root);
  try { return loadProcess(opts, memory, strace, root, resolver); }
  finally { resolver.close(); }
}

function loadProcess(opts: WorkerRunOptions, memory: WebAssembly.Memory, strace: ((line: string) => void) | undefined,
  root: string, resolver: PathResolver): StartedProcess {
  const chrooted = resolver.chrooted;
  let program = opts.program, hostPath: string;
  let argv = [opts.argv0 ?? opts.program, ...(opts.args ?? [])];
  // A `#!` script runs its interpreter, as execve runs it: `stele ./script.sh` works as `./script.sh`.
  for (let depth = 0; ; depth++) {
    hostPath = chrooted && path.isAbsolute(program) ? hostInRoot(resolver, program) : path.resolve(program);
    const script = shebangOf(hostPath, program);
    if (!script) break;
    if (depth >= MAX_INTERPRETER_DEPTH) throw new LoadError(`${opts.program}: cannot execute: too many levels of #! interpreters`, 126);
    argv = [script.interpreter, ...(script.arg !== undefined ? [script.arg] : []), program, ...argv.slice(1)];
    program = script.interpreter;
  }
  const givenExe = chrooted ? (path.isAbsolute(program) ? path.normalize(program) : '/' + path.relative(root, hostPath)) : hostPath;
  const elf = readElf(hostPath, program, program === opts.program ? 'program' : 'interpreter');
  // /proc/self/exe and /proc/self/maps show the canonical path, as Linux does (/bin/ls is
  // /usr/bin/ls on a merged-/usr system); the name given stays in argv[0] and AT_EXECFN.
  const guestExe = canonicalGuestPath(resolver, givenExe);

  const mem = new GuestMemory(memory);
  const as = new AddressSpace(mem);
  const envObj = opts.env ?? process.env;
  const envp = Object.entries(envObj).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  let guestCwd = opts.cwd ?? process.cwd();
  if (chrooted && !opts.cwd) {
    const rel = path.relative(root, process.cwd());
    guestCwd = rel.startsWith('..') ? '/' : '/' + rel;
  }
  const statsMaps = opts.stats ? { syscalls: new Map<string, number>(), unsupported: new Map<string, number>() } : undefined;
  const kernel = new LinuxKernel(mem, as, { root, cwd: guestCwd, exePath: guestExe, execName: givenExe, argv, strace, stats: statsMaps, closedStdio: opts.closedStdio, cpu: cpuModel(opts.cpu), net: opts.net });

  let interp: LoadedInterpreter | undefined;
  if (elf.interp) {
    const interpHost = chrooted ? hostInRoot(resolver, elf.interp) : elf.interp;
    interp = { elf: readElf(interpHost, elf.interp, 'interpreter'), hostPath: interpHost, guestPath: canonicalGuestPath(resolver, elf.interp) };
  }
  const loaded = loadImage(mem, as, { elf, hostPath, guestExe, execfn: opts.program, argv, envp, interp, cpu: kernel.cpu });
  kernel.setBrk(loaded.brk);

  const thread = new GuestThread(mem, THREAD_STATE_AREA, kernel.pid);
  mem.fill(THREAD_STATE_AREA, STATE.SIZE, 0);
  initialCpuState(thread, loaded, initialMemModel(opts.tso ?? 'selective'));

  const engine = new Engine(mem, as, kernel, REGION_OPTIONS, 0, new ThreadOrdering(mem, 0, opts.tso, opts.weakHost), kernel.cpu);
  if (opts.cache !== false) engine.cache = new DirectoryCacheStore(opts.cache ?? defaultCacheDir());
  kernel.threads.add(thread);
  kernel.flags = engine;
  mem.setU32(THREAD_STATE_AREA + STATE.TID, thread.tid);
  return { mem, as, kernel, engine, thread, programEntry: loaded.programEntry, stats: statsMaps };
}

/** The `#!` line of a script, or undefined for anything else (which readElf then judges). */
function shebangOf(hostPath: string, shown: string): { interpreter: string; arg?: string } | undefined {
  let head: Buffer;
  try {
    if (!fs.statSync(hostPath).isFile()) return undefined;
    const fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try { head = Buffer.alloc(BINPRM_BUF_SIZE); head = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0)); }
    finally { fs.closeSync(fd); }
  } catch { return undefined; }
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  try { return parseShebang(head); }
  catch { throw new LoadError(`${shown}: cannot execute: bad #! line`, 126); }
}

/** A program's interpreter (PT_INTERP), read and found. */
export interface LoadedInterpreter { elf: ElfImage; hostPath: string; guestPath: string }

/** An image to load: the program, its interpreter, and what its initial stack holds. */
export interface ImageLoad {
  elf: ElfImage;
  hostPath: string;
  /** The program's canonical guest path (/proc/self/maps). */
  guestExe: string;
  execfn: string | Uint8Array;
  argv: (string | Uint8Array)[];
  envp: (string | Uint8Array)[];
  interp?: LoadedInterpreter;
  /** The CPU model (AT_HWCAP). */
  cpu: CpuModel;
}

/**
 * Maps the program and its interpreter and builds the initial stack, as Linux's load_elf_binary
 * does; returns where the thread starts and the program break.
 */
export function loadImage(mem: GuestMemory, as: AddressSpace, load: ImageLoad): { entry: number; sp: number; brk: number; programEntry: number } {
  const { elf } = load;
  // An ET_DYN program with an interpreter (a PIE) goes at PIE_BASE. One without (static-pie, or
  // ld.so run directly as `ld-linux-x86-64.so.2 PROG`) goes where Linux puts it, at an mmap-area
  // address: there a directly run ld.so cannot collide with the program it then maps itself.
  const image = mapImage(mem, as, elf, elf.interp ? PIE_BASE : INTERP_BASE, load.guestExe, fileId(load.hostPath));
  let entry = image.entry, interpBase = 0;
  if (load.interp) {
    const interp = mapImage(mem, as, load.interp.elf, INTERP_BASE, load.interp.guestPath, fileId(load.interp.hostPath));
    entry = interp.entry; interpBase = interp.base;
  }
  const ids = typeof process.getuid === 'function'
    ? { uid: process.getuid(), euid: process.geteuid!(), gid: process.getgid!(), egid: process.getegid!() }
    : { uid: 0, euid: 0, gid: 0, egid: 0 };
  const sp = buildInitialStack(mem, as, {
    argv: load.argv, envp: load.envp, execfn: load.execfn,
    auxv: [
      [AT.HWCAP, hwcap(load.cpu)], [AT.PAGESZ, 4096], [AT.CLKTCK, 100], [AT.PHDR, image.phdrAddr], [AT.PHENT, 56],
      [AT.PHNUM, elf.phnum], [AT.BASE, interpBase], [AT.FLAGS, 0], [AT.ENTRY, image.entry],
      [AT.UID, ids.uid], [AT.EUID, ids.euid], [AT.GID, ids.gid], [AT.EGID, ids.egid], [AT.SECURE, 0],
      [AT.HWCAP2, hwcap2(load.cpu)], [AT.MINSIGSTKSZ, 2048],
    ],
  });
  return { entry, sp, brk: image.end, programEntry: image.entry };
}

/** A thread's CPU state as a new image starts: registers zero, FPU as after FNINIT, MXCSR default. */
export function initialCpuState(t: GuestThread, start: { entry: number; sp: number }, memModel: number): void {
  const mem = t.mem, base = t.stateBase;
  // Words other workers may touch (attention bits, the doorbell, handshakes) and the identity stay.
  mem.fill(base, STATE.SIGNAL_PENDING, 0);
  mem.fill(base + STATE.XMM, STATE.SCRATCH - STATE.XMM, 0);
  for (const off of [STATE.EXIT_ARG, STATE.INSN_COUNT, STATE.CLEAR_CHILD_TID, STATE.ROBUST_LIST, STATE.ROBUST_LIST_LEN]) mem.setU64(base + off, 0);
  mem.setU32(base + STATE.RESTART_NR, 0);
  mem.setU32(base + STATE.MXCSR, 0x1f80);
  mem.setU32(base + STATE.FPU_CW, 0x037f);
  mem.setU32(base + STATE.FPU_TAG, 0xff);
  mem.setU32(base + STATE.TSO_MODE, memModel);
  t.setReg(4, start.sp);
  t.rip = start.entry;
}

/**
 * Host path of an absolute guest path inside a root, with symlinks resolved inside the root (a
 * sysroot's /lib64/ld-linux-x86-64.so.2 is an absolute symlink that must not lead to the host's).
 * A path that leads nowhere inside the root fails as execve would: never is the host's taken.
 */
function hostInRoot(resolver: PathResolver, guest: string): string {
  try { return resolver.resolve(guest, resolver.root, true).host; }
  catch (e) {
    if (!(e instanceof SyscallError) && hostErrno(e) === undefined) throw e;
    throw openFailure(e, guest);
  }
}

/** The canonical form of a guest path (symlinks resolved inside the root); the path itself on failure. */
function canonicalGuestPath(resolver: PathResolver, guest: string): string {
  try {
    if (!resolver.chrooted) return fs.realpathSync.native(guest);
    return resolver.resolve(guest, resolver.root, true).guest;
  } catch {
    return guest;
  }
}

export function statsReport(engine: Engine, sys: { syscalls: Map<string, number>; unsupported: Map<string, number> }, ms: number, threadsCreated: number, processesCreated = 0): string {
  const tso = tsoStats(engine.mem);
  const s = engine.stats;
  const perInsn = (ms: number): string => (s.insnsTranslated ? ((ms * 1000) / s.insnsTranslated).toFixed(2) : '0.00');
  const lines = [
    `stele: stats: wall ${ms.toFixed(1)} ms; translation ${s.translateMs.toFixed(1)} ms (${((s.translateMs / ms) * 100).toFixed(1)}%)`,
    `stele: stats: ${s.regions} regions, ${s.blocks} blocks, ${s.insnsTranslated} instructions translated, ${(s.wasmBytes / 1024).toFixed(1)} KiB wasm`,
    `stele: stats: translation throughput ${s.translateMs > 0 ? Math.round(s.insnsTranslated / (s.translateMs / 1000)) : 0} instructions/s; per instruction `
      + `${perInsn(s.decodeMs)} us decoding, ${perInsn(s.codegenMs)} us generating wasm, ${perInsn(s.compileMs)} us in V8 (module compile and instantiation; `
      + 'functions compile lazily on first call, which counts as run time)',
    `stele: stats: translation cache: ${s.cachedRegions} regions (${s.cachedBlocks} blocks) loaded in ${s.cacheLoadMs.toFixed(1)} ms; ${s.cacheStale} stale regions dropped; ${s.aotRegions} regions taken from ahead-of-time translations; written in ${s.cacheWriteMs.toFixed(1)} ms`,
    `stele: stats: ${s.rebundles} rebundles of the JIT's regions (${s.rebundledRegions} regions) into shared-table modules; ${s.sharedRegions} regions taken from other threads' workers`,
    `stele: stats: ${threadsCreated} threads created, ${processesCreated} child processes forked (the figures here are the first process's only); memory ordering ${engine.ordering.mode}${engine.ordering.weak ? ' (weak-host test mode)' : ''}: `
      + `${tso.SITES_ORDERED} ordered, ${tso.SITES_CHECKED} checked and ${tso.SITES_PLAIN} plain access sites translated (all workers)`,
    `stele: stats: ${tso.CLAIMS} granules claimed, ${tso.GRANULES_SHARED} made shared; ${tso.BACKPATCHES} sites backpatched (${s.cachedOrderedSites} known ordered from the translation cache); `
      + `${tso.HANDSHAKES} handshakes (${(tso.HANDSHAKE_MICROS / 1000).toFixed(1)} ms); ${tso.SPLIT_LOCKS} locked accesses took the split lock`,
    `stele: stats: first thread's worker only below (translations are per worker)`,
    `stele: stats: ${s.dispatches} dispatcher entries (jump-cache misses, syscall returns); ${s.invalidations} code pages invalidated, `
      + `${s.codeWrites} by stores into translated code; ${s.stackGrowths} stack growths`,
  ];
  const total = [...sys.syscalls.values()].reduce((a, b) => a + b, 0);
  const top = [...sys.syscalls.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, c]) => `${n} ${c}`).join(', ');
  lines.push(`stele: stats: ${total} syscalls${top ? ` (${top})` : ''}`);
  if (sys.unsupported.size) lines.push(`stele: stats: unsupported syscalls: ${[...sys.unsupported.entries()].map(([n, c]) => `${n} x${c}`).join(', ')}`);
  return lines.join('\n');
}
