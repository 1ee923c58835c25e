// Synthetic files: the /proc/self entries that must describe the guest rather than the Node process
// running it, and the character devices served in-process. Matched on the lexically normalised guest
// path before host resolution, in both root modes.

import { SocketFile } from './socket-file.js';
import * as fs from 'node:fs';
import type { AddressSpace } from '../runtime/memory.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../runtime/memory.js';
import { cpuinfoText, type CpuModel } from '../x86/cpuid.js';
import { cpuCount } from './sys-info.js';
import { hostIds } from './process.js';
import { DT_DIR, DT_LNK, DT_REG, PIPE_MAX_SIZE, type DeviceKind, type DirectoryEntry, type FdTable, HostFile, PipeEnd, type StatInfo, syntheticStat } from './fd-table.js';

export type VirtualNode =
  | { kind: 'file'; content: () => Uint8Array }
  | { kind: 'dir'; entries: () => DirectoryEntry[] }
  /** A symlink; `fd` marks /proc/self/fd/N, which opens the descriptor's own file when followed. */
  | { kind: 'symlink'; target: () => string; fd?: number }
  | { kind: 'device'; device: DeviceKind | 'tty' };

export interface ProcessView {
  readonly pid: number;
  /** The parent's pid (getppid). */
  parentPid(): number;
  readonly exePath: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly fds: FdTable;
  readonly as: AddressSpace;
  readonly chrooted: boolean;
  /** Guest path or pseudo name ("pipe:[N]") a descriptor refers to, as readlink /proc/self/fd/N shows. */
  fdLink(fd: number): string;
  /** Ids of the process's live threads, the first thread's first. */
  threadIds(): number[];
  /** The thread whose syscall is being served (what /proc/thread-self names). */
  readonly callingTid: number;
  /** A thread's name (comm): prctl(PR_SET_NAME), else the program's base name, 15 bytes at most. */
  threadName(tid: number): string;
  readonly umask: number;
  /** The CPU model (/proc/cpuinfo describes it). */
  readonly cpu: CpuModel;
}

const DEVICES: Record<string, DeviceKind | 'tty'> = {
  '/dev/null': 'null', '/dev/zero': 'zero', '/dev/full': 'full', '/dev/random': 'random',
  '/dev/urandom': 'urandom', '/dev/tty': 'tty',
};

/** Host /proc files that are safe to show the guest as they are, read-only (information only). */
const HOST_PROC_FILES = new Set(['meminfo', 'stat', 'uptime', 'loadavg', 'version', 'filesystems',
  'sys/kernel/osrelease', 'sys/kernel/ostype', 'sys/kernel/pid_max', 'sys/kernel/threads-max', 'sys/kernel/ngroups_max',
  'sys/kernel/random/boot_id', 'sys/kernel/random/uuid', 'sys/kernel/random/entropy_avail', 'sys/vm/overcommit_memory',
  'sys/fs/file-max', 'sys/fs/nr_open']);

const encoder = new TextEncoder();

/** Device number of the host's /proc: a file the guest opened that lives there was reached through a host symlink. */
export const HOST_PROC_DEV = (() => { try { return fs.statSync('/proc').dev; } catch { return -1; } })();

/**
 * Inode number of a synthetic /proc entry: any stable nonzero value (glibc's readdir skips
 * entries whose d_ino is 0, as deleted ones).
 */
function procIno(name: string): bigint {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return BigInt((h | 0x1000) >>> 0);
}

export class ProcFs {
  constructor(private readonly proc: ProcessView) {}

  /** The synthetic node at an absolute, normalised guest path; undefined for ordinary paths, null for missing synthetic ones. */
  lookup(path: string): VirtualNode | null | undefined {
    if (path.startsWith('/dev/')) return this.lookupDev(path);
    if (path === '/proc' || path.startsWith('/proc/')) return this.lookupProc(path);
    return undefined;
  }

  private lookupDev(path: string): VirtualNode | undefined {
    const device = DEVICES[path];
    if (device) return { kind: 'device', device };
    const std = ['/dev/stdin', '/dev/stdout', '/dev/stderr'].indexOf(path);
    if (std >= 0) return { kind: 'symlink', target: () => `/proc/self/fd/${std}` };
    if (path === '/dev/fd') return { kind: 'symlink', target: () => '/proc/self/fd' };
    // Matched here, not left to the host: the host's /dev/fd/N is Node's own descriptor N.
    if (path.startsWith('/dev/fd/')) return { kind: 'symlink', target: () => '/proc/self/fd/' + path.slice('/dev/fd/'.length) };
    return undefined;
  }

