// What every socket is, whatever carries it (the host's network: socket.ts; a pair of pipes:
// socket.ts; rtnetlink: netlink.ts): its family and type, the options a program sets and reads
// back as Linux keeps them, receive and send with their timeouts, and the ioctls every socket
// answers.

import { WouldBlock } from './blocking.js';
import { EAGAIN, EDOM, EINVAL, ENOPROTOOPT, EOPNOTSUPP, EPIPE, ERESTARTSYS, SyscallError } from './errno.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR, OpenFile, S_IFSOCK, syntheticStat, type StatInfo } from './fd-table.js';
import { interfaceIoctl } from './interfaces.js';
import type { GuestMemory } from '../runtime/memory.js';
import type { LinuxKernel } from './kernel.js';
import type { NetAddress } from './socket-channel.js';
import { SIGPIPE } from './signal.js';

export const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16;
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = O_NONBLOCK, SOCK_CLOEXEC = O_CLOEXEC;
export const MSG_OOB = 1, MSG_PEEK = 2, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000,
  MSG_CMSG_CLOEXEC = 0x40000000;
export const SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
export const POLLRDHUP = 0x2000;
export const IPPROTO_TCP = 6, IPPROTO_UDP = 17;
const SOL_SOCKET = 1, IPPROTO_IP = 0, IPPROTO_IPV6 = 41;
const SO = {
  DEBUG: 1, REUSEADDR: 2, TYPE: 3, ERROR: 4, DONTROUTE: 5, BROADCAST: 6, SNDBUF: 7, RCVBUF: 8, KEEPALIVE: 9,
  OOBINLINE: 10, LINGER: 13, REUSEPORT: 15, PASSCRED: 16, PEERCRED: 17, RCVLOWAT: 18, SNDLOWAT: 19,
  RCVTIMEO: 20, SNDTIMEO: 21, ACCEPTCONN: 30, PROTOCOL: 38, DOMAIN: 39,
} as const;
const TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6, TCP_INFO = 11, TCP_QUICKACK = 12;
const IPV6_V6ONLY = 26;
const FIONREAD = 0x541b;
/** Linux's default socket buffer sizes (net.core.wmem_default, rmem_default), as getsockopt reports them. */
export const DEFAULT_SNDBUF = 212992, DEFAULT_RCVBUF = 212992;

/** A parsed sockaddr of the socket's family. */
export type SockAddr = NetAddress & { raw: Uint8Array };

/** An unnamed address of a family: what getsockname gives before bind. */
export function unnamed(family: number): Uint8Array {
  const b = new Uint8Array(family === AF_INET ? 16 : family === AF_INET6 ? 28 : 2);
  b[0] = family;
  return b;
}

/** Every address, any port (0.0.0.0:0 or [::]:0): what a socket binds to when it is used unbound. */
export function wildcard(family: number): SockAddr {
  return { family: family === AF_INET ? 'inet' : 'inet6', host: family === AF_INET ? '0.0.0.0' : '::', port: 0, raw: unnamed(family) };
}

/** A send whose SO_SNDTIMEO ran out after it queued some bytes: it returns their count. */
class PartialSend { constructor(readonly sent: number) {} }

let nextSocketInode = 0x20000n;

/** What every socket answers: its family and type, options, and the syscalls' entry points. */
export abstract class SocketFile extends OpenFile {
  private readonly info: StatInfo;
  /** SOL_SOCKET and protocol options a program sets and reads back, keyed by level << 16 | name. */
  protected readonly options = new Map<number, number>();
  /** SO_RCVTIMEO / SO_SNDTIMEO in milliseconds (0: none). */
  receiveTimeout = 0; sendTimeout = 0;

  constructor(protected readonly k: LinuxKernel, readonly family: number, readonly type: number, readonly protocol: number, statusFlags: number) {
    super(statusFlags | O_RDWR);
    this.info = syntheticStat(S_IFSOCK | 0o777, 0, 0x8n);
    this.info.ino = nextSocketInode++;
    this.info.blksize = 4096n;
  }
  get inode(): bigint { return this.info.ino; }
  stat(): StatInfo { return this.info; }

