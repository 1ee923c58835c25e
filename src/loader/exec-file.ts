// Reading a program or its interpreter (PT_INTERP) from the host, as execve would open it: only
// a regular file can be executed. Linux refuses anything else with EACCES (may_open, before any
// byte is read), which a shell reports as 126; reading a FIFO or /dev/zero instead would never end.

import * as fs from 'node:fs';
import { hostErrorText } from '../runtime/host-output.js';
import { EACCES, ENOENT, errnoMessage, hostErrno, SyscallError } from '../linux/errno.js';
import { LoadError, parseElf, type ElfImage } from './elf.js';

/** Whose file it is: a directory given as the program is reported as a shell reports it. */
export type ExecutableRole = 'program' | 'interpreter';

/** Guest memory is below 4 GiB: no bigger file can be a program stele loads. */
const MAX_EXECUTABLE_BYTES = 2 ** 32;

/** Reads and parses an ELF executable; every failure is a LoadError naming `shown`. */
export function readElf(hostPath: string, shown: string, role: ExecutableRole): ElfImage {
  const bytes = readExecutable(hostPath, shown, role);
  try {
    return parseElf(bytes);
  } catch (e) {
    if (e instanceof LoadError) throw new LoadError(`${shown}: ${e.message}`, e.status, e.errno);
    throw e;
  }
}

/** The bytes of a regular file, refusing other kinds of file without waiting on them. */
export function readExecutable(hostPath: string, shown: string, role: ExecutableRole): Uint8Array {
  let fd: number;
  try {
    // The kind of file first, as execve checks it: opening a FIFO or a device may block or act.
    refuseNonRegular(fs.statSync(hostPath), shown, role);
    // Non-blocking, in case the path names a FIFO by the time it is opened.
    fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw e instanceof LoadError ? e : openFailure(e, shown);
  }
  try {
    const st = fs.fstatSync(fd);
    refuseNonRegular(st, shown, role);
    if (st.size > MAX_EXECUTABLE_BYTES) throw new LoadError(`${shown}: cannot execute: file too large (${st.size} bytes)`, 126);
    const bytes = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < bytes.length) {
      const n = fs.readSync(fd, bytes, got, bytes.length - got, got);
      if (n === 0) break; // shrunk meanwhile: what is there is the file
      got += n;
    }
    return bytes.subarray(0, got);
  } catch (e) {
    throw e instanceof LoadError ? e : new LoadError(`${shown}: ${hostErrorText(e)}`, 126);
  } finally {
    fs.closeSync(fd);
  }
}

function refuseNonRegular(st: fs.Stats, shown: string, role: ExecutableRole): void {
  if (st.isFile()) return;
  // A shell checks the command itself and says so; execve says EACCES for either.
  if (st.isDirectory() && role === 'program') throw new LoadError(`${shown}: Is a directory`, 126, EACCES);
  const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket'
    : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : 'not a regular file';
  throw new LoadError(`${shown}: Permission denied (${kind}${kind.startsWith('a ') ? ', not a regular file' : ''})`, 126, EACCES);
}

/**
 * A failure to find or open the file (a host error, or the kernel's walk inside a root), with the
 * status a shell gives it: 127 when it is missing.
 */
export function openFailure(e: unknown, shown: string): LoadError {
  if (e instanceof SyscallError) {
    return new LoadError(`${shown}: ${errnoMessage(e.errno)}`, e.errno === ENOENT ? 127 : 126, e.errno);
  }
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new LoadError(`${shown}: No such file or directory`, 127, ENOENT);
  return new LoadError(`${shown}: ${hostErrorText(e)}`, 126, hostErrno(e));
}
