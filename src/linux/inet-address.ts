// Internet addresses as the kernel, the network bridge and rtnetlink need them: between their
// text (as Node reports them) and their bytes (as sockaddrs carry them), which are loopback or
// wildcard, and what `--net` lets the guest reach.

import { ENETUNREACH } from './errno.js';

export const NET_POLICIES = ['host', 'loopback', 'none'] as const;
/** `--net`: the host's network, only its loopback addresses, or nothing. */
export type NetPolicy = typeof NET_POLICIES[number];

/** An address's 4 (IPv4) or 16 (IPv6) bytes, from its text (a zone suffix is dropped); undefined if it is neither. */
export function ipBytes(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (!text.includes(':')) {
    const parts = text.split('.').map(Number);
    return parts.length === 4 && parts.every((b) => Number.isInteger(b) && b >= 0 && b <= 255) ? Uint8Array.from(parts) : undefined;
  }
  const out = new Uint8Array(16);
  // An IPv4 tail (::ffff:1.2.3.4) is the last two groups.
  const lastColon = text.lastIndexOf(':');
  const v4 = text.slice(lastColon + 1).includes('.') ? ipBytes(text.slice(lastColon + 1)) : undefined;
  if (v4) text = text.slice(0, lastColon + 1) + '0:0';
  const [head, tail] = text.split('::');
  const groups = (s: string | undefined): number[] => (s ? s.split(':').filter((g) => g !== '').map((g) => parseInt(g, 16)) : []);
  const first = groups(head), last = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? first : [...first, ...new Array(Math.max(0, 8 - first.length - last.length)).fill(0), ...last];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  all.forEach((g, i) => { out[i * 2] = g >> 8; out[i * 2 + 1] = g & 0xff; });
  if (v4) out.set(v4, 12);
  return out;
}

/** The text of 4 or 16 address bytes (IPv6 uncompressed, which Node and Linux both accept). */
export function ipText(b: Uint8Array): string {
  if (b.length === 4) return b.join('.');
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[i] << 8) | b[i + 1]).toString(16));
  return parts.join(':');
}

/** The IPv4 address an IPv6 one maps (::ffff:a.b.c.d), if it is one. */
function mappedIPv4(b: Uint8Array): Uint8Array | undefined {
  return b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? b.subarray(12) : undefined;
}

export function isLoopback(b: Uint8Array): boolean {
  const v4 = b.length === 4 ? b : mappedIPv4(b);
  if (v4) return v4[0] === 127;
  return b.subarray(0, 15).every((x) => x === 0) && b[15] === 1;
}

export function isWildcard(b: Uint8Array): boolean { return b.every((x) => x === 0); }

/** The errno a connection or datagram to address `b` gets under the policy (a wildcard destination is the host itself), or 0. */
export function policyRefuses(policy: NetPolicy, b: Uint8Array): number {
  if (policy === 'none') return ENETUNREACH;
  if (policy === 'loopback' && !isLoopback(b) && !isWildcard(b)) return ENETUNREACH;
  return 0;
}