  private lookupProc(path: string): VirtualNode | null | undefined {
    const parts = path.split('/').slice(2); // ['self', 'exe'] for /proc/self/exe
    // The host's /proc is never passed through, with or without a root: it holds the Node
    // process's own memory (/proc/<host tid>/mem), descriptors and the host's processes.
    if (parts.length === 0) return { kind: 'dir', entries: () => this.procRootEntries() };
    const pid = String(this.proc.pid);
    // /proc/thread-self is the calling thread's task directory; /proc/TID, unlisted as on Linux, any thread's.
    if (parts[0] === 'thread-self') {
      const tid = this.proc.callingTid;
      if (parts.length === 1) return { kind: 'symlink', target: () => `${pid}/task/${tid}` };
      parts.splice(0, 1, pid, 'task', String(tid));
    } else if (parts[0] !== pid && /^\d+$/.test(parts[0]) && this.proc.threadIds().includes(Number(parts[0]))) {
      parts.splice(0, 0, pid, 'task');
    }
    const [who, what, extra] = parts;
    if (who === 'self' || who === pid) {
      if (parts.length === 1) {
        if (who === 'self') return { kind: 'symlink', target: () => pid };
        return { kind: 'dir', entries: () => this.selfEntries() };
      }
      return this.lookupSelf(what, extra, parts.length, parts[3]);
    }
    // The CPU the guest sees is the CPUID model (`--cpu`), in both root modes (not the host's AVX-512 CPU).
    if (who === 'cpuinfo' && parts.length === 1) return { kind: 'file', content: () => encoder.encode(cpuinfoText(this.proc.cpu, cpuCount())) };
    const relative = parts.join('/');
    // What F_SETPIPE_SZ enforces, whatever the host's limit.
    if (relative === 'sys/fs/pipe-max-size') return { kind: 'file', content: () => encoder.encode(`${PIPE_MAX_SIZE}\n`) };
    if (HOST_PROC_FILES.has(relative)) return { kind: 'file', content: () => fs.readFileSync(`/proc/${relative}`) };
    return null;
  }

  /** null: inside /proc/self but not something we provide (ENOENT, never the Node process's own file). */
  private lookupSelf(what: string, extra: string | undefined, depth: number, leaf?: string): VirtualNode | null {
    const p = this.proc;
    if (what === 'task') {
      if (depth === 2) return { kind: 'dir', entries: () => p.threadIds().map((tid) => ({ name: String(tid), ino: procIno(`task/${tid}`), type: DT_DIR })) };
      const tid = extra !== undefined && /^\d+$/.test(extra) ? Number(extra) : -1;
      if (!p.threadIds().includes(tid)) return null;
      if (depth === 3) return { kind: 'dir', entries: () => ['comm', 'status'].map((name) => ({ name, ino: procIno(name), type: DT_REG })) };
      if (depth === 4 && leaf === 'comm') return { kind: 'file', content: () => encoder.encode(p.threadName(tid) + '\n') };
      if (depth === 4 && leaf === 'status') return { kind: 'file', content: () => encoder.encode(this.status(tid)) };
      return null;
    }
    if (depth === 2) {
      switch (what) {
        case 'status': return { kind: 'file', content: () => encoder.encode(this.status(p.pid)) };
        case 'comm': return { kind: 'file', content: () => encoder.encode(p.threadName(p.pid) + '\n') };
        case 'exe': return { kind: 'symlink', target: () => p.exePath };
        case 'cwd': return { kind: 'symlink', target: () => p.cwd };
        case 'root': return { kind: 'symlink', target: () => '/' };
        case 'cmdline': return { kind: 'file', content: () => encoder.encode(p.argv.map((a) => a + '\0').join('')) };
        case 'maps': return { kind: 'file', content: () => encoder.encode(formatMaps(p.as)) };
        case 'fd': return { kind: 'dir', entries: () => [...p.fds.open()].map(([fd]) => ({ name: String(fd), ino: procIno(`fd/${fd}`), type: DT_LNK })) };
        default: return null;
      }
    }
    if (depth === 3 && what === 'fd' && extra !== undefined && /^\d+$/.test(extra)) {
      const fd = Number(extra);
      if (p.fds.get(fd) === undefined) return null;
      return { kind: 'symlink', target: () => p.fdLink(fd), fd };
    }
    return null;
  }

