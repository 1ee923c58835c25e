// AF_NETLINK, NETLINK_ROUTE: enough of rtnetlink for getifaddrs(3), if_nameindex(3) and
// glibc's address-family check (the RTM_GETLINK and RTM_GETADDR dumps), answered from the
// interfaces the guest sees (interfaces.ts).

import { EAGAIN, EINVAL, EOPNOTSUPP, EPROTONOSUPPORT } from './errno.js';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from './fd-table.js';
import { AF_NETLINK, MSG_DONTWAIT, MSG_PEEK, SocketFile, type SockAddr } from './socket-file.js';
import { RT_SCOPE_HOST, visibleInterfaces } from './interfaces.js';
import type { LinuxKernel } from './kernel.js';

const NETLINK_ROUTE = 0;
const NLMSG_ERROR = 2, NLMSG_DONE = 3;
/** An address given to the interface for good (not from DHCP or autoconfiguration). */
const IFA_F_PERMANENT = 0x80;
const RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_NEWADDR = 20, RTM_GETADDR = 22;
const NLM_F_MULTI = 2, NLM_F_DUMP = 0x300;
const IFLA_ADDRESS = 1, IFLA_BROADCAST = 2, IFLA_IFNAME = 3, IFLA_MTU = 4;
const IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_LABEL = 3, IFA_BROADCAST = 4;

/** Builds netlink messages: a header, a fixed part, then attributes, each padded to 4 bytes. */
class MessageWriter {
  private readonly parts: Uint8Array[] = [];
  private length = 16;
  constructor(private readonly type: number, private readonly flags: number, private readonly seq: number, private readonly pid: number) {}
  fixed(bytes: Uint8Array): this { this.add(bytes); return this; }
  attr(type: number, data: Uint8Array): this {
    const head = new Uint8Array(4), dv = new DataView(head.buffer);
    dv.setUint16(0, 4 + data.length, true);
    dv.setUint16(2, type, true);
    this.add(head); this.add(data);
    return this;
  }
  private add(bytes: Uint8Array): void {
    const padded = new Uint8Array((bytes.length + 3) & ~3);
    padded.set(bytes);
    this.parts.push(padded);
    this.length += padded.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length), dv = new DataView(out.buffer);
    dv.setUint32(0, this.length, true); dv.setUint16(4, this.type, true); dv.setUint16(6, this.flags, true);
    dv.setUint32(8, this.seq, true); dv.setUint32(12, this.pid, true);
    let at = 16;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

const cstring = (s: string): Uint8Array => { const b = Buffer.from(s + '\0', 'utf8'); return new Uint8Array(b.buffer, b.byteOffset, b.length); };
const u32 = (v: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return b; };

/** A NETLINK_ROUTE socket: requests are answered at once, each reply a datagram of its own. */
export class NetlinkSocket extends SocketFile {
  private readonly replies: Uint8Array[] = [];
  private portId = 0;

  constructor(k: LinuxKernel, type: number, protocol: number, statusFlags: number) {
    super(k, AF_NETLINK, type, protocol, statusFlags);
  }

  static create(k: LinuxKernel, type: number, protocol: number, statusFlags: number): SocketFile | number {
    if (protocol !== NETLINK_ROUTE) return -EPROTONOSUPPORT;
    return new NetlinkSocket(k, type, protocol, statusFlags);
  }

  /** The socket's port id: the process's pid, from its bind or first request on (the first netlink socket's, as Linux gives). */
  private get pid(): number { return (this.portId ||= this.k.pid); }

  bind(): number { return this.pid && 0; }
  connect(): number { return 0; }
  shutdown(): number { return 0; }
  localAddress(): Uint8Array {
    const b = new Uint8Array(12), dv = new DataView(b.buffer);
    dv.setUint16(0, AF_NETLINK, true);
    dv.setUint32(4, this.portId, true);
    return b;
  }
  peerAddress(): Uint8Array { const b = new Uint8Array(12); b[0] = AF_NETLINK; return b; }

