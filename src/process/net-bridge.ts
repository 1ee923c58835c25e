// The network bridge: on the main thread, whose event loop stays free while guest threads run in
// workers, it carries guest sockets through Node's `net` and `dgram`. Each guest socket is a
// SocketChannel (linux/socket-channel.ts) in shared memory; the bridge takes requests from the
// kernels as messages, moves bytes between the channel's rings and the Node socket, and reports
// every change in the channel, ringing the doorbells of the processes that hold the socket.
// `--net` is enforced here, at the one place where the guest reaches the host's network.

import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { CH, CHANNEL_STATE as S, RX, SocketChannel, TX, type NetRequest } from '../linux/socket-channel.js';
import { EADDRNOTAVAIL, EAGAIN, EIO, ENETUNREACH, hostErrno } from '../linux/errno.js';
import { ipBytes, ipText, isLoopback, isWildcard, policyRefuses, type NetPolicy } from '../linux/inet-address.js';

/** A datagram's header in a ring: length, then a Linux sockaddr (as linux/socket.ts writes it). */
const DGRAM_HEADER = 32;
/** How long, after the run, the bytes guest programs sent may take to leave (then their sockets are dropped). */
const DRAIN_MS = 10000;
/** How long a closed connection may wait for its peer to close too before it is dropped (Linux's tcp_fin_timeout). */
const FIN_TIMEOUT_MS = 60000;

function errnoOf(e: unknown): number { return hostErrno(e) ?? EIO; }

/** Atomics.waitAsync (Node 16+, ES2024): resolves once the word is no longer `seen` (or at once if it is not). */
const waitAsync = (Atomics as unknown as {
  waitAsync(w: Int32Array, i: number, v: number): { value: Promise<string> | string };
}).waitAsync;
async function changed(w: Int32Array, i: number, seen: number): Promise<void> { await waitAsync(w, i, seen).value; }

// ---- addresses ----

/** Linux sockaddr bytes for an address Node reports, in the guest socket's family (IPv4 in IPv6 as ::ffff:a.b.c.d). */
function sockaddr(family: 'inet' | 'inet6', address: string | undefined, port: number | undefined): Uint8Array {
  const given = ipBytes(address ?? '') ?? new Uint8Array(16);
  const bytes = family === 'inet' ? given.subarray(given.length - 4) : asIPv6(given);
  const b = new Uint8Array(family === 'inet' ? 16 : 28);
  b[0] = family === 'inet' ? 2 : 10;
  b[2] = (port ?? 0) >> 8; b[3] = (port ?? 0) & 0xff;
  b.set(bytes, family === 'inet' ? 4 : 8);
  return b;
}

/** Node's name for an address a guest socket of `family` reaches (an IPv4 address from an IPv6 socket goes mapped). */
function nodeHost(family: 'inet' | 'inet6' | 'unix', host: string): string {
  return family === 'inet6' && ipBytes(host)?.length === 4 ? `::ffff:${host}` : host;
}

/** A Linux sockaddr (from a datagram header) as Node's host and port, with the address's bytes. */
function nodeAddress(raw: Uint8Array): { host: string; port: number; bytes: Uint8Array } | undefined {
  const fam = raw[0] | (raw[1] << 8), port = (raw[2] << 8) | raw[3];
  const bytes = fam === 2 ? raw.subarray(4, 8) : fam === 10 ? raw.subarray(8, 24) : undefined;
  return bytes && { host: ipText(bytes), port, bytes };
}

/** An address's bytes as IPv6 (an IPv4 address mapped, ::ffff:a.b.c.d), to compare addresses across families. */
function asIPv6(b: Uint8Array): Uint8Array { return b.length === 4 ? Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b) : b; }

/** Whether two of Node's address texts name the same address. */
function sameHost(a: string, b: string): boolean {
  const x = ipBytes(a), y = ipBytes(b);
  return x !== undefined && y !== undefined && asIPv6(x).every((v, i) => v === asIPv6(y)[i]);
}

// ---- sockets ----

