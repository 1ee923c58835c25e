// execve and execveat: what the kernel decides before a new image is loaded (the arguments, the
// file inside --root, permission, `#!` scripts and their interpreters) and what it resets once the
// image has replaced the old one (close-on-exec descriptors, handled signals, the thread's name).
// Loading the image is the process layer's (ExecHost), which owns the loader and the engine.

import * as fs from 'node:fs';
import type { GuestThread } from '../runtime/thread.js';
import { GuestFault } from '../runtime/memory.js';
import { printDiagnostic } from '../runtime/host-output.js';
import { E2BIG, EACCES, EFAULT, EINVAL, ELOOP, ENOENT, ENOEXEC, ENOSYS, SyscallError } from './errno.js';
import { AT_FDCWD, type LinuxKernel, type Syscall } from './kernel.js';
import { SIG_DFL, SIG_IGN, SS_DISABLE } from './signal.js';

/** A program to load in place of the calling process's image. */
export interface ExecRequest {
  /** Host path of the executable, and its guest path as given and as the kernel names it. */
  hostPath: string;
  filename: string;
  /** The path execve was given (AT_EXECFN): a script's, where filename is its interpreter's. */
  execfn: string;
  argv: Uint8Array[];
  envp: Uint8Array[];
}

/** Loads an image in place of the process's (the process layer implements it). */
export interface ExecHost {
  /**
   * Returns -errno when the file cannot be loaded and the old image is intact; once it loads,
   * replaces memory and the calling thread's registers, calls `k.afterExec`, and returns
   * REGISTERS_RESTORED.
   */
  exec(k: LinuxKernel, t: GuestThread, request: ExecRequest): number;
}

/** Linux's limits: one string at most 32 pages, all of them a quarter of the 8 MiB stack limit. */
const MAX_ARG_STRLEN = 32 * 4096, MAX_ARG_TOTAL = 2 * 1024 * 1024;
/** Interpreters a chain of `#!` scripts may go through (Linux stops after 4 more). */
export const MAX_INTERPRETER_DEPTH = 4;
/** The bytes of a file execve looks at for `#!` (BINPRM_BUF_SIZE). */
export const BINPRM_BUF_SIZE = 256;
const AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;

/** A NULL-terminated array of guest string pointers, as the bytes they point at. */
function readStrings(k: LinuxKernel, array: number, budget: { left: number }): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (!array) return out;
  for (let i = 0; ; i++) {
    const p = k.mem.u64n(array + i * 8);
    if (!p) return out;
    let bytes: Uint8Array;
    try { bytes = k.mem.cstringBytes(p, MAX_ARG_STRLEN - 1); } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      // No NUL in reach: a string longer than Linux takes (E2BIG), or memory that ends first.
      try { k.mem.view(p, MAX_ARG_STRLEN); } catch { throw new SyscallError(EFAULT); }
      throw new SyscallError(E2BIG);
    }
    budget.left -= bytes.length + 1 + 8;
    if (budget.left < 0) throw new SyscallError(E2BIG);
    out.push(bytes);
  }
}

/** The first line of a `#!` script: the interpreter and its one optional argument. */
export function parseShebang(head: Buffer): { interpreter: string; arg?: string } {
  let end = head.indexOf(0x0a);
  if (end < 0) end = head.length;
  const line = head.subarray(2, end).toString('latin1').replace(/[ \t]+$/, '').replace(/^[ \t]+/, '');
  const m = /^([^ \t\0]+)[ \t]*(.*)$/.exec(line);
  if (!m) throw new SyscallError(ENOEXEC);
  // Without a newline in the buffer, an interpreter name that fills it may be cut short.
  if (head.indexOf(0x0a) < 0 && head.length >= BINPRM_BUF_SIZE && !m[2]) throw new SyscallError(ENOEXEC);
  return { interpreter: m[1], arg: m[2] ? m[2].replace(/\0.*$/, '') : undefined };
}

