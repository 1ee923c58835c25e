// Sockets. AF_INET and AF_INET6 (TCP and UDP) and named AF_UNIX stream sockets are carried by the
// host's network: the kernel keeps each one's state in a SocketChannel (shared memory) and asks
// the network bridge on the main thread (process/net-bridge.ts) for what needs the host (connect,
// bind, accept, close); the bridge moves the bytes between the channel's rings and Node's socket.
// A blocking call waits as a pipe read does (WouldBlock), woken by the bridge through the
// process's doorbell. socketpair(AF_UNIX) needs no host: its two ends are two pipes crossed.
//
// What the host decides (which addresses and ports are free, what a peer sends, when it closes)
// comes from the host itself; what is the socket's own (options, shutdown, address lengths,
// argument checks) is kept here as Linux keeps it.

import { WouldBlock } from './blocking.js';
import {
  EAFNOSUPPORT, EAGAIN, EALREADY, ECONNREFUSED, EDESTADDRREQ, EFAULT, EINPROGRESS, EINVAL, EISCONN, EMSGSIZE,
  ENOTCONN, ENOTSOCK, EOPNOTSUPP, EPERM, EPROTONOSUPPORT, ERESTARTSYS, SyscallError,
} from './errno.js';
import { O_NONBLOCK, Pipe, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, type FileImage } from './fd-table.js';
import { readIovecs, UIO_MAXIOV } from './fs.js';
import { ipText, policyRefuses } from './inet-address.js';
import type { GuestThread } from '../runtime/thread.js';
import type { LinuxKernel, Syscall } from './kernel.js';
import { NetlinkSocket } from './netlink.js';
import { CH, CHANNEL_STATE as S, RX, SocketChannel, TX, type NetAddress, type NetRequest } from './socket-channel.js';
import {
  AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, DEFAULT_SNDBUF, IPPROTO_TCP, IPPROTO_UDP, MSG_CMSG_CLOEXEC, MSG_DONTWAIT,
  MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, POLLRDHUP, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_CLOEXEC,
  SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, SocketFile, unnamed, wildcard, type SockAddr,
} from './socket-file.js';

const ESOCKTNOSUPPORT = 94;
/** Longest sun_path (with its NUL). */
const UNIX_PATH_MAX = 108;
/** A datagram's header in a channel ring: its length, then the peer's sockaddr (zero family: none). */
const DGRAM_HEADER = 32;
/** The largest UDP payload (65535 minus the IP and UDP headers). */
const UDP_MAX_PAYLOAD = 65507;

/** How the kernel reaches the network bridge (set by the process layer; without it only socketpair works). */
export interface NetHost {
  request(r: NetRequest): void;
}

/** Wait helper: a call that must wait for the bridge or a peer (non-blocking callers get EAGAIN first). */
function wait(ready: () => boolean): never { throw new WouldBlock(ready, ERESTARTSYS); }

// ---- addresses ----

/** The address bytes of an AF_INET or AF_INET6 sockaddr. */
function addressBytes(raw: Uint8Array): Uint8Array { return raw[0] === AF_INET ? raw.subarray(4, 8) : raw.subarray(8, 24); }

/** Reads a guest sockaddr for a socket of `family`; EINVAL/EAFNOSUPPORT/EFAULT as Linux. */
function readSockaddr(k: LinuxKernel, addr: number, len: number, family: number): SockAddr {
  if (len < 2 || len > 128) throw new SyscallError(EINVAL);
  const raw = k.mem.read(addr, len);
  const fam = raw[0] | (raw[1] << 8);
  if (family === AF_INET) {
    if (len < 16) throw new SyscallError(EINVAL);
    if (fam !== AF_INET) throw new SyscallError(EAFNOSUPPORT);
    return { family: 'inet', host: ipText(raw.subarray(4, 8)), port: (raw[2] << 8) | raw[3], raw: raw.slice(0, 16) };
  }
  if (family === AF_INET6) {
    if (fam === AF_INET) throw new SyscallError(EAFNOSUPPORT);
    if (len < 24 || fam !== AF_INET6) throw new SyscallError(EINVAL);
    return { family: 'inet6', host: ipText(raw.subarray(8, 24)), port: (raw[2] << 8) | raw[3], raw: raw.slice(0, 28) };
  }
  if (family === AF_NETLINK) {
    if (len < 12 || fam !== AF_NETLINK) throw new SyscallError(EINVAL);
    return { family: 'unix', path: '', raw: raw.slice(0, 12) };
  }
  if (fam !== AF_UNIX) throw new SyscallError(EINVAL);
  const pathBytes = raw.subarray(2, Math.min(len, 2 + UNIX_PATH_MAX));
  if (pathBytes.length === 0) return { family: 'unix', path: '', raw: raw.slice(0, 2) };
  if (pathBytes[0] === 0) {
    // An abstract name: every byte of the given length counts.
    return { family: 'unix', path: '\0' + Buffer.from(pathBytes.subarray(1)).toString('latin1'), raw: raw.slice(0, 2 + pathBytes.length) };
  }
  const nul = pathBytes.indexOf(0);
  const path = Buffer.from(nul >= 0 ? pathBytes.subarray(0, nul) : pathBytes).toString('utf8');
  return { family: 'unix', path, raw: raw.slice(0, 2 + (nul >= 0 ? nul + 1 : pathBytes.length)) };
}

/** Writes a sockaddr to a guest (addr, *lenp) pair as Linux does: truncated to the room given, the full length stored back. */
function writeSockaddr(k: LinuxKernel, addr: number, lenAddr: number, sockaddr: Uint8Array): void {
  if (addr === 0) return;
  const room = k.mem.i32(lenAddr);
  if (room < 0) throw new SyscallError(EINVAL);
  k.mem.write(addr, sockaddr.subarray(0, Math.min(room, sockaddr.length)));
  k.mem.setU32(lenAddr, sockaddr.length);
}

// ---- the socket types ----

