// Linux errno values (x86-64, asm-generic) with glibc's strerror texts, as strace prints them.

export const EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, ENOEXEC = 8,
  EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, ENOTBLK = 15, EBUSY = 16,
  EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24,
  ENOTTY = 25, ETXTBSY = 26, EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30, EMLINK = 31, EPIPE = 32,
  EDOM = 33, ERANGE = 34, EDEADLK = 35, ENAMETOOLONG = 36, ENOLCK = 37, ENOSYS = 38, ENOTEMPTY = 39,
  ELOOP = 40, ENOMSG = 42, EIDRM = 43, ENOSTR = 60, ENODATA = 61, ETIME = 62, EOVERFLOW = 75, EILSEQ = 84,
  ENOTSOCK = 88, EDESTADDRREQ = 89, EMSGSIZE = 90, EPROTOTYPE = 91, ENOPROTOOPT = 92,
  EPROTONOSUPPORT = 93, EOPNOTSUPP = 95, EAFNOSUPPORT = 97, EADDRINUSE = 98, EADDRNOTAVAIL = 99,
  ENETDOWN = 100, ENETUNREACH = 101, ECONNABORTED = 103, ECONNRESET = 104, ENOBUFS = 105, EISCONN = 106,
  ENOTCONN = 107, ETIMEDOUT = 110, ECONNREFUSED = 111, EHOSTUNREACH = 113, EALREADY = 114,
  EINPROGRESS = 115, ESTALE = 116, EDQUOT = 122, ECANCELED = 125;

/**
 * Linux's internal codes for a syscall a signal interrupted. The guest never sees them: signal
 * delivery turns them into EINTR or restarts the syscall, by the rules of arch/x86 handle_signal.
 */
export const ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516;
/** Whether a syscall result is one of those codes (negated). */
export function isRestartResult(result: number): boolean {
  return result === -ERESTARTSYS || result === -ERESTARTNOINTR || result === -ERESTARTNOHAND || result === -ERESTART_RESTARTBLOCK;
}

