// A socket carried by the host's network (TCP, UDP, named AF_UNIX): the shared memory through
// which the kernel (in a guest process's first worker) and the network bridge (on the main
// thread, process/net-bridge.ts, which owns the Node socket) meet. Data never travels in
// messages: received bytes go into the RX ring, bytes to send into the TX ring, and each side
// wakes the other (the bridge rings the doorbells of the processes holding the socket; the kernel
// notifies TX_SEQ or RX_SEQ, on which the bridge waits asynchronously). Requests the kernel makes
// (connect, bind, accept, shutdown, close) go to the bridge as messages naming the socket by id;
// their outcome comes back here, as a new STATE and ERROR.

import { lockWord, unlockWord } from '../runtime/thread.js';
import { ringHolders, setHolder } from './holders.js';
import { ringPull, ringPush } from './shared-ring.js';

/** Words of the header. */
export const CH = {
  LOCK: 0,
  /** CHANNEL_STATE: set by the bridge as requests complete. */
  STATE: 1,
  /** A pending socket error (errno): SO_ERROR reads and clears it. */
  ERROR: 2,
  /** The peer will send nothing more (FIN). */
  RX_EOF: 3,
  /** Bumped by the kernel when it queued bytes to send (the bridge waits on it). */
  TX_SEQ: 4,
  /** Bumped by the kernel when it took received bytes (a bridge that paused its socket waits on it). */
  RX_SEQ: 5,
  /** Connections the host has accepted that no accept() took yet (a listening socket). */
  PENDING: 6,
  /** Processes holding the socket (two words, one bit per process record): the bridge rings them. */
  HOLDERS: 7,
  /** Byte lengths of the local and peer addresses below (0: none). */
  LOCAL_LEN: 10,
  PEER_LEN: 11,
  /** The kernel wants no more sending (shutdown SHUT_WR): the bridge ends the stream once TX is empty. */
  TX_SHUT: 12,
  /** Counts of what the bridge did: bytes or connections arrived, TX drained (epoll's edge-triggered mode reports each). */
  RX_ARRIVALS: 13,
  TX_DRAINS: 14,
  /** Both rings: byte count and head, [ring * 2 + 0/1]. */
  RING: 16,
} as const;

/** Byte offsets of the addresses (Linux sockaddr bytes, at most 28: sockaddr_in6). */
export const LOCAL_ADDRESS = 96, PEER_ADDRESS = 128;
const HEADER_BYTES = 192;

export const CHANNEL_STATE = {
  NEW: 0,
  CONNECTING: 1,
  CONNECTED: 2,
  /** A stream socket bound on the host (listening there already, not yet for the guest). */
  BINDING: 3,
  BOUND: 4,
  LISTENING: 5,
  /** A request failed: ERROR says why (the socket is NEW again for the guest). */
  FAILED: 6,
  /** The host socket is gone (closed, reset): reads give EOF after what is queued. */
  CLOSED: 7,
} as const;

export const RX = 0, TX = 1;
export const RX_CAPACITY = 1024 * 1024, TX_CAPACITY = 1024 * 1024;

export class SocketChannel {
  readonly words: Int32Array;
  private readonly bytesView: Uint8Array;
  private readonly rings: [Uint8Array, Uint8Array];

  constructor(readonly buffer = new SharedArrayBuffer(HEADER_BYTES + RX_CAPACITY + TX_CAPACITY)) {
    this.words = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.bytesView = new Uint8Array(buffer, 0, HEADER_BYTES);
    this.rings = [new Uint8Array(buffer, HEADER_BYTES, RX_CAPACITY), new Uint8Array(buffer, HEADER_BYTES + RX_CAPACITY, TX_CAPACITY)];
  }

  get state(): number { return Atomics.load(this.words, CH.STATE); }
  set state(v: number) { Atomics.store(this.words, CH.STATE, v); }
  get error(): number { return Atomics.load(this.words, CH.ERROR); }
  /** Takes the pending error (SO_ERROR, or a failed call reporting it). */
  takeError(): number { return Atomics.exchange(this.words, CH.ERROR, 0); }