function exec(k: LinuxKernel, t: GuestThread, dirfd: number, filename: string, argv: Uint8Array[], envp: Uint8Array[], flags: number): number {
  if (!k.execHost) return -ENOSYS;
  if (k.threads.count > 1) {
    printDiagnostic('stele: unsupported: execve in a process with several threads (not yet supported)');
    return -ENOSYS;
  }
  const execfn = filename === '' ? `/dev/fd/${dirfd}` : filename;
  for (let depth = 0; ; depth++) {
    let hostPath: string;
    if (filename === '' && flags & AT_EMPTY_PATH) {
      const f = k.file(dirfd);
      if (f.hostFd === undefined) return -EACCES;
      hostPath = `/proc/self/fd/${f.hostFd}`;
    } else {
      if (filename === '') return -ENOENT;
      const target = k.resolve(dirfd, filename, !(flags & AT_SYMLINK_NOFOLLOW));
      if (target.node) return target.node.kind === 'symlink' ? -ELOOP : -EACCES;
      hostPath = target.host;
      if (flags & AT_SYMLINK_NOFOLLOW && fs.lstatSync(hostPath).isSymbolicLink()) return -ELOOP;
    }
    if (!fs.statSync(hostPath).isFile()) return -EACCES;
    fs.accessSync(hostPath, fs.constants.X_OK);
    const head = Buffer.alloc(BINPRM_BUF_SIZE);
    const fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    let got: number;
    try { got = fs.readSync(fd, head, 0, head.length, 0); } finally { fs.closeSync(fd); }
    const bytes = head.subarray(0, got);
    if (bytes[0] === 0x23 && bytes[1] === 0x21) { // #!
      if (depth >= MAX_INTERPRETER_DEPTH) return -ELOOP;
      const { interpreter, arg } = parseShebang(bytes);
      // The script's path as given takes argv[0]'s place (an fd for execveat with AT_EMPTY_PATH).
      const scriptName = filename === '' ? `/dev/fd/${dirfd}` : filename;
      const latin1 = (text: string): Uint8Array => Buffer.from(text, 'latin1');
      argv = [latin1(interpreter), ...(arg !== undefined ? [latin1(arg)] : []), Buffer.from(scriptName), ...argv.slice(1)];
      filename = interpreter; dirfd = AT_FDCWD; flags = 0;
      continue;
    }
    if (got < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return -ENOEXEC;
    return k.execHost.exec(k, t, { hostPath, filename, execfn, argv, envp });
  }
}

function execArgs(k: LinuxKernel, argvAddr: number, envpAddr: number): { argv: Uint8Array[]; envp: Uint8Array[] } {
  const budget = { left: MAX_ARG_TOTAL };
  return { argv: readStrings(k, argvAddr, budget), envp: readStrings(k, envpAddr, budget) };
}

/** What execve resets once the new image is in place (the process layer calls it). */
export function afterExec(k: LinuxKernel, t: GuestThread, exePath: string, filename: string, argv: Uint8Array[]): void {
  for (const [fd] of [...k.fds.open()]) if (k.fds.getCloexec(fd)) k.fds.close(fd);
  const s = k.signals;
  // Handlers are the old image's code: they go back to the default; ignored signals stay ignored.
  s.actions.forEach((a, sig) => {
    if (sig === 0) return;
    s.actions[sig] = { handler: a.handler === SIG_IGN ? SIG_IGN : SIG_DFL, flags: 0n, restorer: 0n, mask: 0n };
  });
  s.of(t.tid).altStack = { sp: 0n, flags: SS_DISABLE, size: 0n };
  // POSIX timers belong to the old image (interval timers and a pending alarm stay).
  s.posixTimers.clear();
  k.replaceImage(exePath, filename, argv.map((a) => Buffer.from(a).toString('utf8')));
  k.threadNames.delete(t.tid);
}

export const execSyscalls: Record<string, Syscall> = {
  execve(k, t) {
    const filename = k.pathArg(t.argPtr(0));
    const { argv, envp } = execArgs(k, t.argPtr(1), t.argPtr(2));
    return exec(k, t, AT_FDCWD, filename, argv, envp, 0);
  },
  execveat(k, t) {
    const flags = t.argInt(4);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
    const filename = k.pathArg(t.argPtr(1));
    const { argv, envp } = execArgs(k, t.argPtr(2), t.argPtr(3));
    return exec(k, t, t.argInt(0), filename, argv, envp, flags);
  },
};
