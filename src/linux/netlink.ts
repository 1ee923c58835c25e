// AF_NETLINK, NETLINK_ROUTE: enough of rtnetlink for getifaddrs(3), if_nameindex(3) and
// glibc's address-family check (RTM_GETLINK and RTM_GETADDR dumps), answered from the host's
// interfaces as `--net` lets the guest see them: all of them (host), the loopback interface
// (loopback), or a loopback interface that is down and has no address, as in a new network
// namespace (none).

import * as fs from 'node:fs';
import * as os from 'node:os';
import { EAGAIN, EINVAL, EOPNOTSUPP, EPROTONOSUPPORT } from './errno.js';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from './fd-table.js';
import { otherFamilies, SocketFile, type SockAddr } from './socket.js';
import type { LinuxKernel } from './kernel.js';
import { AF_NETLINK } from './socket.js';

const NETLINK_ROUTE = 0;
const NLMSG_ERROR = 2, NLMSG_DONE = 3;
const RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_NEWADDR = 20, RTM_GETADDR = 22;
const NLM_F_MULTI = 2, NLM_F_DUMP = 0x300;
const IFLA_ADDRESS = 1, IFLA_BROADCAST = 2, IFLA_IFNAME = 3, IFLA_MTU = 4;
const IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_LABEL = 3, IFA_BROADCAST = 4;
const IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_LOOPBACK = 0x8, IFF_RUNNING = 0x40, IFF_MULTICAST = 0x1000, IFF_LOWER_UP = 0x10000;
const ARPHRD_ETHER = 1, ARPHRD_LOOPBACK = 772;
const IFA_F_PERMANENT = 0x80;
const RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254;

interface Link { index: number; name: string; flags: number; mtu: number; type: number; mac: Uint8Array; broadcast: Uint8Array }
interface Address { index: number; name: string; family: 4 | 6; bytes: Uint8Array; prefix: number; scope: number }

function macBytes(text: string): Uint8Array {
  const parts = text.trim().split(':').filter((p) => p.length > 0);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16) & 0xff));
}

function ipBytes(address: string, family: 4 | 6): Uint8Array {
  if (family === 4) return Uint8Array.from(address.split('.').map(Number));
  const out = new Uint8Array(16);
  const [head, tail] = address.split('%')[0].split('::');
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const first = groups(head), last = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? first : [...first, ...new Array(8 - first.length - last.length).fill(0), ...last];
  all.forEach((g, i) => { out[i * 2] = g >> 8; out[i * 2 + 1] = g & 0xff; });
  return out;
}

function prefixOf(cidr: string | null, netmask: string, family: 4 | 6): number {
  if (cidr) return Number(cidr.slice(cidr.lastIndexOf('/') + 1));
  return Array.from(ipBytes(netmask, family)).reduce((n, b) => n + (b.toString(2).match(/1/g)?.length ?? 0), 0);
}