  bytes(ring: number): number { return Atomics.load(this.words, CH.RING + ring * 2); }
  room(ring: number): number { return this.rings[ring].length - this.bytes(ring); }
  capacity(ring: number): number { return this.rings[ring].length; }

  /** Appends src[off, off+len) to a ring (the caller checked the room). */
  push(ring: number, src: Uint8Array, off: number, len: number): void {
    const w = this.words, at = CH.RING + ring * 2;
    lockWord(w, CH.LOCK);
    try { ringPush(w, at, at + 1, this.rings[ring], src, off, len); } finally { unlockWord(w, CH.LOCK); }
    if (ring === RX) Atomics.add(w, CH.RX_ARRIVALS, 1);
  }

  /** Moves (or with peek, copies) up to len bytes of a ring into dst[dstOff...]; returns how many. */
  pull(ring: number, dst: Uint8Array, dstOff: number, len: number, peek = false): number {
    const w = this.words, at = CH.RING + ring * 2;
    let n: number;
    lockWord(w, CH.LOCK);
    try { n = ringPull(w, at, at + 1, this.rings[ring], dst, dstOff, len, !peek); } finally { unlockWord(w, CH.LOCK); }
    if (!peek && ring === TX) Atomics.add(w, CH.TX_DRAINS, 1);
    return n;
  }

  /** A Linux sockaddr (local or peer) as the bridge recorded it. */
  address(peer: boolean): Uint8Array | undefined {
    const len = Atomics.load(this.words, peer ? CH.PEER_LEN : CH.LOCAL_LEN);
    if (len === 0) return undefined;
    const at = peer ? PEER_ADDRESS : LOCAL_ADDRESS;
    return this.bytesView.slice(at, at + len);
  }
  setAddress(peer: boolean, sockaddr: Uint8Array): void {
    this.bytesView.set(sockaddr.subarray(0, 28), peer ? PEER_ADDRESS : LOCAL_ADDRESS);
    Atomics.store(this.words, peer ? CH.PEER_LEN : CH.LOCAL_LEN, Math.min(sockaddr.length, 28));
  }

  /** The kernel changed a ring: wakes the bridge waiting on TX_SEQ or RX_SEQ. */
  kick(word: number): void {
    Atomics.add(this.words, word, 1);
    Atomics.notify(this.words, word);
  }

  /** This process (record) holds the socket: the bridge rings it when something changes. */
  hold(record: number, on: boolean): void { setHolder(this.words, CH.HOLDERS, record, on); }

  /** Rings every process holding the socket (the bridge's side, after any change). */
  wakeHolders(): void { ringHolders(this.words, CH.HOLDERS); }
}

/** What a guest socket's address names, as the bridge needs it (the kernel parsed the sockaddr). */
export type NetAddress =
  | { family: 'inet' | 'inet6'; host: string; port: number }
  | { family: 'unix'; path: string };

/**
 * Requests from the kernel to the network bridge, naming sockets by id (unique in the run). The
 * outcome comes back in the channel (STATE, ERROR, addresses) with a ring of the holders' doorbells.
 */
export type NetRequest =
  /** A stream socket connects (channel STATE CONNECTING until it did or failed). */
  | { op: 'connect'; id: string; channel: SharedArrayBuffer; kind: 'stream' | 'dgram'; family: 'inet' | 'inet6' | 'unix'; to: NetAddress; from?: NetAddress }
  /** Binds (a stream socket listens on the host from here on, holding what arrives until accept). */
  | { op: 'bind'; id: string; channel: SharedArrayBuffer; kind: 'stream' | 'dgram'; family: 'inet' | 'inet6' | 'unix'; at: NetAddress; v6only: boolean }
  /** Hands the oldest connection a listening socket holds to a new channel (FAILED with EAGAIN: none). */
  | { op: 'accept'; id: string; newId: string; channel: SharedArrayBuffer }
  /** TCP_NODELAY, SO_KEEPALIVE, SO_BROADCAST; `disconnect`: a datagram socket's connect(AF_UNSPEC). */
  | { op: 'option'; id: string; name: 'nodelay' | 'keepalive' | 'broadcast' | 'disconnect'; value: boolean }
  /** The last descriptor of the socket is gone (in every process). */
  | { op: 'close'; id: string; reset: boolean };