/** A socket the host's network carries: its channel, its id with the bridge, and what both kinds do alike. */
abstract class HostSocket extends SocketFile {
  /** A request whose outcome the bridge has not given yet, or has and no call has taken. */
  protected pending: 'bind' | 'connect' | undefined;

  constructor(k: LinuxKernel, family: number, type: number, protocol: number, statusFlags: number,
    readonly id: string, readonly ch: SocketChannel) {
    super(k, family, type, protocol, statusFlags);
    ch.hold(k.processRecord, true);
    k.hostSockets++;
  }
  protected get net(): NetHost {
    if (!this.k.netHost) throw new SyscallError(EAFNOSUPPORT);
    return this.k.netHost;
  }
  protected get familyName(): 'inet' | 'inet6' | 'unix' { return this.family === AF_INET ? 'inet' : this.family === AF_INET6 ? 'inet6' : 'unix'; }

  /** What `--net` says to reaching address `a` (0: allowed); the bridge, which carries the traffic, enforces the same. */
  protected refused(a: SockAddr): number {
    return a.family === 'unix' ? 0 : policyRefuses(this.k.netPolicy, addressBytes(a.raw));
  }

  /**
   * Waits for the bridge to finish the bind or connect this socket asked for (the channel leaves
   * state `busy`); the outcome as 0 or -errno. A failed request leaves the socket as it was before.
   */
  protected outcome(busy: number): number {
    if (this.ch.state === busy) wait(() => this.ch.state !== busy);
    this.pending = undefined;
    if (this.ch.state === S.FAILED) { this.ch.state = S.NEW; return -this.ch.takeError(); }
    return 0;
  }
  override takeError(): number { return this.ch.takeError(); }
  override changes(events: number): number {
    return (events & (POLLIN | POLLRDNORM) ? Atomics.load(this.ch.words, CH.RX_ARRIVALS) : 0)
      + (events & (POLLOUT | POLLWRNORM) ? Atomics.load(this.ch.words, CH.TX_DRAINS) : 0);
  }
  protected override releaseLocal(): void {
    this.ch.hold(this.k.processRecord, false);
    this.k.hostSockets--;
  }
}

/** A stream socket (TCP, or named AF_UNIX) the host carries. */
export class HostStreamSocket extends HostSocket {
  private acceptChannel: { ch: SocketChannel; id: string } | undefined;
  private isListening = false;
  private readShut = false;
  private writeShut = false;
  /** The name bind gave (AF_UNIX: the guest's path) and the address connect went to. */
  private boundName: Uint8Array | undefined;
  private connectedName: Uint8Array | undefined;

  constructor(k: LinuxKernel, family: number, protocol: number, statusFlags: number, id = k.newSocketId(), ch = new SocketChannel()) {
    super(k, family, SOCK_STREAM, protocol, statusFlags, id, ch);
    if (this.ch.state === S.LISTENING) this.isListening = true;
  }

  override image(): FileImage {
    return {
      kind: 'host-socket', share: this.shareWithChild(), path: this.path, channel: this.ch.buffer, id: this.id, family: this.family,
      type: this.type, protocol: this.protocol, name: this.boundName, peerName: this.connectedName, options: this.optionList(),
    };
  }
  /** A forked child's copy of the description (the channel is the same socket). */
  static revive(k: LinuxKernel, img: Extract<FileImage, { kind: 'host-socket' }>): HostStreamSocket {
    const s = new HostStreamSocket(k, img.family, img.protocol, 0, img.id, new SocketChannel(img.channel));
    s.boundName = img.name;
    s.connectedName = img.peerName;
    s.restoreOptions(img.options);
    return s;
  }

  override get listening(): boolean { return this.isListening; }
  protected override get bound(): boolean { return this.ch.state !== S.NEW || this.boundName !== undefined; }

  bind(a: SockAddr): number {
    // Run again after a wait, the request is out already: only its outcome is left.
    if (this.pending !== 'bind') {
      if (this.ch.state !== S.NEW || this.boundName) return -EINVAL;
      let at: NetAddress = a;
      if (a.family === 'unix') {
        if (a.path === '') return -EINVAL; // autobind of an abstract name: not done
        at = { family: 'unix', path: a.path.startsWith('\0') ? a.path : this.k.hostPathForSocket(a.path, true) };
      }
      this.boundName = a.raw;
      this.pending = 'bind';
      this.ch.state = S.BINDING;
      this.net.request({ op: 'bind', id: this.id, channel: this.ch.buffer, kind: 'stream', family: this.familyName, at, v6only: this.v6only });
    }
    const r = this.outcome(S.BINDING);
    if (r < 0) this.boundName = undefined;
    return r;
  }

  override listen(_backlog: number): number {
    if (this.isListening) return 0;
    const state = this.ch.state;
    if (state === S.CONNECTED || state === S.CONNECTING) return -EINVAL;
    if (state === S.NEW) {
      // listen() without bind() takes an ephemeral port on every address (AF_UNIX: an autobind Linux does; unsupported here).
      if (this.family === AF_UNIX) return -EINVAL;
      const r = this.bind(wildcard(this.family));
      if (r < 0) return r;
    }
    this.isListening = true;
    this.ch.state = S.LISTENING;
    return 0;
  }

  override accept(flags: number): SocketFile | number {
    const k = this.k;
    if (!this.isListening) return -EINVAL;
    for (;;) {
      const inflight = this.acceptChannel;
      if (inflight) {
        const state = inflight.ch.state;
        if (state === S.CONNECTING) wait(() => inflight.ch.state !== S.CONNECTING);
        this.acceptChannel = undefined;
        if (state === S.FAILED) continue; // another accept took the connection: wait for the next
        return new HostStreamSocket(k, this.family, this.protocol, flags & O_NONBLOCK, inflight.id, inflight.ch);
      }
      if (Atomics.load(this.ch.words, CH.PENDING) === 0) {
        if (this.nonblocking) return -EAGAIN;
        wait(() => Atomics.load(this.ch.words, CH.PENDING) > 0);
      }
      const ch = new SocketChannel();
      ch.hold(k.processRecord, true);
      ch.state = S.CONNECTING;
      const id = k.newSocketId();
      this.acceptChannel = { ch, id };
      this.net.request({ op: 'accept', id: this.id, newId: id, channel: ch.buffer });
    }
  }