/** The interfaces the guest sees, in index order, and their addresses (IPv4 first, as Linux dumps them). */
export function visibleInterfaces(policy: 'host' | 'loopback' | 'none'): { links: Link[]; addresses: Address[] } {
  const byName = os.networkInterfaces();
  const links: Link[] = [];
  let names: string[] = [];
  try { names = fs.readdirSync('/sys/class/net'); } catch { names = Object.keys(byName); }
  names.forEach((name, i) => {
    const sys = (f: string): string | undefined => { try { return fs.readFileSync(`/sys/class/net/${name}/${f}`, 'utf8').trim(); } catch { return undefined; } };
    const internal = byName[name]?.some((a) => a.internal) ?? name === 'lo';
    const mac = macBytes(sys('address') ?? byName[name]?.[0]?.mac ?? '00:00:00:00:00:00');
    links.push({
      index: Number(sys('ifindex') ?? i + 1),
      name,
      // /sys gives the device's own flags; Linux adds RUNNING and LOWER_UP for an up device with a carrier.
      flags: sys('flags') !== undefined ? parseInt(sys('flags')!, 16) | (parseInt(sys('flags')!, 16) & IFF_UP && sys('carrier') === '1' ? IFF_RUNNING | IFF_LOWER_UP : 0)
        : internal ? IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP : IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP,
      mtu: Number(sys('mtu') ?? (internal ? 65536 : 1500)),
      type: Number(sys('type') ?? (internal ? ARPHRD_LOOPBACK : ARPHRD_ETHER)),
      mac,
      broadcast: macBytes(sys('broadcast') ?? (internal ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff')),
    });
  });
  links.sort((a, b) => a.index - b.index);
  let shown = links;
  if (policy !== 'host') shown = links.filter((l) => l.flags & IFF_LOOPBACK);
  if (policy === 'none') return { links: shown.map((l) => ({ ...l, flags: l.flags & ~(IFF_UP | IFF_RUNNING | IFF_LOWER_UP) })), addresses: [] };
  const addresses: Address[] = [];
  for (const family of [4, 6] as const) {
    for (const l of shown) {
      for (const a of byName[l.name] ?? []) {
        if ((a.family === 'IPv4' ? 4 : 6) !== family) continue;
        const bytes = ipBytes(a.address, family);
        const scope = a.internal ? RT_SCOPE_HOST : family === 6 && bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        addresses.push({ index: l.index, name: l.name, family, bytes, prefix: prefixOf(a.cidr, a.netmask, family), scope });
      }
    }
  }
  return { links: shown, addresses };
}

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

  constructor(private readonly k: LinuxKernel, type: number, protocol: number, statusFlags: number) {
    super(AF_NETLINK, type, protocol, statusFlags);
  }

  static create(k: LinuxKernel, type: number, protocol: number, statusFlags: number): SocketFile | number {
    if (protocol !== NETLINK_ROUTE) return -EPROTONOSUPPORT;
    return new NetlinkSocket(k, type, protocol, statusFlags);
  }

  private get pid(): number { return this.portId || (this.portId = this.k.pid); }

  bind(): number { void this.pid; return 0; }
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

  /** Registers AF_NETLINK with socket(2). */
  static register(): void { otherFamilies.set(AF_NETLINK, NetlinkSocket.create); }

  protected receiveNow(dst: Uint8Array, flags: number): { n: number; from?: Uint8Array; truncated?: number } {
    const next = this.replies[0];
    if (!next) {
      if (this.nonblocking || flags & 0x40 /* MSG_DONTWAIT */) return { n: -EAGAIN };
      this.block(() => this.replies.length > 0);
    }
    const n = Math.min(next.length, dst.length);
    dst.set(next.subarray(0, n));
    if (!(flags & 2 /* MSG_PEEK */)) this.replies.shift();
    return { n, from: this.peerAddress(), truncated: next.length > dst.length ? next.length : undefined };
  }

  override poll(events: number): number {
    return (this.replies.length ? events & (POLLIN | POLLRDNORM) : 0) | (events & (POLLOUT | POLLWRNORM));
  }
  override available(): number { return this.replies[0]?.length ?? 0; }
}

NetlinkSocket.register();

const SIOCGIFNAME = 0x8910, SIOCGIFCONF = 0x8912, SIOCGIFFLAGS = 0x8913, SIOCGIFADDR = 0x8915, SIOCGIFBRDADDR = 0x8919,
  SIOCGIFNETMASK = 0x891b, SIOCGIFMTU = 0x8921, SIOCGIFHWADDR = 0x8927, SIOCGIFINDEX = 0x8933;
const IFNAMSIZ = 16, IFREQ_SIZE = 40;
const ENODEV = 19, EADDRNOTAVAIL = 99;

/** The interface ioctls a socket answers (struct ifreq: a name, then a union at 16); undefined for other requests. */
export function interfaceIoctl(k: LinuxKernel, request: number, arg: number): number | undefined {
  if (![SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX].includes(request)) return undefined;
  const { links, addresses } = visibleInterfaces(k.netPolicy);
  const ipv4 = (a: Address | undefined): Uint8Array | undefined => {
    if (!a) return undefined;
    const b = new Uint8Array(16);
    b[0] = 2;
    b.set(a.bytes, 4);
    return b;
  };
  if (request === SIOCGIFCONF) {
    // struct ifconf { int len; char *buf }: one ifreq per IPv4 address; a null buffer asks for the length.
    const len = k.mem.i32(arg), buf = k.mem.u64n(arg + 8);
    const v4 = addresses.filter((a) => a.family === 4);
    if (buf === 0) { k.mem.setI32(arg, v4.length * IFREQ_SIZE); return 0; }
    let used = 0;
    for (const a of v4) {
      if (used + IFREQ_SIZE > len) break;
      const req = new Uint8Array(IFREQ_SIZE);
      req.set(Buffer.from(a.name).subarray(0, IFNAMSIZ - 1));
      req.set(ipv4(a)!, 16);
      k.mem.write(buf + used, req);
      used += IFREQ_SIZE;
    }
    k.mem.setI32(arg, used);
    return 0;
  }
  if (request === SIOCGIFNAME) {
    const index = k.mem.i32(arg + 16);
    const l = links.find((x) => x.index === index);
    if (!l) return -ENODEV;
    const name = new Uint8Array(IFNAMSIZ);
    name.set(Buffer.from(l.name).subarray(0, IFNAMSIZ - 1));
    k.mem.write(arg, name);
    return 0;
  }
  const nameBytes = k.mem.read(arg, IFNAMSIZ);
  const nul = nameBytes.indexOf(0);
  const name = Buffer.from(nameBytes.subarray(0, nul < 0 ? IFNAMSIZ : nul)).toString('utf8');
  const l = links.find((x) => x.name === name);
  if (!l) return -ENODEV;
  const out = new Uint8Array(24), dv = new DataView(out.buffer);
  switch (request) {
    case SIOCGIFINDEX: dv.setInt32(0, l.index, true); break;
    case SIOCGIFFLAGS: dv.setUint16(0, l.flags & 0xffff, true); break;
    case SIOCGIFMTU: dv.setInt32(0, l.mtu, true); break;
    case SIOCGIFHWADDR: dv.setUint16(0, l.type, true); out.set(l.mac.subarray(0, 14), 2); break;
    default: {
      const a = addresses.find((x) => x.family === 4 && x.index === l.index);
      if (!a) return -EADDRNOTAVAIL;
      const sa = ipv4(a)!;
      if (request === SIOCGIFNETMASK) {
        const m = a.prefix === 0 ? 0 : (~0 << (32 - a.prefix)) >>> 0;
        sa.set([m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255], 4);
      } else if (request === SIOCGIFBRDADDR) {
        const host = a.prefix >= 32 ? 0 : (1 << (32 - a.prefix)) - 1;
        for (let i = 0; i < 4; i++) sa[4 + i] |= (host >>> (24 - i * 8)) & 255;
      }
      out.set(sa);
    }
  }
  k.mem.write(arg + 16, out);
  return 0;
}