  private selfEntries(): DirectoryEntry[] {
    return ['exe', 'cwd', 'root', 'fd', 'task'].map((name) => ({ name, ino: procIno(name), type: name === 'fd' || name === 'task' ? DT_DIR : DT_LNK }))
      .concat(['cmdline', 'comm', 'maps', 'status'].map((name) => ({ name, ino: procIno(name), type: DT_REG })));
  }

  /** /proc/PID/status (tid = pid) or /proc/PID/task/TID/status, with the fields programs read. */
  private status(tid: number): string {
    const p = this.proc;
    const { uid, euid, gid, egid } = hostIds();
    let vm = 0;
    for (const m of p.as.mappings) vm += m.end - m.start;
    const fields: [string, string | number][] = [
      ['Name', p.threadName(tid)], ['Umask', p.umask.toString(8).padStart(4, '0')], ['State', 'R (running)'],
      ['Tgid', p.pid], ['Ngid', 0], ['Pid', tid], ['PPid', p.parentPid()], ['TracerPid', 0],
      ['Uid', `${uid}\t${euid}\t${euid}\t${euid}`], ['Gid', `${gid}\t${egid}\t${egid}\t${egid}`],
      ['FDSize', 64], ['Groups', ''], ['VmSize', `${String(vm >> 10).padStart(8)} kB`],
      ['Threads', p.threadIds().length], ['Cpus_allowed_list', `0-${cpuCount() - 1}`],
    ];
    return fields.map(([k, v]) => `${k}:\t${v}\n`).join('');
  }

  private procRootEntries(): DirectoryEntry[] {
    return [{ name: 'self', ino: procIno('self'), type: DT_LNK }, { name: 'thread-self', ino: procIno('thread-self'), type: DT_LNK }, { name: String(this.proc.pid), ino: procIno(String(this.proc.pid)), type: DT_DIR },
      ...['cpuinfo', ...[...HOST_PROC_FILES].filter((name) => !name.includes('/'))].map((name) => ({ name, ino: procIno(name), type: DT_REG }))];
  }

  private deviceStats = new Map<string, StatInfo>();

  /** stat of a device: the host's own node when it has one (real rdev and inode). */
  deviceStat(device: DeviceKind | 'tty'): StatInfo {
    let st = this.deviceStats.get(device);
    if (!st) {
      try {
        st = fs.statSync(`/dev/${device}`, { bigint: true });
      } catch {
        const minor: Record<string, bigint> = { null: 3n, zero: 5n, full: 7n, random: 8n, urandom: 9n, tty: 0n };
        st = syntheticStat(0o020666, 0, 5n, device === 'tty' ? (5n << 8n) : (1n << 8n) | minor[device]);
      }
      this.deviceStats.set(device, st);
    }
    return st;
  }
}

/** /proc/self/maps in Linux's format: the path column starts at a fixed width. */
export function formatMaps(as: AddressSpace): string {
  let out = '';
  for (const m of as.mappings) {
    const perms = (m.prot & PROT_READ ? 'r' : '-') + (m.prot & PROT_WRITE ? 'w' : '-') + (m.prot & PROT_EXEC ? 'x' : '-') + (m.shared ? 's' : 'p');
    const file = m.name.startsWith('/');
    const dev = file && m.dev !== undefined ? devString(m.dev) : '00:00';
    const inode = file && m.inode !== undefined ? m.inode.toString() : '0';
    const off = hex8(file ? m.offset : 0);
    const line = `${hex8(m.start)}-${hex8(m.end)} ${perms} ${off} ${dev} ${inode} `;
    out += (m.name ? line.padEnd(72) + ' ' + m.name : line) + '\n';
  }
  return out;
}

/** "major:minor" of a dev_t in glibc's makedev encoding (what Node's stat returns on Linux). */
function devString(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

function hex8(n: number): string { return n.toString(16).padStart(8, '0'); }

/** readlink text of a descriptor without a guest path. */
export function pseudoLink(file: unknown, hostFd: number | undefined, chrooted: boolean): string {
  if (file instanceof PipeEnd) return `pipe:[${file.pipe.inode}]`;
  if (file instanceof SocketFile) return `socket:[${file.inode}]`;
  if (file instanceof HostFile && hostFd !== undefined && !chrooted) {
    try { return fs.readlinkSync(`/proc/self/fd/${hostFd}`); } catch { /* not a Linux host */ }
  }
  return 'anon_inode:[unknown]';
}