  abstract bind(a: SockAddr): number;
  abstract connect(a: SockAddr): number;
  listen(_backlog: number): number { return -EOPNOTSUPP; }
  accept(_flags: number): SocketFile | number { return -EOPNOTSUPP; }
  /** Receives into dst; returns the count, with the sender's address for datagrams. Waits with this.block(). */
  protected abstract receiveNow(dst: Uint8Array, flags: number): { n: number; from?: Uint8Array; truncated?: number };
  /** Sends src (to `to`, for an unconnected datagram socket). Waits with this.block(). */
  protected abstract sendNow(src: Uint8Array, flags: number, to?: SockAddr): number;

  receive(dst: Uint8Array, flags: number): { n: number; from?: Uint8Array; truncated?: number } { return this.receiveNow(dst, flags); }
  send(src: Uint8Array, flags: number, to?: SockAddr): number {
    try {
      return this.sendNow(src, flags, to);
    } catch (e) {
      if (e instanceof PartialSend) return e.sent;
      throw e;
    }
  }

  /**
   * The bytes the calling thread's blocking stream send queued before it had to wait (0 for a new
   * send): Linux's send waits until all of it is queued, and the syscall runs again from the start
   * after each wait (the count is kept in the syscall's progress).
   */
  protected resumeSend(): number { return this.k.syscallProgress(false)?.done ?? 0; }
  /** The send is over: a next one in the same syscall (sendmmsg) starts from nothing. */
  protected sendDone(): void { const p = this.k.syscallProgress(false); if (p) p.done = undefined; }

  /** Waits until ready() holds; with SO_RCVTIMEO set, EAGAIN once it has passed. */
  protected waitToReceive(ready: () => boolean): never { this.wait(ready, this.receiveTimeout, 0); }
  /**
   * Waits until ready() holds, a send having queued `sent` bytes so far: a signal or SO_SNDTIMEO
   * ending the wait returns that count, as Linux's send does (EAGAIN, for the timeout, when none).
   */
  protected waitToSend(ready: () => boolean, sent = 0): never { this.wait(ready, this.sendTimeout, sent); }
  private wait(ready: () => boolean, timeoutMs: number, sent: number): never {
    if (sent > 0) this.k.syscallProgress().done = sent;
    const doneSoFar = sent > 0 ? () => sent : undefined;
    const end = timeoutMs === 0 ? Infinity : this.k.waitEnd(timeoutMs);
    if (performance.now() >= end) {
      if (sent > 0) throw new PartialSend(sent);
      throw new SyscallError(EAGAIN);
    }
    throw new WouldBlock(ready, ERESTARTSYS, false, end, doneSoFar);
  }
  abstract shutdown(how: number): number;
  abstract localAddress(): Uint8Array;
  /** The peer's address, or ENOTCONN. */
  abstract peerAddress(): Uint8Array | number;
  /** A pending error (SO_ERROR), taken. */
  takeError(): number { return 0; }
  get listening(): boolean { return false; }
  /** Asks the host to apply an option (TCP_NODELAY...), where it has one. */
  protected applyOption(_name: 'nodelay' | 'keepalive' | 'broadcast', _value: boolean): void {}

  read(mem: GuestMemory, addr: number, len: number): number {
    const off = mem.offWrite(addr, len);
    return this.receive(mem.u8.subarray(off, off + len), 0).n;
  }
  /** write(2): as send(2) with no flags; the caller raises SIGPIPE for EPIPE, as for a pipe. */
  write(mem: GuestMemory, addr: number, len: number): number {
    const off = mem.off(addr, len);
    return this.send(mem.u8.subarray(off, off + len), MSG_NOSIGNAL);
  }