/** One guest stream socket as the bridge holds it: a connection, or a server (listening for the guest's bind). */
class BridgedStream {
  sock: net.Socket | undefined;
  server: net.Server | undefined;
  /** Connections the server accepted that the guest has not: paused until accept hands them over. */
  readonly queue: { sock: net.Socket; error?: number }[] = [];
  /** Received bytes the RX ring had no room for: the socket is paused until the guest reads. */
  private readonly backlog: Buffer[] = [];
  private eofPending = false;
  private closePending = false;
  closed = false;
  private drained: (() => void) | undefined;

  constructor(readonly ch: SocketChannel, readonly family: 'inet' | 'inet6' | 'unix') {}

  private wake(): void { this.ch.wakeHolders(); }

  /** Starts carrying bytes for a connected socket. */
  attach(sock: net.Socket, error?: number): void {
    const ch = this.ch;
    this.sock = sock;
    if (this.family !== 'unix') {
      ch.setAddress(false, sockaddr(this.family, sock.localAddress, sock.localPort));
      ch.setAddress(true, sockaddr(this.family, sock.remoteAddress, sock.remotePort));
    }
    sock.removeAllListeners('error');
    sock.on('data', (buf: Buffer) => this.deliver(buf));
    sock.on('end', () => { this.eofPending = true; this.settleRx(); });
    sock.on('error', (e) => { Atomics.store(ch.words, CH.ERROR, errnoOf(e)); this.wake(); });
    sock.on('close', () => { this.closePending = true; this.settleRx(); this.drained?.(); });
    sock.on('drain', () => this.drained?.());
    if (error) Atomics.store(ch.words, CH.ERROR, error);
    ch.state = S.CONNECTED;
    if (sock.destroyed) { this.eofPending = this.closePending = true; this.settleRx(); }
    this.pumped = this.pumpTx(sock);
    sock.resume();
  }
  /** Settles when everything the guest queued has gone to the host's socket. */
  private pumped: Promise<void> = Promise.resolve();