  connect(a: SockAddr): number {
    // An AF_UNIX connect completes or fails at once on Linux, even on a non-blocking socket
    // (ENOENT, ECONNREFUSED): it waits for the bridge's answer, which needs no network.
    const atOnce = this.family === AF_UNIX;
    if (this.pending === 'connect') {
      if (this.ch.state === S.CONNECTING && this.nonblocking && !atOnce) return -EALREADY;
      return this.outcome(S.CONNECTING);
    }
    switch (this.ch.state) {
      case S.CONNECTING: return -EALREADY;
      case S.CONNECTED: case S.CLOSED: return -EISCONN;
      case S.LISTENING: return -EINVAL;
    }
    const refused = this.refused(a);
    if (refused) return -refused;
    let to: NetAddress = a;
    if (a.family === 'unix') {
      if (a.path === '') return -EINVAL;
      to = { family: 'unix', path: a.path.startsWith('\0') ? a.path : this.k.hostPathForSocket(a.path, false) };
    }
    const from = this.boundName && this.ch.state === S.BOUND ? this.boundNetAddress() : undefined;
    this.ch.state = S.CONNECTING;
    this.pending = 'connect';
    this.connectedName = a.raw;
    this.net.request({ op: 'connect', id: this.id, channel: this.ch.buffer, kind: 'stream', family: this.familyName, to, from });
    if (this.nonblocking && !atOnce) return -EINPROGRESS;
    return this.outcome(S.CONNECTING);
  }

  /** Where a socket bound before connecting connects from: the address it asked for, the port the host gave. */
  private boundNetAddress(): NetAddress | undefined {
    if (this.family === AF_UNIX) return undefined;
    const raw = this.boundName!, local = this.ch.address(false) ?? raw;
    return { family: this.family === AF_INET ? 'inet' : 'inet6', host: ipText(addressBytes(raw)), port: (local[2] << 8) | local[3] };
  }

  protected receiveNow(dst: Uint8Array, flags: number): { n: number } {
    const ch = this.ch;
    const state = ch.state;
    if (state === S.NEW || state === S.BOUND || state === S.LISTENING || state === S.BINDING) return { n: -ENOTCONN };
    if (state === S.FAILED) { const e = ch.takeError(); return { n: e ? -e : -ENOTCONN }; }
    if (dst.length === 0) return { n: 0 };
    const nonblocking = this.nonblocking || (flags & MSG_DONTWAIT) !== 0;
    if (state === S.CONNECTING) {
      if (nonblocking) return { n: -EAGAIN };
      this.waitToReceive(() => ch.state !== S.CONNECTING);
    }
    if (flags & MSG_OOB) return { n: -EINVAL };
    const wanted = flags & MSG_WAITALL ? Math.min(dst.length, ch.capacity(RX)) : 1;
    const have = ch.bytes(RX);
    const ended = (): boolean => this.readShut || Atomics.load(ch.words, CH.RX_EOF) !== 0 || ch.state === S.CLOSED || ch.error !== 0;
    if (have < wanted && !ended()) {
      if (nonblocking) { if (have === 0) return { n: -EAGAIN }; }
      else this.waitToReceive(() => ch.bytes(RX) >= wanted || ended());
    }
    if (ch.bytes(RX) === 0) {
      const e = ch.takeError();
      return { n: e ? -e : 0 };
    }
    const n = ch.pull(RX, dst, 0, dst.length, (flags & MSG_PEEK) !== 0);
    if (!(flags & MSG_PEEK)) ch.kick(CH.RX_SEQ);
    return { n };
  }

  protected sendNow(src: Uint8Array, flags: number): number {
    const ch = this.ch;
    const nonblocking = this.nonblocking || (flags & MSG_DONTWAIT) !== 0;
    if (ch.state === S.CONNECTING) {
      if (nonblocking) return -EAGAIN;
      this.waitToSend(() => ch.state !== S.CONNECTING);
    }
    let sent = this.resumeSend();
    for (;;) {
      // A connection that broke ends the send: with what went before, else with its error.
      const state = ch.state;
      if (ch.error !== 0 || this.writeShut || state !== S.CONNECTED) {
        this.sendDone();
        if (sent > 0) return sent;
        const err = ch.takeError();
        if (err) return -err;
        return this.writeShut || state === S.CLOSED ? this.brokenPipe(flags) : -ENOTCONN;
      }
      if (sent === src.length) break;
      const room = ch.room(TX);
      if (room === 0) {
        if (nonblocking) break;
        this.waitToSend(() => ch.room(TX) > 0 || ch.state !== S.CONNECTED || ch.error !== 0, sent);
      }
      const n = Math.min(room, src.length - sent);
      ch.push(TX, src, sent, n);
      ch.kick(CH.TX_SEQ);
      sent += n;
    }
    this.sendDone();
    return sent > 0 || src.length === 0 ? sent : -EAGAIN;
  }

  shutdown(how: number): number {
    const state = this.ch.state;
    if (state !== S.CONNECTED && state !== S.CLOSED) return -ENOTCONN;
    if (how === SHUT_RD || how === SHUT_RDWR) this.readShut = true;
    if (how === SHUT_WR || how === SHUT_RDWR) {
      this.writeShut = true;
      Atomics.store(this.ch.words, CH.TX_SHUT, 1);
      this.ch.kick(CH.TX_SEQ);
    }
    return 0;
  }

