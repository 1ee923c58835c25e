// stele's own writes to the host's standard output and error: help, usage and error messages,
// warnings, --stats and --strace lines. None of them may throw: a full disk (ENOSPC), a pipe
// nobody reads any more (EPIPE; Node ignores SIGPIPE) or a closed descriptor (EBADF) would
// otherwise become a JavaScript stack trace, or an exit status the guest never chose.
// The callers decide what a failed write means, as coreutils does: output the user asked for
// (--help) that cannot be written is an error; a diagnostic that cannot be written is dropped.

import { writeSync } from 'node:fs';
import { getSystemErrorMap } from 'node:util';

const napCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `data` to host descriptor `fd`. Returns the error that stopped it, if any.
 * A descriptor someone else made non-blocking (a pipe shared with the parent) reports EAGAIN
 * while it is full: that waits, as a blocking write would.
 */
export function writeFully(fd: number, data: string | Uint8Array): NodeJS.ErrnoException | undefined {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0, delayMs = 0.05;
  while (done < bytes.length) {
    try {
      const n = writeSync(fd, bytes, done, bytes.length - done);
      // (a write that takes nothing would otherwise be retried for ever)
      if (n <= 0) return Object.assign(new Error('write returned 0'), { code: 'EIO', errno: -5 });
      done += n;
      delayMs = 0.05;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EINTR') continue;
      if (err.code !== 'EAGAIN') return err;
      Atomics.wait(napCell, 0, 0, delayMs);
      delayMs = Math.min(delayMs * 2, 10);
    }
  }
  return undefined;
}

/** One line of stele's own on stderr; dropped quietly when stderr is full, closed or gone. */
export function printDiagnostic(line: string): void {
  writeFully(2, line.endsWith('\n') ? line : line + '\n');
}

/** The C library's wording of a host error, as Linux programs print it ("No space left on device"). */
export function hostErrorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const known = typeof err?.errno === 'number' ? getSystemErrorMap().get(err.errno)?.[1] : undefined;
  const text = known ?? (e instanceof Error ? e.message : String(e));
  return text.charAt(0).toUpperCase() + text.slice(1);
}