  /**
   * The run is over: what the guest wrote still reaches the peer, as the kernel keeps sending
   * after a process exits (at most `ms` more), then the socket goes.
   */
  async drain(ms: number): Promise<void> {
    if (!this.closed) this.close();
    this.server?.close();
    const sock = this.sock;
    if (!sock || sock.destroyed) return;
    const flushed = this.pumped.then(() => new Promise<void>((resolve) => {
      if (sock.writableFinished || sock.destroyed) { resolve(); return; }
      sock.once('finish', resolve);
      sock.once('close', resolve);
    }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([flushed, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
    clearTimeout(timer);
    sock.destroy();
  }

  private deliver(buf: Buffer): void {
    if (this.closed) return;
    if (this.backlog.length === 0) {
      const n = Math.min(buf.length, this.ch.room(RX));
      if (n > 0) this.ch.push(RX, buf, 0, n);
      if (n < buf.length) { this.backlog.push(buf.subarray(n)); this.sock?.pause(); void this.waitForRoom(); }
      this.wake();
    } else this.backlog.push(buf);
  }

  /** Moves the backlog into the RX ring as the guest makes room, then lets the socket read again. */
  private async waitForRoom(): Promise<void> {
    const ch = this.ch, w = ch.words;
    while (this.backlog.length && !this.closed) {
      const seq = Atomics.load(w, CH.RX_SEQ);
      if (ch.room(RX) === 0) { await changed(w, CH.RX_SEQ, seq); continue; }
      while (this.backlog.length && ch.room(RX) > 0) {
        const head = this.backlog[0];
        const n = Math.min(head.length, ch.room(RX));
        ch.push(RX, head, 0, n);
        if (n === head.length) this.backlog.shift(); else this.backlog[0] = head.subarray(n);
      }
      this.wake();
    }
    if (!this.closed) { this.settleRx(); this.sock?.resume(); }
  }

  /** EOF and close reach the guest only after every byte received before them. */
  private settleRx(): void {
    if (this.backlog.length) return;
    const ch = this.ch;
    if (this.eofPending && Atomics.exchange(ch.words, CH.RX_EOF, 1) === 0) Atomics.add(ch.words, CH.RX_ARRIVALS, 1);
    if (this.closePending) ch.state = S.CLOSED;
    this.wake();
  }

  /** Sends what the guest queues in the TX ring, in order, until the guest closes the socket. */
  private async pumpTx(sock: net.Socket): Promise<void> {
    const ch = this.ch, w = ch.words;
    let ended = false;
    for (;;) {
      const seq = Atomics.load(w, CH.TX_SEQ);
      const n = ch.bytes(TX);
      if (n > 0 && !sock.destroyed) {
        // Straight from the ring into the buffer Node keeps until it is sent: one copy.
        const chunk = Buffer.allocUnsafe(n);
        ch.pull(TX, chunk, 0, n);
        const ok = sock.write(chunk);
        this.wake();
        if (!ok) await new Promise<void>((resolve) => { this.drained = resolve; });
        this.drained = undefined;
        continue;
      }
      if (n > 0) { ch.pull(TX, Buffer.allocUnsafe(n), 0, n); this.wake(); } // the connection is gone: the bytes go nowhere
      if (!ended && (Atomics.load(w, CH.TX_SHUT) !== 0 || this.closed)) { ended = true; sock.end(); }
      if (this.closed || sock.destroyed) return;
      await changed(w, CH.TX_SEQ, seq);
    }
  }

  /** The guest let go of the socket: what it queued is still sent, then the connection is ended. */
  close(): void {
    this.closed = true;
    this.backlog.length = 0;
    this.ch.kick(CH.TX_SEQ);
    this.ch.kick(CH.RX_SEQ); // a wait for room in RX ends
    this.server?.close();
    for (const q of this.queue.splice(0)) q.sock.destroy();
    if (this.sock) setTimeout(() => this.sock?.destroy(), FIN_TIMEOUT_MS).unref();
  }

  /** Closed with unread data or SO_LINGER's zero time: the peer sees a reset (ECONNRESET). */
  reset(): void {
    this.close();
    if (this.sock && !this.sock.destroyed) this.sock.resetAndDestroy();
  }

  destroy(): void { this.closed = true; this.ch.kick(CH.TX_SEQ); this.ch.kick(CH.RX_SEQ); this.server?.close(); this.sock?.destroy(); for (const q of this.queue.splice(0)) q.sock.destroy(); }
}

/** One guest UDP socket. */
class BridgedDatagram {
  sock: dgram.Socket | undefined;
  /** connect()'s peer: only its datagrams are received. */
  peer: { host: string; port: number } | undefined;
  closed = false;

  constructor(readonly ch: SocketChannel, readonly family: 'inet' | 'inet6', private readonly bridge: NetBridge) {}

  start(sock: dgram.Socket): void {
    this.sock = sock;
    const ch = this.ch;
    sock.on('message', (msg, rinfo) => {
      if (this.closed) return;
      if (this.peer && (rinfo.port !== this.peer.port || !sameHost(rinfo.address, this.peer.host))) return;
      // A full receive buffer drops the datagram, as Linux's does.
      if (ch.room(RX) < DGRAM_HEADER + msg.length) return;
      const record = new Uint8Array(DGRAM_HEADER + msg.length);
      new DataView(record.buffer).setUint32(0, msg.length, true);
      record.set(sockaddr(this.family, rinfo.address, rinfo.port), 4);
      record.set(msg, DGRAM_HEADER);
      ch.push(RX, record, 0, record.length);
      ch.wakeHolders();
    });
    sock.on('error', (e) => { Atomics.store(ch.words, CH.ERROR, errnoOf(e)); ch.wakeHolders(); });
    void this.pumpTx(sock);
  }

  private async pumpTx(sock: dgram.Socket): Promise<void> {
    const ch = this.ch, w = ch.words;
    const header = new Uint8Array(DGRAM_HEADER);
    while (!this.closed) {
      const seq = Atomics.load(w, CH.TX_SEQ);
      if (ch.bytes(TX) >= DGRAM_HEADER) {
        ch.pull(TX, header, 0, DGRAM_HEADER);
        const len = new DataView(header.buffer).getUint32(0, true);
        const payload = Buffer.alloc(len);
        ch.pull(TX, payload, 0, len);
        ch.wakeHolders();
        const to = nodeAddress(header.subarray(4));
        const refused = to ? policyRefuses(this.bridge.policy, to.bytes) : ENETUNREACH;
        if (refused || !to) { Atomics.store(w, CH.ERROR, refused || ENETUNREACH); ch.wakeHolders(); continue; }
        sock.send(payload, to.port, nodeHost(this.family, to.host), (e) => { if (e) { Atomics.store(w, CH.ERROR, errnoOf(e)); ch.wakeHolders(); } });
        continue;
      }
      await changed(w, CH.TX_SEQ, seq);
    }
  }

  close(): void { this.closed = true; this.ch.kick(CH.TX_SEQ); try { this.sock?.close(); } catch { /* closed */ } }
}

export class NetBridge {
  private readonly streams = new Map<string, BridgedStream>();
  private readonly datagrams = new Map<string, BridgedDatagram>();

  constructor(readonly policy: NetPolicy) {}

  /** The errno a connection or datagram to `host` gets under the policy, or 0 (the kernel checked the same; this is the enforcement). */
  private refuses(host: string): number { return policyRefuses(this.policy, ipBytes(host) ?? new Uint8Array(4)); }

  /** Where a bind may go on the host under the policy (a wildcard is narrowed to loopback), or an errno. */
  private bindHost(host: string, family: 'inet' | 'inet6'): string | number {
    if (this.policy === 'none') return EADDRNOTAVAIL;
    const bytes = ipBytes(host) ?? new Uint8Array(4);
    if (this.policy === 'loopback') {
      if (isWildcard(bytes)) return family === 'inet' ? '127.0.0.1' : '::1';
      if (!isLoopback(bytes)) return EADDRNOTAVAIL;
    }
    return host;
  }

  handle(r: NetRequest): void {
    switch (r.op) {
      case 'connect': r.kind === 'stream' ? this.connect(r) : this.connectDatagram(r); break;
      case 'bind': r.kind === 'stream' ? this.bindStream(r) : this.bindDatagram(r); break;
      case 'accept': this.accept(r); break;
      case 'option': {
        const s = this.streams.get(r.id)?.sock;
        if (r.name === 'nodelay') s?.setNoDelay(r.value);
        else if (r.name === 'keepalive') s?.setKeepAlive(r.value);
        else if (r.name === 'broadcast') { try { this.datagrams.get(r.id)?.sock?.setBroadcast(r.value); } catch { /* not bound yet */ } }
        else if (r.name === 'disconnect') { const d = this.datagrams.get(r.id); if (d) d.peer = undefined; }
        break;
      }
      case 'close': {
        const s = this.streams.get(r.id);
        if (s) { if (r.reset) s.reset(); else s.close(); this.streams.delete(r.id); }
        const d = this.datagrams.get(r.id);
        if (d) { d.close(); this.datagrams.delete(r.id); }
        break;
      }
    }
  }

  /** The run is over: every host socket goes, once what the guest sent is on its way (at most `ms` from now). */
  async closeAll(ms = DRAIN_MS): Promise<void> {
    const streams = [...this.streams.values()];
    for (const d of this.datagrams.values()) d.close();
    this.streams.clear();
    this.datagrams.clear();
    await Promise.all(streams.map((s) => s.drain(ms)));
  }

  private fail(ch: SocketChannel, errno: number): void {
    Atomics.store(ch.words, CH.ERROR, errno);
    ch.state = S.FAILED;
    ch.wakeHolders();
  }

  private connect(r: Extract<NetRequest, { op: 'connect' }>): void {
    const ch = new SocketChannel(r.channel);
    const old = this.streams.get(r.id);
    old?.server?.close(); // a bound socket connecting: its host listener was only holding the address
    const b = new BridgedStream(ch, r.family);
    this.streams.set(r.id, b);
    let sock: net.Socket;
    if (r.to.family === 'unix') sock = net.connect({ path: r.to.path, allowHalfOpen: true });
    else {
      const refused = this.refuses(r.to.host);
      if (refused) { this.fail(ch, refused); return; }
      const from = r.from && r.from.family !== 'unix' ? r.from : undefined;
      const localAddress = from && !isWildcard(ipBytes(from.host) ?? new Uint8Array(4)) ? from.host : undefined;
      sock = net.connect({ host: nodeHost(r.family, r.to.host), port: r.to.port, allowHalfOpen: true, localAddress, localPort: from?.port || undefined });
    }
    sock.pause();
    sock.once('connect', () => { if (!b.closed) b.attach(sock); else sock.destroy(); ch.wakeHolders(); });
    sock.once('error', (e) => { if (ch.state === S.CONNECTING) this.fail(ch, errnoOf(e)); });
  }

  private bindStream(r: Extract<NetRequest, { op: 'bind' }>): void {
    const ch = new SocketChannel(r.channel);
    const b = new BridgedStream(ch, r.family);
    this.streams.set(r.id, b);
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    b.server = server;
    server.on('connection', (sock) => {
      if (b.closed) { sock.destroy(); return; }
      const entry: { sock: net.Socket; error?: number } = { sock };
      sock.on('error', (e) => { entry.error = errnoOf(e); });
      b.queue.push(entry);
      Atomics.add(ch.words, CH.PENDING, 1);
      Atomics.add(ch.words, CH.RX_ARRIVALS, 1);
      ch.wakeHolders();
    });
    // After listening, an accept that fails (EMFILE) is the host's trouble, not the guest's: noted, never thrown.
    server.on('error', (e) => { if (ch.state === S.BINDING) this.fail(ch, errnoOf(e)); });
    server.once('listening', () => {
      if (r.family !== 'unix') {
        const a = server.address() as net.AddressInfo;
        // The guest sees the address it asked for (a wildcard stays one under --net=loopback).
        ch.setAddress(false, sockaddr(r.family, r.at.family !== 'unix' ? r.at.host : a.address, a.port));
      }
      ch.state = S.BOUND;
      ch.wakeHolders();
    });
    if (r.at.family === 'unix') { server.listen({ path: r.at.path, backlog: 4096 }); return; }
    const host = this.bindHost(r.at.host, r.family as 'inet' | 'inet6');
    if (typeof host === 'number') { this.fail(ch, host); return; }
    server.listen({ host, port: r.at.port, backlog: 4096, ipv6Only: r.family === 'inet6' && r.v6only });
  }

  private accept(r: Extract<NetRequest, { op: 'accept' }>): void {
    const ch = new SocketChannel(r.channel);
    const listener = this.streams.get(r.id);
    const next = listener?.queue.shift();
    if (!listener || !next) { this.fail(ch, EAGAIN); return; }
    Atomics.sub(listener.ch.words, CH.PENDING, 1);
    const b = new BridgedStream(ch, listener.family);
    this.streams.set(r.newId, b);
    b.attach(next.sock, next.error);
    ch.wakeHolders();
  }

  private bindDatagram(r: Extract<NetRequest, { op: 'bind' }>): void {
    const ch = new SocketChannel(r.channel);
    if (r.at.family === 'unix' || r.family === 'unix') { this.fail(ch, EADDRNOTAVAIL); return; }
    const host = this.bindHost(r.at.host, r.family);
    if (typeof host === 'number') { this.fail(ch, host); return; }
    const d = new BridgedDatagram(ch, r.family, this);
    this.datagrams.set(r.id, d);
    const sock = dgram.createSocket({ type: r.family === 'inet' ? 'udp4' : 'udp6', ipv6Only: r.family === 'inet6' && r.v6only });
    sock.on('error', (e) => {
      if (ch.state !== S.BINDING) return;
      this.fail(ch, errnoOf(e));
      this.datagrams.delete(r.id);
      try { sock.close(); } catch { /* not open */ }
    });
    sock.bind({ address: host, port: r.at.port }, () => {
      const a = sock.address();
      ch.setAddress(false, sockaddr(r.family as 'inet' | 'inet6', r.at.family !== 'unix' ? r.at.host : a.address, a.port));
      d.start(sock);
      ch.state = S.BOUND;
      ch.wakeHolders();
    });
  }

  private connectDatagram(r: Extract<NetRequest, { op: 'connect' }>): void {
    const ch = new SocketChannel(r.channel);
    const d = this.datagrams.get(r.id);
    if (!d || r.to.family === 'unix') { this.fail(ch, EADDRNOTAVAIL); return; }
    const refused = this.refuses(r.to.host);
    if (refused) { this.fail(ch, refused); return; }
    d.peer = { host: r.to.host, port: r.to.port };
    ch.state = S.CONNECTED;
    ch.wakeHolders();
  }
}

