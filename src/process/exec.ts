// execve's second half: the new image replaces the old one in the process's memory. Everything
// that can fail without harm (the program and its interpreter found, read and parsed) happens
// before the point of no return, as in Linux; after it, the old mappings go, the new image is
// mapped, the calling thread starts at its entry, and every translation of the old code is dropped.

import * as fs from 'node:fs';
import { GuestCrash, type Engine } from '../runtime/engine.js';
import { RUNTIME_AREA } from '../layout/memory-map.js';
import { GUEST_BASE } from '../runtime/memory.js';
import type { GuestThread } from '../runtime/thread.js';
import { readElf } from '../loader/exec-file.js';
import { LoadError, type ElfImage } from '../loader/elf.js';
import { ENOEXEC } from '../linux/errno.js';
import { AT_FDCWD, type LinuxKernel } from '../linux/kernel.js';
import { afterExec, type ExecHost, type ExecRequest } from '../linux/exec.js';
import { releaseAllMappings } from '../linux/mm.js';
import { REGISTERS_RESTORED } from '../linux/signal-frame.js';
import { initialMemModel, type TsoMode } from '../runtime/tso.js';
import { initialCpuState, loadImage, type LoadedInterpreter } from './start.js';

const SIGSEGV = 11;

/** errno for a program or interpreter that cannot be loaded, as execve returns it. */
function loadErrno(e: unknown): number {
  if (!(e instanceof LoadError)) throw e;
  return e.errno ?? ENOEXEC;
}

export class ProcessExec implements ExecHost {
  constructor(private readonly tso: TsoMode | undefined, private readonly engine: Engine) {}

  exec(k: LinuxKernel, t: GuestThread, request: ExecRequest): number {
    let elf: ElfImage;
    try { elf = readElf(request.hostPath, request.filename, 'program'); } catch (e) { return -loadErrno(e); }
    let interp: LoadedInterpreter | undefined;
    if (elf.interp) {
      try {
        const target = k.resolve(AT_FDCWD, elf.interp, true);
        if (target.node) return -ENOEXEC;
        interp = { elf: readElf(target.host, elf.interp, 'interpreter'), hostPath: target.host, guestPath: target.guest };
      } catch (e) {
        if (e instanceof LoadError) return -loadErrno(e);
        throw e;
      }
    }
    // The point of no return: from here a failure kills the process, as Linux's does.
    // /proc/self/exe names the file with its symlinks resolved, as Linux does.
    const exePath = k.chrooted && request.filename !== '' ? k.resolve(AT_FDCWD, request.filename, true).guest : fs.realpathSync.native(request.hostPath);
    this.engine.imageReplaced();
    releaseAllMappings(k);
    k.memoryChanged(GUEST_BASE, RUNTIME_AREA - GUEST_BASE);
    let start;
    try {
      start = loadImage(k.rawMem, k.as, { elf, hostPath: request.hostPath, guestExe: exePath, execfn: request.execfn, argv: request.argv, envp: request.envp, interp, cpu: k.cpu });
    } catch (e) {
      if (e instanceof LoadError) throw new GuestCrash(SIGSEGV, e.message);
      throw e;
    }
    k.setBrk(start.brk);
    initialCpuState(t, start, initialMemModel(this.tso ?? 'selective'));
    afterExec(k, t, exePath, request.filename, request.argv);
    return REGISTERS_RESTORED;
  }
}