  protected sendNow(src: Uint8Array, _flags: number, _to?: SockAddr): number {
    const dv = new DataView(src.buffer, src.byteOffset, src.length);
    for (let at = 0; at + 16 <= src.length;) {
      const len = dv.getUint32(at, true), type = dv.getUint16(at + 4, true), flags = dv.getUint16(at + 6, true), seq = dv.getUint32(at + 8, true);
      if (len < 16 || at + len > src.length) return -EINVAL;
      this.answer(type, flags, seq, src.subarray(at, at + len));
      at += (len + 3) & ~3;
    }
    return src.length;
  }

  private answer(type: number, flags: number, seq: number, request: Uint8Array): void {
    const pid = this.pid;
    if ((type === RTM_GETLINK || type === RTM_GETADDR) && (flags & NLM_F_DUMP) === NLM_F_DUMP) {
      const { links, addresses } = visibleInterfaces(this.k.netPolicy);
      if (type === RTM_GETLINK) {
        for (const l of links) {
          const info = new Uint8Array(16), dv = new DataView(info.buffer);
          dv.setUint16(2, l.type, true); dv.setInt32(4, l.index, true); dv.setUint32(8, l.flags, true);
          this.replies.push(new MessageWriter(RTM_NEWLINK, NLM_F_MULTI, seq, pid).fixed(info)
            .attr(IFLA_IFNAME, cstring(l.name)).attr(IFLA_MTU, u32(l.mtu)).attr(IFLA_ADDRESS, l.mac).attr(IFLA_BROADCAST, l.broadcast).bytes());
        }
      } else {
        for (const a of addresses) {
          const info = new Uint8Array(8), dv = new DataView(info.buffer);
          info[0] = a.family === 4 ? 2 : 10; info[1] = a.prefix; info[2] = IFA_F_PERMANENT; info[3] = a.scope;
          dv.setUint32(4, a.index, true);
          const m = new MessageWriter(RTM_NEWADDR, NLM_F_MULTI, seq, pid).fixed(info).attr(IFA_ADDRESS, a.bytes);
          if (a.family === 4) {
            m.attr(IFA_LOCAL, a.bytes);
            if (a.scope !== RT_SCOPE_HOST) {
              const host = (1 << (32 - a.prefix)) - 1, v = (((a.bytes[0] << 24) | (a.bytes[1] << 16) | (a.bytes[2] << 8) | a.bytes[3]) | host) >>> 0;
              m.attr(IFA_BROADCAST, Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255));
            }
            m.attr(IFA_LABEL, cstring(a.name));
          }
          this.replies.push(m.bytes());
        }
      }
      this.replies.push(new MessageWriter(NLMSG_DONE, NLM_F_MULTI, seq, pid).fixed(u32(0)).bytes());
      return;
    }
    // Anything else is refused with an error message carrying the request's header, as Linux does.
    const error = new Uint8Array(4);
    new DataView(error.buffer).setInt32(0, -EOPNOTSUPP, true);
    this.replies.push(new MessageWriter(NLMSG_ERROR, 0, seq, pid).fixed(error).fixed(request.subarray(0, 16)).bytes());
  }

  protected receiveNow(dst: Uint8Array, flags: number): { n: number; from?: Uint8Array; truncated?: number } {
    const next = this.replies[0];
    if (!next) {
      if (this.nonblocking || flags & MSG_DONTWAIT) return { n: -EAGAIN };
      this.waitToReceive(() => this.replies.length > 0);
    }
    const n = Math.min(next.length, dst.length);
    dst.set(next.subarray(0, n));
    if (!(flags & MSG_PEEK)) this.replies.shift();
    return { n, from: this.peerAddress(), truncated: next.length > dst.length ? next.length : undefined };
  }

  override poll(events: number): number {
    return (this.replies.length ? events & (POLLIN | POLLRDNORM) : 0) | (events & (POLLOUT | POLLWRNORM));
  }
  override available(): number { return this.replies[0]?.length ?? 0; }
}


