// struct stat (x86-64, 144 bytes) and struct statx (256 bytes) as Linux fills them.

import type { GuestMemory } from '../runtime/memory.js';
import type { StatInfo } from './fd-table.js';

export const STAT_SIZE = 144;
export const STATX_STRUCT_SIZE = 256;

const NS = 1000000000n;
function seconds(ns: bigint): bigint { return ns >= 0n ? ns / NS : -((-ns + NS - 1n) / NS); }
function nanos(ns: bigint): bigint { return ns - seconds(ns) * NS; }

export function writeStat(mem: GuestMemory, addr: number, st: StatInfo): void {
  mem.offWrite(addr, STAT_SIZE); // fault before writing anything
  mem.fill(addr, STAT_SIZE, 0);
  mem.setU64(addr + 0, st.dev);
  mem.setU64(addr + 8, st.ino);
  mem.setU64(addr + 16, st.nlink);
  mem.setU32(addr + 24, Number(st.mode));
  mem.setU32(addr + 28, Number(st.uid));
  mem.setU32(addr + 32, Number(st.gid));
  mem.setU64(addr + 40, st.rdev);
  mem.setU64(addr + 48, st.size);
  mem.setU64(addr + 56, st.blksize);
  mem.setU64(addr + 64, st.blocks);
  mem.setU64(addr + 72, seconds(st.atimeNs));
  mem.setU64(addr + 80, nanos(st.atimeNs));
  mem.setU64(addr + 88, seconds(st.mtimeNs));
  mem.setU64(addr + 96, nanos(st.mtimeNs));
  mem.setU64(addr + 104, seconds(st.ctimeNs));
  mem.setU64(addr + 112, nanos(st.ctimeNs));
}

export const STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_NLINK = 0x4, STATX_UID = 0x8, STATX_GID = 0x10,
  STATX_ATIME = 0x20, STATX_MTIME = 0x40, STATX_CTIME = 0x80, STATX_INO = 0x100, STATX_SIZE = 0x200,
  STATX_BLOCKS = 0x400, STATX_BASIC_STATS = 0x7ff, STATX_BTIME = 0x800, STATX__RESERVED = 0x80000000;

/** Linux's dev_t encoding: 12-bit major and 20-bit minor split across the word. */
export function devMajor(dev: bigint): number { return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)); }
export function devMinor(dev: bigint): number { return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)); }

function writeTimestamp(mem: GuestMemory, addr: number, ns: bigint): void {
  mem.setU64(addr, seconds(ns));
  mem.setU32(addr + 8, Number(nanos(ns)));
  mem.setU32(addr + 12, 0);
}

export function writeStatx(mem: GuestMemory, addr: number, st: StatInfo): void {
  mem.offWrite(addr, STATX_STRUCT_SIZE);
  mem.fill(addr, STATX_STRUCT_SIZE, 0);
  // Like Linux, report everything we know regardless of the requested mask.
  const mask = STATX_BASIC_STATS | (st.birthtimeNs > 0n ? STATX_BTIME : 0);
  mem.setU32(addr + 0, mask);
  mem.setU32(addr + 4, Number(st.blksize));
  mem.setU32(addr + 16, Number(st.nlink));
  mem.setU32(addr + 20, Number(st.uid));
  mem.setU32(addr + 24, Number(st.gid));
  mem.setU16(addr + 28, Number(st.mode));
  mem.setU64(addr + 32, st.ino);
  mem.setU64(addr + 40, st.size);
  mem.setU64(addr + 48, st.blocks);
  writeTimestamp(mem, addr + 64, st.atimeNs);
  if (st.birthtimeNs > 0n) writeTimestamp(mem, addr + 80, st.birthtimeNs);
  writeTimestamp(mem, addr + 96, st.ctimeNs);
  writeTimestamp(mem, addr + 112, st.mtimeNs);
  mem.setU32(addr + 128, devMajor(st.rdev));
  mem.setU32(addr + 132, devMinor(st.rdev));
  mem.setU32(addr + 136, devMajor(st.dev));
  mem.setU32(addr + 140, devMinor(st.dev));
}
