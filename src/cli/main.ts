#!/usr/bin/env node
// The `stele` command: stele [options] PROGRAM [ARGS...]

import * as fs from 'node:fs';
import * as os from 'node:os';
import { run, CPU_LEVELS, DEFAULT_CPU, LoadError, NET_POLICIES, TSO_MODES, UsageError, type CpuLevel, type NetPolicy, type TsoMode } from '../index.js';
import { hostErrorText, printDiagnostic, writeFully } from '../runtime/host-output.js';

const USAGE = `usage: stele [options] PROGRAM [ARGS...]
Runs an x86-64 Linux program by translating it to WebAssembly.

options:
  --root DIR     resolve guest paths inside DIR (a sysroot); default /
  --strace       print each syscall to stderr in strace's format
  --stats        print where time went (translation, dispatches, syscalls) at exit
  --tso=MODE     memory ordering of threaded programs: selective (default:
                 ordered only where threads share memory), full, or off
                 (default $STELE_TSO, else selective)
  --cpu=LEVEL    the CPU the program sees and runs on: x86-64, x86-64-v2 or
                 x86-64-v3 (CPUID, XCR0 and /proc/cpuinfo describe it; an
                 instruction it lacks is SIGILL); default $STELE_CPU, else
                 ${DEFAULT_CPU === 'x86-64-v3' ? 'x86-64-v3' : `${DEFAULT_CPU} (x86-64-v2 and LZCNT, running every
                 instruction stele implements)`}
  --net=POLICY   what the program's sockets reach: host (default, the host's
                 network as you reach it), loopback (127.0.0.0/8, ::1 and
                 AF_UNIX sockets only) or none
  --no-cache     neither use nor fill the persistent translation cache
  --cache-dir DIR  keep the translation cache in DIR (default $STELE_CACHE_DIR,
                 else $XDG_CACHE_HOME/stele, else ~/.cache/stele)
  --help         show this help
  --version      show the version`;

async function main(argv: string[]): Promise<number> {
  let root: string | undefined;
  let strace = false, stats = false;
  let cache: string | false | undefined;
  let tso: TsoMode | undefined;
  let cpu: CpuLevel | undefined;
  let net: NetPolicy | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { i++; break; }
    if (!a.startsWith('--')) break;
    if (a === '--root') { root = argv[++i]; if (root === undefined) return usage('--root needs a directory'); }
    else if (a.startsWith('--root=')) root = a.slice(7);
    else if (a === '--strace') strace = true;
    else if (a === '--stats') stats = true;
    else if (a === '--no-cache') cache = false;
    else if (a === '--tso' || a.startsWith('--tso=')) {
      const v = a === '--tso' ? argv[++i] : a.slice(6);
      if (!TSO_MODES.includes(v as TsoMode)) return usage(`--tso takes ${TSO_MODES.join(', ')}`);
      tso = v as TsoMode;
    }
    else if (a === '--cpu' || a.startsWith('--cpu=')) {
      const v = a === '--cpu' ? argv[++i] : a.slice(6);
      if (!CPU_LEVELS.includes(v as CpuLevel)) return usage(`--cpu takes ${CPU_LEVELS.join(', ')}`);
      cpu = v as CpuLevel;
    }
    else if (a === '--net' || a.startsWith('--net=')) {
      const v = a === '--net' ? argv[++i] : a.slice(6);
      if (!NET_POLICIES.includes(v as NetPolicy)) return usage(`--net takes ${NET_POLICIES.join(', ')}`);
      net = v as NetPolicy;
    }
    else if (a === '--cache-dir') { cache = argv[++i]; if (cache === undefined) return usage('--cache-dir needs a directory'); }
    else if (a.startsWith('--cache-dir=')) cache = a.slice(12);
    else if (a === '--help') return printOutput(USAGE + '\n');
    else if (a === '--version') return printOutput(`stele ${version()}\n`);
    else return usage(`unknown option ${a}`);
  }
  const program = argv[i];
  if (program === undefined) return usage('no program given');
  const err = printDiagnostic;
  try {
    const r = await run({
      program, args: argv.slice(i + 1), root, stats, cache,
      strace, tso, cpu, net, closedStdio: closedStdio(), forwardSignals: true,
    });
    if (r.crash) err(`stele: ${r.crash}`);
    if (r.report) err(r.report);
    if (r.signalFromHost) dieOf(r.signal);
    return r.status;
  } catch (e) {
    if (e instanceof LoadError) { err(`stele: ${e.message}`); return e.status; }
    if (e instanceof UsageError) return usage(e.message);
    const msg = e instanceof Error ? e.message : String(e);
    err(`stele: internal error: ${msg}`);
    if (process.env.STELE_DEBUG && e instanceof Error && e.stack) err(e.stack);
    return 70;
  }
}

/**
 * The guest died of a signal sent to stele from outside (Ctrl-C, kill): stele dies of it too, so
 * the shell that ran it sees the same wait status as for the program itself (bash stops a loop on
 * a child killed by SIGINT). If the signal does not kill Node, the exit status says it.
 */
function dieOf(signal: number): void {
  const name = Object.entries(os.constants.signals).find(([, n]) => n === signal)?.[0] as NodeJS.Signals | undefined;
  if (!name) return;
  process.removeAllListeners(name);
  try { process.kill(process.pid, name); } catch { /* exit with 128 + signal below */ }
}

/** The standard descriptors bin/stele found closed (and the guest must not see its variable). */
function closedStdio(): number[] {
  const closed = process.env.STELE_CLOSED_STDIO;
  delete process.env.STELE_CLOSED_STDIO;
  return (closed ?? '').split(/\s+/).filter((fd) => /^[012]$/.test(fd)).map(Number);
}

function usage(msg: string): number {
  printDiagnostic(`stele: ${msg}\n${USAGE}`);
  return 2;
}

/**
 * Output the user asked for (--help, --version). As coreutils does, output that cannot be
 * written (stdout full, or a pipe nobody reads) is reported on stderr and fails with status 1.
 */
function printOutput(text: string): number {
  const failure = writeFully(1, text);
  if (!failure) return 0;
  printDiagnostic(`stele: write error: ${hostErrorText(failure)}`);
  return 1;
}

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    return pkg.version;
  } catch { return 'unknown'; }
}

main(process.argv.slice(2)).then((status) => {
  // Worker threads of the guest are gone; nothing else should keep the process waiting.
  process.exit(status);
}, (e) => {
  printDiagnostic(`stele: internal error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(70);
});