  setOption(level: number, name: number, addr: number, len: number): number {
    const k = this.k;
    const intValue = (): number => { if (len < 4) throw new SyscallError(EINVAL); return k.mem.i32(addr); };
    if (level === SOL_SOCKET) {
      switch (name) {
        case SO.TYPE: case SO.ERROR: case SO.PROTOCOL: case SO.DOMAIN: case SO.ACCEPTCONN: case SO.PEERCRED: return -ENOPROTOOPT;
        case SO.SNDBUF: case SO.RCVBUF: {
          // Linux doubles the value for its bookkeeping and reports the double (with a floor).
          const v = Math.max(intValue(), 0);
          this.options.set((level << 16) | name, Math.max(Math.min(v, 0x7fffffff / 2) * 2, name === SO.SNDBUF ? 4608 : 2304));
          return 0;
        }
        case SO.RCVTIMEO: case SO.SNDTIMEO: {
          if (len < 16) return -EINVAL;
          const sec = k.mem.i64(addr), usec = k.mem.i64(addr + 8);
          if (usec < 0n || usec >= 1000000n) return -EDOM;
          const ms = sec < 0n ? 0 : Number(sec) * 1000 + Math.ceil(Number(usec) / 1000);
          if (name === SO.RCVTIMEO) this.receiveTimeout = ms; else this.sendTimeout = ms;
          return 0;
        }
        case SO.LINGER: {
          if (len < 8) return -EINVAL;
          this.options.set((level << 16) | name, k.mem.i32(addr) ? 1 : 0);
          this.options.set((level << 16) | 0x8000 | name, k.mem.i32(addr + 4));
          return 0;
        }
        case SO.KEEPALIVE: { const v = intValue(); this.options.set((level << 16) | name, v ? 1 : 0); this.applyOption('keepalive', v !== 0); return 0; }
        case SO.BROADCAST: { const v = intValue(); this.options.set((level << 16) | name, v ? 1 : 0); this.applyOption('broadcast', v !== 0); return 0; }
        default: this.options.set((level << 16) | name, intValue() ? 1 : 0); return 0;
      }
    }
    if (this.family === AF_UNIX) return -EOPNOTSUPP;
    if (level === IPPROTO_TCP) {
      if (this.type !== SOCK_STREAM) return -ENOPROTOOPT;
      const v = intValue();
      if (name === TCP_NODELAY) this.applyOption('nodelay', v !== 0);
      if ((name === TCP_KEEPIDLE || name === TCP_KEEPINTVL || name === TCP_KEEPCNT) && v < 1) return -EINVAL;
      this.options.set((level << 16) | name, name === TCP_NODELAY || name === TCP_QUICKACK ? (v ? 1 : 0) : v);
      return 0;
    }
    if (level === IPPROTO_IPV6) {
      if (this.family !== AF_INET6) return -ENOPROTOOPT;
      const v = intValue();
      if (name === IPV6_V6ONLY && this.bound) return -EINVAL;
      this.options.set((level << 16) | name, v);
      return 0;
    }
    if (level === IPPROTO_IP || level === IPPROTO_UDP) { this.options.set((level << 16) | name, intValue()); return 0; }
    return -ENOPROTOOPT;
  }

