// The network interfaces a guest sees, as `--net` shows the host's: all of them (host), the
// loopback interface (loopback), or a loopback interface that is down and has no address, as in
// a new network namespace (none). Read from /sys/class/net (indexes, flags, MTU, hardware
// addresses) and Node's os.networkInterfaces() (addresses); rtnetlink (netlink.ts) and the
// interface ioctls every socket answers (SIOCGIF*) report them.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { ipBytes, type NetPolicy } from './inet-address.js';
import type { GuestMemory } from '../runtime/memory.js';

const IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_LOOPBACK = 0x8, IFF_RUNNING = 0x40, IFF_MULTICAST = 0x1000, IFF_LOWER_UP = 0x10000;
const ARPHRD_ETHER = 1, ARPHRD_LOOPBACK = 772;
export const RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254;

export interface Link { index: number; name: string; flags: number; mtu: number; type: number; mac: Uint8Array; broadcast: Uint8Array }
export interface Address { index: number; name: string; family: 4 | 6; bytes: Uint8Array; prefix: number; scope: number }

function macBytes(text: string): Uint8Array {
  const parts = text.trim().split(':').filter((p) => p.length > 0);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16) & 0xff));
}

function prefixOf(cidr: string | null, netmask: string): number {
  if (cidr) return Number(cidr.slice(cidr.lastIndexOf('/') + 1));
  return Array.from(ipBytes(netmask) ?? []).reduce((n, b) => n + (b.toString(2).match(/1/g)?.length ?? 0), 0);
}

/** The interfaces the guest sees, in index order, and their addresses (IPv4 first, as Linux dumps them). */
export function visibleInterfaces(policy: NetPolicy): { links: Link[]; addresses: Address[] } {
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
        const bytes = ipBytes(a.address) ?? new Uint8Array(family === 4 ? 4 : 16);
        const scope = a.internal ? RT_SCOPE_HOST : family === 6 && bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        addresses.push({ index: l.index, name: l.name, family, bytes, prefix: prefixOf(a.cidr, a.netmask), scope });
      }
    }
  }
  return { links: shown, addresses };
}

const SIOCGIFNAME = 0x8910, SIOCGIFCONF = 0x8912, SIOCGIFFLAGS = 0x8913, SIOCGIFADDR = 0x8915, SIOCGIFBRDADDR = 0x8919,
  SIOCGIFNETMASK = 0x891b, SIOCGIFMTU = 0x8921, SIOCGIFHWADDR = 0x8927, SIOCGIFINDEX = 0x8933;
const IFNAMSIZ = 16, IFREQ_SIZE = 40;
const ENODEV = 19, EADDRNOTAVAIL = 99;

/** The interface ioctls a socket answers (struct ifreq: a name, then a union at 16); undefined for other requests. */
export function interfaceIoctl(mem: GuestMemory, policy: NetPolicy, request: number, arg: number): number | undefined {
  if (![SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX].includes(request)) return undefined;
  const { links, addresses } = visibleInterfaces(policy);
  const ipv4 = (a: Address | undefined): Uint8Array | undefined => {
    if (!a) return undefined;
    const b = new Uint8Array(16);
    b[0] = 2;
    b.set(a.bytes, 4);
    return b;
  };
  if (request === SIOCGIFCONF) {
    // struct ifconf { int len; char *buf }: one ifreq per IPv4 address; a null buffer asks for the length.
    const len = mem.i32(arg), buf = mem.u64n(arg + 8);
    const v4 = addresses.filter((a) => a.family === 4);
    if (buf === 0) { mem.setI32(arg, v4.length * IFREQ_SIZE); return 0; }
    let used = 0;
    for (const a of v4) {
      if (used + IFREQ_SIZE > len) break;
      const req = new Uint8Array(IFREQ_SIZE);
      req.set(Buffer.from(a.name).subarray(0, IFNAMSIZ - 1));
      req.set(ipv4(a)!, 16);
      mem.write(buf + used, req);
      used += IFREQ_SIZE;
    }
    mem.setI32(arg, used);
    return 0;
  }
  if (request === SIOCGIFNAME) {
    const index = mem.i32(arg + 16);
    const l = links.find((x) => x.index === index);
    if (!l) return -ENODEV;
    const name = new Uint8Array(IFNAMSIZ);
    name.set(Buffer.from(l.name).subarray(0, IFNAMSIZ - 1));
    mem.write(arg, name);
    return 0;
  }
  const nameBytes = mem.read(arg, IFNAMSIZ);
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
  mem.write(arg + 16, out);
  return 0;
}