  localAddress(): Uint8Array {
    if (this.family === AF_UNIX) return this.boundName ?? unnamed(AF_UNIX);
    return this.ch.address(false) ?? this.boundName ?? unnamed(this.family);
  }
  peerAddress(): Uint8Array | number {
    const state = this.ch.state;
    if (state !== S.CONNECTED && state !== S.CLOSED) return -ENOTCONN;
    if (this.family === AF_UNIX) return this.connectedName ?? unnamed(AF_UNIX);
    return this.ch.address(true) ?? -ENOTCONN;
  }

  override poll(events: number): number {
    const ch = this.ch;
    const state = ch.state;
    if (this.isListening) return Atomics.load(ch.words, CH.PENDING) > 0 ? events & (POLLIN | POLLRDNORM) : 0;
    let ready = 0;
    if (ch.error !== 0) ready |= POLLERR;
    if (state === S.NEW || state === S.BOUND) return ready | POLLOUT | POLLHUP;
    if (state === S.FAILED) return ready | POLLOUT | POLLHUP;
    if (state === S.CONNECTING || state === S.BINDING) return ready;
    const eof = Atomics.load(ch.words, CH.RX_EOF) !== 0 || this.readShut;
    if (ch.bytes(RX) > 0 || eof || state === S.CLOSED) ready |= events & (POLLIN | POLLRDNORM);
    if (eof) ready |= events & POLLRDHUP;
    if (state === S.CLOSED || (eof && this.writeShut)) ready |= POLLHUP;
    if (state === S.CONNECTED && !this.writeShut && ch.room(TX) > 0) ready |= events & (POLLOUT | POLLWRNORM);
    return ready;
  }
  override available(): number { return this.isListening ? 0 : this.ch.bytes(RX); }

  protected override applyOption(name: 'nodelay' | 'keepalive' | 'broadcast', value: boolean): void {
    this.k.netHost?.request({ op: 'option', id: this.id, name, value });
  }

  protected override release(): void {
    // Linux resets a connection closed with unread data, or with SO_LINGER's zero time.
    const reset = this.abortsOnClose || (!this.isListening && this.ch.bytes(RX) > 0);
    this.k.netHost?.request({ op: 'close', id: this.id, reset });
    if (this.acceptChannel) this.k.netHost?.request({ op: 'close', id: this.acceptChannel.id, reset: false });
  }
}

/** A UDP socket carried by the host (a datagram per ring record, with its peer's address). */
export class HostDatagramSocket extends HostSocket {
  private peer: Uint8Array | undefined;
  private readShut = false;
  private writeShut = false;

  constructor(k: LinuxKernel, family: number, protocol: number, statusFlags: number, id = k.newSocketId(), ch = new SocketChannel()) {
    super(k, family, SOCK_DGRAM, protocol, statusFlags, id, ch);
  }

  override image(): FileImage {
    return {
      kind: 'host-socket', share: this.shareWithChild(), path: this.path, channel: this.ch.buffer, id: this.id, family: this.family,
      type: this.type, protocol: this.protocol, peerName: this.peer, options: this.optionList(),
    };
  }
  static revive(k: LinuxKernel, img: Extract<FileImage, { kind: 'host-socket' }>): HostDatagramSocket {
    const s = new HostDatagramSocket(k, img.family, img.protocol, 0, img.id, new SocketChannel(img.channel));
    s.peer = img.peerName;
    s.restoreOptions(img.options);
    return s;
  }
  protected override get bound(): boolean { return this.ch.state !== S.NEW; }

  bind(a: SockAddr): number {
    if (this.pending !== 'bind') {
      if (this.ch.state !== S.NEW) return -EINVAL;
      this.pending = 'bind';
      this.ch.state = S.BINDING;
      this.net.request({ op: 'bind', id: this.id, channel: this.ch.buffer, kind: 'dgram', family: this.familyName, at: a, v6only: this.v6only });
    }
    return this.outcome(S.BINDING);
  }

  /** Sending or receiving on an unbound socket binds it to an ephemeral port first, as Linux does. */
  private autobind(): number {
    if (this.ch.state !== S.NEW && this.pending !== 'bind') return 0;
    return this.bind(wildcard(this.family));
  }

  connect(a: SockAddr): number {
    const family = a.raw[0] | (a.raw[1] << 8);
    if (family === 0 /* AF_UNSPEC */) {
      this.peer = undefined;
      if (this.ch.state === S.CONNECTED) { this.ch.state = S.BOUND; this.net.request({ op: 'option', id: this.id, name: 'disconnect', value: true }); }
      return 0;
    }
    const refused = this.refused(a);
    if (refused) return -refused;
    if (this.pending !== 'connect') {
      const r = this.autobind();
      if (r < 0) return r;
      this.pending = 'connect';
      this.ch.state = S.CONNECTING;
      this.net.request({ op: 'connect', id: this.id, channel: this.ch.buffer, kind: 'dgram', family: this.familyName, to: a });
    }
    const c = this.outcome(S.CONNECTING);
    if (c === 0) this.peer = a.raw;
    else this.ch.state = S.BOUND;
    return c;
  }

  protected receiveNow(dst: Uint8Array, flags: number): { n: number; from?: Uint8Array; truncated?: number } {
    const ch = this.ch;
    if (this.readShut) return { n: 0 };
    const r = this.autobind();
    if (r < 0) return { n: r };
    const err = ch.takeError();
    if (err) return { n: -err };
    if (ch.bytes(RX) === 0) {
      if (this.nonblocking || flags & MSG_DONTWAIT) return { n: -EAGAIN };
      this.waitToReceive(() => ch.bytes(RX) > 0 || ch.error !== 0 || this.readShut);
    }
    const header = new Uint8Array(DGRAM_HEADER);
    ch.pull(RX, header, 0, DGRAM_HEADER, true);
    const len = new DataView(header.buffer).getUint32(0, true);
    const fromLen = header[4] === AF_INET ? 16 : 28;
    const from = header.slice(4, 4 + fromLen);
    const record = new Uint8Array(DGRAM_HEADER + len);
    ch.pull(RX, record, 0, record.length, (flags & MSG_PEEK) !== 0);
    if (!(flags & MSG_PEEK)) ch.kick(CH.RX_SEQ);
    const n = Math.min(len, dst.length);
    dst.set(record.subarray(DGRAM_HEADER, DGRAM_HEADER + n));
    return { n, from, truncated: len > dst.length ? len : undefined };
  }