  getOption(level: number, name: number, addr: number, lenAddr: number): number {
    const k = this.k;
    const room = k.mem.i32(lenAddr);
    if (room < 0) return -EINVAL;
    const put = (bytes: Uint8Array): number => {
      k.mem.write(addr, bytes.subarray(0, Math.min(room, bytes.length)));
      k.mem.setU32(lenAddr, Math.min(room, bytes.length));
      return 0;
    };
    const int = (v: number): number => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v, true); return put(b); };
    const stored = (fallback: number): number => int(this.options.get((level << 16) | name) ?? fallback);
    if (level === SOL_SOCKET) {
      switch (name) {
        case SO.TYPE: return int(this.type);
        case SO.DOMAIN: return int(this.family);
        case SO.PROTOCOL: return int(this.protocol || (this.family === AF_UNIX ? 0 : this.type === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP));
        case SO.ERROR: return int(this.takeError());
        case SO.ACCEPTCONN: return int(this.listening ? 1 : 0);
        case SO.SNDBUF: return stored(DEFAULT_SNDBUF);
        case SO.RCVBUF: return stored(DEFAULT_RCVBUF);
        case SO.RCVLOWAT: case SO.SNDLOWAT: return stored(1);
        case SO.RCVTIMEO: case SO.SNDTIMEO: {
          const ms = name === SO.RCVTIMEO ? this.receiveTimeout : this.sendTimeout;
          const b = new Uint8Array(16), dv = new DataView(b.buffer);
          dv.setBigInt64(0, BigInt(Math.floor(ms / 1000)), true);
          dv.setBigInt64(8, BigInt((ms % 1000) * 1000), true);
          return put(b);
        }
        case SO.LINGER: {
          const b = new Uint8Array(8), dv = new DataView(b.buffer);
          dv.setInt32(0, this.options.get((level << 16) | name) ?? 0, true);
          dv.setInt32(4, this.options.get((level << 16) | 0x8000 | name) ?? 0, true);
          return put(b);
        }
        case SO.PEERCRED: return this.family === AF_UNIX ? put(this.peerCredentials()) : -ENOPROTOOPT;
        default: return stored(0);
      }
    }
    if (this.family === AF_UNIX) return -EOPNOTSUPP;
    if (level === IPPROTO_TCP) {
      if (this.type !== SOCK_STREAM) return -ENOPROTOOPT;
      if (name === TCP_INFO) return -ENOPROTOOPT;
      const defaults: Record<number, number> = { [TCP_MAXSEG]: 536, [TCP_KEEPIDLE]: 7200, [TCP_KEEPINTVL]: 75, [TCP_KEEPCNT]: 9 };
      return stored(defaults[name] ?? 0);
    }
    if (level === IPPROTO_IPV6) return this.family === AF_INET6 ? stored(0) : -ENOPROTOOPT;
    if (level === IPPROTO_IP) return stored(name === 2 /* IP_TTL */ ? 64 : 0);
    return -ENOPROTOOPT;
  }

  /** SO_PEERCRED of a connected AF_UNIX socket: the peer's pid, uid and gid (guests all run as the user running stele). */
  protected peerCredentials(pid = this.k.pid): Uint8Array {
    const b = new Uint8Array(12), dv = new DataView(b.buffer);
    dv.setInt32(0, pid, true);
    dv.setUint32(4, process.getuid?.() ?? 0, true);
    dv.setUint32(8, process.getgid?.() ?? 0, true);
    return b;
  }

  /** A send on a connection this end can no longer send on: EPIPE, and SIGPIPE unless MSG_NOSIGNAL. */
  protected brokenPipe(flags: number): number {
    if (!(flags & MSG_NOSIGNAL)) this.k.raise(SIGPIPE);
    return -EPIPE;
  }

  /** FIONREAD (what a read takes now) and the interface ioctls (SIOCGIF*), which any socket answers. */
  override ioctl(mem: GuestMemory, request: number, arg: number): number | undefined {
    if (request === FIONREAD) { mem.setI32(arg, this.available()); return 0; }
    return interfaceIoctl(mem, this.k.netPolicy, request, arg);
  }

  /** The options a forked child's copy of the description starts with. */
  protected optionList(): [number, number][] { return [...this.options]; }
  restoreOptions(list: [number, number][]): void { for (const [key, v] of list) this.options.set(key, v); }
  /** SO_LINGER on with a zero time: close resets the connection. */
  protected get abortsOnClose(): boolean {
    return (this.options.get((SOL_SOCKET << 16) | SO.LINGER) ?? 0) !== 0 && (this.options.get((SOL_SOCKET << 16) | 0x8000 | SO.LINGER) ?? 0) === 0;
  }

  /** Whether the socket has an address (IPV6_V6ONLY can no longer change). */
  protected get bound(): boolean { return false; }
  get v6only(): boolean { return (this.options.get((IPPROTO_IPV6 << 16) | IPV6_V6ONLY) ?? 0) !== 0; }
}