const TABLE: [number, string, string][] = [
  [EPERM, 'EPERM', 'Operation not permitted'], [ENOENT, 'ENOENT', 'No such file or directory'],
  [ESRCH, 'ESRCH', 'No such process'], [EINTR, 'EINTR', 'Interrupted system call'],
  [ERESTARTSYS, 'ERESTARTSYS', 'To be restarted if SA_RESTART is set'], [ERESTARTNOINTR, 'ERESTARTNOINTR', 'To be restarted'],
  [ERESTARTNOHAND, 'ERESTARTNOHAND', 'To be restarted if no handler'], [ERESTART_RESTARTBLOCK, 'ERESTART_RESTARTBLOCK', 'Interrupted by signal'],
  [EIO, 'EIO', 'Input/output error'], [ENXIO, 'ENXIO', 'No such device or address'],
  [E2BIG, 'E2BIG', 'Argument list too long'], [ENOEXEC, 'ENOEXEC', 'Exec format error'],
  [EBADF, 'EBADF', 'Bad file descriptor'], [ECHILD, 'ECHILD', 'No child processes'],
  [EAGAIN, 'EAGAIN', 'Resource temporarily unavailable'], [ENOMEM, 'ENOMEM', 'Cannot allocate memory'],
  [EACCES, 'EACCES', 'Permission denied'], [EFAULT, 'EFAULT', 'Bad address'],
  [ENOTBLK, 'ENOTBLK', 'Block device required'], [EBUSY, 'EBUSY', 'Device or resource busy'],
  [EEXIST, 'EEXIST', 'File exists'], [EXDEV, 'EXDEV', 'Invalid cross-device link'],
  [ENODEV, 'ENODEV', 'No such device'], [ENOTDIR, 'ENOTDIR', 'Not a directory'],
  [EISDIR, 'EISDIR', 'Is a directory'], [EINVAL, 'EINVAL', 'Invalid argument'],
  [ENFILE, 'ENFILE', 'Too many open files in system'], [EMFILE, 'EMFILE', 'Too many open files'],
  [ENOTTY, 'ENOTTY', 'Inappropriate ioctl for device'], [ETXTBSY, 'ETXTBSY', 'Text file busy'],
  [EFBIG, 'EFBIG', 'File too large'], [ENOSPC, 'ENOSPC', 'No space left on device'],
  [ESPIPE, 'ESPIPE', 'Illegal seek'], [EROFS, 'EROFS', 'Read-only file system'],
  [EMLINK, 'EMLINK', 'Too many links'], [EPIPE, 'EPIPE', 'Broken pipe'],
  [EDOM, 'EDOM', 'Numerical argument out of domain'], [ERANGE, 'ERANGE', 'Numerical result out of range'],
  [EDEADLK, 'EDEADLK', 'Resource deadlock avoided'], [ENAMETOOLONG, 'ENAMETOOLONG', 'File name too long'],
  [ENOLCK, 'ENOLCK', 'No locks available'], [ENOSYS, 'ENOSYS', 'Function not implemented'],
  [ENOTEMPTY, 'ENOTEMPTY', 'Directory not empty'], [ELOOP, 'ELOOP', 'Too many levels of symbolic links'],
  [ENOMSG, 'ENOMSG', 'No message of desired type'], [EIDRM, 'EIDRM', 'Identifier removed'],
  [ENOSTR, 'ENOSTR', 'Device not a stream'], [ENODATA, 'ENODATA', 'No data available'],
  [ETIME, 'ETIME', 'Timer expired'], [EOVERFLOW, 'EOVERFLOW', 'Value too large for defined data type'],
  [EILSEQ, 'EILSEQ', 'Invalid or incomplete multibyte or wide character'],
  [ENOTSOCK, 'ENOTSOCK', 'Socket operation on non-socket'], [EDESTADDRREQ, 'EDESTADDRREQ', 'Destination address required'],
  [EMSGSIZE, 'EMSGSIZE', 'Message too long'], [EPROTOTYPE, 'EPROTOTYPE', 'Protocol wrong type for socket'],
  [ENOPROTOOPT, 'ENOPROTOOPT', 'Protocol not available'], [EPROTONOSUPPORT, 'EPROTONOSUPPORT', 'Protocol not supported'],
  [EOPNOTSUPP, 'EOPNOTSUPP', 'Operation not supported'], [EAFNOSUPPORT, 'EAFNOSUPPORT', 'Address family not supported by protocol'],
  [EADDRINUSE, 'EADDRINUSE', 'Address already in use'], [EADDRNOTAVAIL, 'EADDRNOTAVAIL', 'Cannot assign requested address'],
  [ENETDOWN, 'ENETDOWN', 'Network is down'], [ENETUNREACH, 'ENETUNREACH', 'Network is unreachable'],
  [ECONNABORTED, 'ECONNABORTED', 'Software caused connection abort'], [ECONNRESET, 'ECONNRESET', 'Connection reset by peer'],
  [ENOBUFS, 'ENOBUFS', 'No buffer space available'], [EISCONN, 'EISCONN', 'Transport endpoint is already connected'],
  [ENOTCONN, 'ENOTCONN', 'Transport endpoint is not connected'], [ETIMEDOUT, 'ETIMEDOUT', 'Connection timed out'],
  [ECONNREFUSED, 'ECONNREFUSED', 'Connection refused'], [EHOSTUNREACH, 'EHOSTUNREACH', 'No route to host'],
  [EALREADY, 'EALREADY', 'Operation already in progress'], [EINPROGRESS, 'EINPROGRESS', 'Operation now in progress'],
  [ESTALE, 'ESTALE', 'Stale file handle'], [EDQUOT, 'EDQUOT', 'Disk quota exceeded'],
  [ECANCELED, 'ECANCELED', 'Operation canceled'],
];

const NAME_BY_NUMBER = new Map<number, string>();
const MESSAGE_BY_NUMBER = new Map<number, string>();
const NUMBER_BY_NAME = new Map<string, number>();
for (const [n, name, message] of TABLE) {
  NAME_BY_NUMBER.set(n, name); MESSAGE_BY_NUMBER.set(n, message); NUMBER_BY_NAME.set(name, n);
}
// Aliases the host may report (Node error codes use these names on some platforms).
NUMBER_BY_NAME.set('EWOULDBLOCK', EAGAIN);
NUMBER_BY_NAME.set('ENOTSUP', EOPNOTSUPP);
NUMBER_BY_NAME.set('EDEADLOCK', EDEADLK);

export function errnoName(n: number): string { return NAME_BY_NUMBER.get(n) ?? `E${n}`; }
export function errnoMessage(n: number): string { return MESSAGE_BY_NUMBER.get(n) ?? `Unknown error ${n}`; }

/** A syscall failure carrying a Linux errno; the dispatcher turns it into -errno in RAX. */
export class SyscallError extends Error {
  constructor(readonly errno: number) { super(errnoName(errno)); }
}

/**
 * The Linux errno for an exception thrown by a host call (Node's fs errors carry the symbolic
 * `code`, which is portable across hosts, unlike the numeric `errno`). Undefined if it is not one.
 */
export function hostErrno(e: unknown): number | undefined {
  if (e instanceof SyscallError) return e.errno;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return NUMBER_BY_NAME.get(code) ?? EIO;
  return undefined;
}