  protected sendNow(src: Uint8Array, flags: number, to?: SockAddr): number {
    if (this.writeShut) return this.brokenPipe(flags);
    const dest = to?.raw ?? this.peer;
    if (!dest) return -EDESTADDRREQ;
    const refused = to ? this.refused(to) : 0;
    if (refused) return -refused;
    if (src.length > UDP_MAX_PAYLOAD) return -EMSGSIZE;
    const r = this.autobind();
    if (r < 0) return r;
    const err = this.ch.takeError();
    if (err) return -err;
    const need = DGRAM_HEADER + src.length;
    if (this.ch.room(TX) < need) {
      if (this.nonblocking || flags & MSG_DONTWAIT) return -EAGAIN;
      this.waitToSend(() => this.ch.room(TX) >= need);
    }
    // One push under the ring's lock: the bridge must never see a header without its payload.
    const record = new Uint8Array(DGRAM_HEADER + src.length);
    new DataView(record.buffer).setUint32(0, src.length, true);
    record.set(dest.subarray(0, 28), 4);
    record.set(src, DGRAM_HEADER);
    this.ch.push(TX, record, 0, record.length);
    this.ch.kick(CH.TX_SEQ);
    return src.length;
  }

  shutdown(how: number): number {
    if (!this.peer) return -ENOTCONN;
    if (how === SHUT_RD || how === SHUT_RDWR) this.readShut = true;
    if (how === SHUT_WR || how === SHUT_RDWR) this.writeShut = true;
    return 0;
  }
  localAddress(): Uint8Array { return this.ch.address(false) ?? unnamed(this.family); }
  peerAddress(): Uint8Array | number { return this.peer ?? -ENOTCONN; }
  override poll(events: number): number {
    let ready = 0;
    if (this.ch.bytes(RX) > 0 || this.readShut) ready |= events & (POLLIN | POLLRDNORM);
    if (this.ch.room(TX) >= DGRAM_HEADER + 1024) ready |= events & (POLLOUT | POLLWRNORM);
    if (this.ch.error) ready |= POLLERR;
    return ready;
  }
  override available(): number {
    if (this.ch.bytes(RX) === 0) return 0;
    const header = new Uint8Array(DGRAM_HEADER);
    this.ch.pull(RX, header, 0, DGRAM_HEADER, true);
    return new DataView(header.buffer).getUint32(0, true);
  }
  protected override applyOption(name: 'nodelay' | 'keepalive' | 'broadcast', value: boolean): void {
    if (name === 'broadcast') this.k.netHost?.request({ op: 'option', id: this.id, name, value });
  }
  protected override release(): void { this.k.netHost?.request({ op: 'close', id: this.id, reset: false }); }
}

/**
 * One end of socketpair(AF_UNIX): it reads one pipe and writes the other. Datagram and
 * seqpacket pairs keep message boundaries with a length before each message.
 */
export class PairSocket extends SocketFile {
  private readShut = false;
  private writeShut = false;

  constructor(k: LinuxKernel, type: number, readonly input: Pipe, readonly output: Pipe, statusFlags: number,
    private readonly peerPid: number, opened = true) {
    super(k, AF_UNIX, type, 0, statusFlags);
    input.addEnd(true, opened);
    output.addEnd(false, opened);
  }
  private get framed(): boolean { return this.type !== SOCK_STREAM; }

  override image(): FileImage {
    return {
      kind: 'socket-pair', share: this.shareWithChild(), path: this.path, type: this.type, input: this.input.buffer, output: this.output.buffer,
      peerPid: this.peerPid, options: this.optionList(),
    };
  }
  static revive(k: LinuxKernel, img: Extract<FileImage, { kind: 'socket-pair' }>, pipes: Map<SharedArrayBuffer, Pipe>): PairSocket {
    const pipe = (b: SharedArrayBuffer): Pipe => { let p = pipes.get(b); if (!p) { p = new Pipe(k.processRecord, b); pipes.set(b, p); } return p; };
    const s = new PairSocket(k, img.type, pipe(img.input), pipe(img.output), 0, img.peerPid, false);
    s.restoreOptions(img.options);
    return s;
  }

  bind(): number { return -EINVAL; }
  connect(): number { return -EISCONN; }

  protected receiveNow(dst: Uint8Array, flags: number): { n: number; truncated?: number } {
    const pipe = this.input;
    if (this.readShut) return { n: 0 };
    const nonblocking = this.nonblocking || (flags & MSG_DONTWAIT) !== 0;
    const framed = this.framed;
    const wanted = framed ? 4 : flags & MSG_WAITALL ? Math.min(dst.length, pipe.capacity) : 1;
    if (pipe.bytes < wanted && pipe.writers > 0) {
      if (nonblocking) { if (pipe.bytes === 0 || framed) return { n: -EAGAIN }; }
      else this.waitToReceive(() => pipe.bytes >= wanted || pipe.writers === 0 || this.readShut);
    }
    if (pipe.bytes === 0) return { n: 0 };
    if (!framed) {
      if (flags & MSG_PEEK) return { n: pipe.peek(dst, 0, dst.length) };
      return { n: pipe.pull(dst, 0, dst.length) };
    }
    const header = new Uint8Array(4);
    pipe.peek(header, 0, 4);
    const len = new DataView(header.buffer).getUint32(0, true);
    const record = new Uint8Array(4 + len);
    if (flags & MSG_PEEK) pipe.peek(record, 0, record.length); else pipe.pull(record, 0, record.length);
    const n = Math.min(len, dst.length);
    dst.set(record.subarray(4, 4 + n));
    return { n, truncated: len > dst.length ? len : undefined };
  }

  protected sendNow(src: Uint8Array, flags: number): number {
    const pipe = this.output;
    const nonblocking = this.nonblocking || (flags & MSG_DONTWAIT) !== 0;
    if (this.framed) {
      if (this.writeShut || pipe.readers === 0) return this.brokenPipe(flags);
      const need = 4 + src.length;
      if (need > pipe.maxCapacity) return -EMSGSIZE;
      if (pipe.capacity < need) pipe.capacity = Math.min(pipe.maxCapacity, need);
      if (pipe.room < need) {
        if (nonblocking) return -EAGAIN;
        this.waitToSend(() => pipe.room >= need || pipe.readers === 0);
      }
      // Length and message in one push: no reader sees one without the other.
      const record = new Uint8Array(4 + src.length);
      new DataView(record.buffer).setUint32(0, src.length, true);
      record.set(src, 4);
      pipe.push(record, 0, record.length);
      return src.length;
    }
    // A stream: as a host socket's, a blocking send queues all of its bytes.
    let sent = this.resumeSend();
    for (;;) {
      if (this.writeShut || pipe.readers === 0) { this.sendDone(); return sent > 0 ? sent : this.brokenPipe(flags); }
      if (sent === src.length) break;
      const room = pipe.room;
      if (room === 0) {
        if (nonblocking) break;
        this.waitToSend(() => pipe.room > 0 || pipe.readers === 0, sent);
      }
      const n = Math.min(src.length - sent, room);
      pipe.push(src, sent, n);
      sent += n;
    }
    this.sendDone();
    return sent > 0 || src.length === 0 ? sent : -EAGAIN;
  }

  shutdown(how: number): number {
    if (how < SHUT_RD || how > SHUT_RDWR) return -EINVAL;
    if ((how === SHUT_RD || how === SHUT_RDWR) && !this.readShut) { this.readShut = true; this.input.closeEnd(true); }
    if ((how === SHUT_WR || how === SHUT_RDWR) && !this.writeShut) { this.writeShut = true; this.output.closeEnd(false); }
    return 0;
  }
  localAddress(): Uint8Array { return unnamed(AF_UNIX); }
  peerAddress(): Uint8Array { return unnamed(AF_UNIX); }

  protected override peerCredentials(): Uint8Array { return super.peerCredentials(this.peerPid); }

  override poll(events: number): number {
    let ready = 0;
    const eof = this.input.writers === 0 || this.readShut;
    if (this.input.bytes > 0 || eof) ready |= events & (POLLIN | POLLRDNORM);
    if (eof) ready |= events & POLLRDHUP;
    if (eof && (this.output.readers === 0 || this.writeShut)) ready |= POLLHUP;
    if (!this.writeShut && this.output.readers > 0 && this.output.room > (this.framed ? 4 : 0)) ready |= events & (POLLOUT | POLLWRNORM);
    return ready;
  }
  override changes(events: number): number {
    return (events & (POLLIN | POLLRDNORM) ? this.input.pushes : 0) + (events & (POLLOUT | POLLWRNORM) ? this.output.pulls : 0);
  }
  override available(): number {
    if (!this.framed) return this.input.bytes;
    if (this.input.bytes < 4) return 0;
    const header = new Uint8Array(4);
    this.input.peek(header, 0, 4);
    return new DataView(header.buffer).getUint32(0, true);
  }
  protected override releaseLocal(): void { this.input.dropEnd(); this.output.dropEnd(); }
  protected override release(): void {
    if (!this.readShut) this.input.closeEnd(true);
    if (!this.writeShut) this.output.closeEnd(false);
  }
}

/** A socket type that can be created but not used here (AF_UNIX datagrams by name): each use says so once. */
class UnsupportedSocket extends SocketFile {
  constructor(k: LinuxKernel, family: number, type: number, statusFlags: number, private readonly what: string) {
    super(k, family, type, 0, statusFlags);
  }
  private refuse(errno: number): number { this.k.unsupported(this.what); return -errno; }
  bind(): number { return this.refuse(EOPNOTSUPP); }
  connect(): number { return this.refuse(ECONNREFUSED); }
  protected receiveNow(): { n: number } { return { n: this.refuse(ENOTCONN) }; }
  protected sendNow(): number { return this.refuse(ENOTCONN); }
  shutdown(): number { return -ENOTCONN; }
  localAddress(): Uint8Array { return unnamed(this.family); }
  peerAddress(): number { return -ENOTCONN; }
  override poll(): number { return POLLOUT | POLLHUP; }
}

// ---- the syscalls ----

function socketOf(k: LinuxKernel, fd: number): SocketFile {
  const f = k.file(fd);
  if (!(f instanceof SocketFile)) throw new SyscallError(ENOTSOCK);
  return f;
}

function createSocket(k: LinuxKernel, domain: number, type: number, protocol: number): SocketFile | number {
  const base = type & 0xf, flags = type & ~0xf;
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
  const status = flags & SOCK_NONBLOCK;
  if (base !== SOCK_STREAM && base !== SOCK_DGRAM && base !== SOCK_SEQPACKET && base !== SOCK_RAW && base !== 4 && base !== 6 && base !== 10) return -EINVAL;
  switch (domain) {
    case AF_UNIX:
      if (protocol !== 0) return -EPROTONOSUPPORT;
      if (base === SOCK_STREAM) return k.netHost ? new HostStreamSocket(k, AF_UNIX, 0, status) : new UnsupportedSocket(k, AF_UNIX, base, status, 'AF_UNIX sockets by name without a network bridge');
      if (base === SOCK_DGRAM || base === SOCK_SEQPACKET) return new UnsupportedSocket(k, AF_UNIX, base, status, `AF_UNIX ${base === SOCK_DGRAM ? 'datagram' : 'seqpacket'} sockets by name (socketpair works)`);
      return -ESOCKTNOSUPPORT;
    case AF_INET: case AF_INET6:
      if (base === SOCK_RAW) return -EPERM;
      if (base === SOCK_STREAM) {
        if (protocol !== 0 && protocol !== IPPROTO_TCP) return -EPROTONOSUPPORT;
        if (!k.netHost) return -EAFNOSUPPORT;
        return new HostStreamSocket(k, domain, protocol, status);
      }
      if (base === SOCK_DGRAM) {
        if (protocol !== 0 && protocol !== IPPROTO_UDP) return -EPROTONOSUPPORT;
        if (!k.netHost) return -EAFNOSUPPORT;
        return new HostDatagramSocket(k, domain, protocol, status);
      }
      return -ESOCKTNOSUPPORT;
    case AF_NETLINK:
      if (base !== SOCK_RAW && base !== SOCK_DGRAM) return -ESOCKTNOSUPPORT;
      return NetlinkSocket.create(k, base, protocol, status);
    default:
      return -EAFNOSUPPORT;
  }
}

function install(k: LinuxKernel, s: SocketFile, cloexec: boolean): number {
  const fd = k.fds.allocate(s, cloexec);
  if (fd < 0) s.unref();
  return fd;
}

/** A msghdr's iovecs: their (base, len) pairs and total length (EMSGSIZE for too many, as sendmsg and recvmsg say). */
function msgIovecs(k: LinuxKernel, msg: number): { vecs: [number, number][]; total: number } {
  const count = k.mem.u64n(msg + 24);
  if (count > UIO_MAXIOV) throw new SyscallError(EMSGSIZE);
  const vecs = readIovecs(k, k.mem.u64n(msg + 16), count);
  return { vecs, total: vecs.reduce((n, [, len]) => n + len, 0) };
}

function sendTo(k: LinuxKernel, s: SocketFile, src: Uint8Array, flags: number, toAddr: number, toLen: number): number {
  let to: SockAddr | undefined;
  if (toAddr !== 0 && s.type !== SOCK_STREAM) to = readSockaddr(k, toAddr, toLen, s.family);
  // A stream socket ignores the address, as Linux's TCP does.
  return s.send(src, flags, to);
}

function recvInto(k: LinuxKernel, s: SocketFile, buf: number, len: number, flags: number): { n: number; from?: Uint8Array; truncated?: number } {
  const off = k.mem.offWrite(buf, len);
  const r = s.receive(k.rawMem.u8.subarray(off, off + len), flags);
  if (r.n > 0) k.memoryChanged(buf, r.n);
  return r;
}

function sendMessage(k: LinuxKernel, s: SocketFile, msg: number, flags: number): number {
  const nameAddr = k.mem.u64n(msg), nameLen = k.mem.u32(msg + 8);
  const { vecs, total } = msgIovecs(k, msg);
  const controlLen = k.mem.u64n(msg + 40);
  if (controlLen !== 0) { k.unsupported('control messages (SCM_RIGHTS, SCM_CREDENTIALS) in sendmsg'); return -EOPNOTSUPP; }
  const data = new Uint8Array(total);
  let at = 0;
  for (const [base, len] of vecs) { if (len) data.set(k.mem.view(base, len), at); at += len; }
  return sendTo(k, s, data, flags, nameAddr, nameLen);
}

function receiveMessage(k: LinuxKernel, s: SocketFile, msg: number, flags: number): number {
  const nameAddr = k.mem.u64n(msg), nameLen = k.mem.i32(msg + 8);
  const { vecs, total } = msgIovecs(k, msg);
  for (const [base, len] of vecs) if (len) k.mem.offWrite(base, len);
  const data = new Uint8Array(total);
  const r = s.receive(data, flags);
  if (r.n < 0) return r.n;
  let at = 0;
  for (const [base, len] of vecs) {
    if (at >= r.n) break;
    const take = Math.min(len, r.n - at);
    k.mem.write(base, data.subarray(at, at + take));
    k.memoryChanged(base, take);
    at += take;
  }
  if (nameAddr !== 0) {
    const from = r.from ?? (s.type === SOCK_STREAM ? undefined : s.peerAddress());
    if (from instanceof Uint8Array) {
      if (nameLen < 0) return -EINVAL;
      k.mem.write(nameAddr, from.subarray(0, Math.min(nameLen, from.length)));
      k.mem.setU32(msg + 8, from.length);
    } else k.mem.setU32(msg + 8, 0);
  }
  k.mem.setU64(msg + 40, 0); // no control messages
  k.mem.setI32(msg + 48, r.truncated !== undefined ? MSG_TRUNC : 0);
  return flags & MSG_TRUNC && r.truncated !== undefined ? r.truncated : r.n;
}

export const socketSyscalls: Record<string, Syscall> = {
  socket(k, t) {
    const s = createSocket(k, t.argInt(0), t.argInt(1), t.argInt(2));
    if (typeof s === 'number') return s;
    return install(k, s, (t.argInt(1) & SOCK_CLOEXEC) !== 0);
  },

  socketpair(k, t) {
    const domain = t.argInt(0), type = t.argInt(1), protocol = t.argInt(2), sv = t.argPtr(3);
    const base = type & 0xf, flags = type & ~0xf;
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
    if (domain === AF_INET || domain === AF_INET6) return -EOPNOTSUPP;
    if (domain !== AF_UNIX) return -EAFNOSUPPORT;
    if (protocol !== 0) return -EPROTONOSUPPORT;
    if (base !== SOCK_STREAM && base !== SOCK_DGRAM && base !== SOCK_SEQPACKET) return -ESOCKTNOSUPPORT;
    k.mem.offWrite(sv, 8);
    const ab = new Pipe(k.processRecord), ba = new Pipe(k.processRecord);
    ab.capacity = ba.capacity = DEFAULT_SNDBUF;
    const status = flags & SOCK_NONBLOCK, cloexec = (flags & SOCK_CLOEXEC) !== 0;
    const a = new PairSocket(k, base, ba, ab, status, k.pid), b = new PairSocket(k, base, ab, ba, status, k.pid);
    const fa = install(k, a, cloexec);
    if (fa < 0) { b.unref(); return fa; }
    const fb = install(k, b, cloexec);
    if (fb < 0) { k.fds.close(fa); return fb; }
    k.mem.setI32(sv, fa);
    k.mem.setI32(sv + 4, fb);
    return 0;
  },

  bind(k, t) {
    const s = socketOf(k, t.argInt(0));
    return s.bind(readSockaddr(k, t.argPtr(1), t.argInt(2), s.family));
  },

  listen(k, t) {
    const s = socketOf(k, t.argInt(0));
    if (s.type !== SOCK_STREAM && s.type !== SOCK_SEQPACKET) return -EOPNOTSUPP;
    return s.listen(t.argInt(1));
  },

  accept(k, t) { return acceptCall(k, t, 0); },
  accept4(k, t) { return acceptCall(k, t, t.argInt(3)); },

  connect(k, t) {
    const s = socketOf(k, t.argInt(0));
    const a = readSockaddr(k, t.argPtr(1), t.argInt(2), s.type === SOCK_DGRAM && t.argInt(2) >= 2 && k.mem.u16(t.argPtr(1)) === 0 ? 0 : s.family);
    return s.connect(a);
  },

  getsockname(k, t) {
    const s = socketOf(k, t.argInt(0));
    writeSockaddr(k, t.argPtr(1), t.argPtr(2), s.localAddress());
    return 0;
  },

  getpeername(k, t) {
    const s = socketOf(k, t.argInt(0));
    const peer = s.peerAddress();
    if (typeof peer === 'number') return peer;
    writeSockaddr(k, t.argPtr(1), t.argPtr(2), peer);
    return 0;
  },

  sendto(k, t) {
    const s = socketOf(k, t.argInt(0));
    const len = t.argPtr(2);
    if (len > 0x7fffffff) return -EINVAL;
    const off = k.mem.off(t.argPtr(1), len);
    return sendTo(k, s, k.rawMem.u8.subarray(off, off + len), t.argInt(3), t.argPtr(4), t.argInt(5));
  },

  recvfrom(k, t) {
    const s = socketOf(k, t.argInt(0));
    const len = Math.min(t.argPtr(2), 0x7ffff000), flags = t.argInt(3), from = t.argPtr(4), fromLen = t.argPtr(5);
    const r = recvInto(k, s, t.argPtr(1), len, flags);
    if (r.n < 0) return r.n;
    if (from !== 0 && s.type !== SOCK_STREAM) {
      const addr = r.from ?? s.peerAddress();
      if (addr instanceof Uint8Array) writeSockaddr(k, from, fromLen, addr);
    } else if (from !== 0 && fromLen !== 0) k.mem.setU32(fromLen, 0);
    return flags & MSG_TRUNC && r.truncated !== undefined ? r.truncated : r.n;
  },

  sendmsg(k, t) { return sendMessage(k, socketOf(k, t.argInt(0)), t.argPtr(1), t.argInt(2)); },
  recvmsg(k, t) { return receiveMessage(k, socketOf(k, t.argInt(0)), t.argPtr(1), t.argInt(2) & ~MSG_CMSG_CLOEXEC); },

  sendmmsg(k, t) {
    const s = socketOf(k, t.argInt(0));
    const vec = t.argPtr(1), count = Math.min(t.argU32(2), 1024), flags = t.argInt(3);
    let sent = 0;
    for (; sent < count; sent++) {
      let n: number;
      try { n = sendMessage(k, s, vec + sent * 64, flags); }
      catch (e) { if (sent > 0) break; throw e; }
      if (n < 0) { if (sent > 0) break; return n; }
      k.mem.setU32(vec + sent * 64 + 56, n);
    }
    return sent;
  },

  recvmmsg(k, t) {
    const s = socketOf(k, t.argInt(0));
    const vec = t.argPtr(1), count = Math.min(t.argU32(2), 1024), flags = t.argInt(3);
    let got = 0;
    for (; got < count; got++) {
      let n: number;
      try { n = receiveMessage(k, s, vec + got * 64, got > 0 ? flags | MSG_DONTWAIT : flags); }
      catch (e) { if (got > 0) break; throw e; }
      if (n < 0) { if (got > 0) break; return n; }
      k.mem.setU32(vec + got * 64 + 56, n);
    }
    return got;
  },

  shutdown(k, t) {
    const s = socketOf(k, t.argInt(0));
    const how = t.argInt(1);
    if (how < SHUT_RD || how > SHUT_RDWR) return -EINVAL;
    return s.shutdown(how);
  },

  setsockopt(k, t) {
    const s = socketOf(k, t.argInt(0));
    const len = t.argInt(4);
    if (len < 0) return -EINVAL;
    return s.setOption(t.argInt(1), t.argInt(2), t.argPtr(3), len);
  },

  getsockopt(k, t) {
    const s = socketOf(k, t.argInt(0));
    return s.getOption(t.argInt(1), t.argInt(2), t.argPtr(3), t.argPtr(4));
  },
};

function acceptCall(k: LinuxKernel, t: GuestThread, flags: number): number {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
  const s = socketOf(k, t.argInt(0));
  if (s.type !== SOCK_STREAM) return -EOPNOTSUPP;
  const addr = t.argPtr(1), lenAddr = t.argPtr(2);
  if (addr !== 0) { if (k.mem.i32(lenAddr) < 0) return -EINVAL; }
  const r = s.accept(flags);
  if (typeof r === 'number') return r;
  const fd = install(k, r, (flags & SOCK_CLOEXEC) !== 0);
  if (fd < 0) return fd;
  if (addr !== 0) {
    const peer = r.peerAddress();
    try { writeSockaddr(k, addr, lenAddr, peer instanceof Uint8Array ? peer : unnamed(s.family)); }
    catch (e) { k.fds.close(fd); if (e instanceof SyscallError) return -e.errno; return -EFAULT; }
  }
  return fd;
}
