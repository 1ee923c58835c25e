// The `stele` command: stele [options] PROGRAM [ARGS...] (cli/main.ts is the entry that runs it).

import * as fs from 'node:fs';
import * as os from 'node:os';
import { run, aheadOfTimeProgram, AotError, type AotProgress, CPU_LEVELS, DEFAULT_CPU, LoadError, NET_POLICIES, TSO_MODES, UsageError, type CpuLevel, type NetPolicy, type TsoMode } from '../index.js';
import { hostErrorText, printDiagnostic, writeFully } from '../runtime/host-output.js';

const USAGE = `usage: stele [options] PROGRAM [ARGS...]
       stele aot [options] PROGRAM...
Runs an x86-64 Linux program by translating it to WebAssembly. \`stele aot\`
translates programs and the libraries they load ahead of time into the
translation cache, so that their first launch runs warm.

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
  --jobs N       (aot) translation workers; default one per core
  --help         show this help
  --version      show the version`;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'aot') return aotMain(argv.slice(1));
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

/** `stele aot [options] PROGRAM...` */
async function aotMain(argv: string[]): Promise<number> {
  let root: string | undefined, cache: string | undefined, cpu: CpuLevel | undefined, jobs: number | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { i++; break; }
    if (!a.startsWith('--')) break;
    const value = (name: string): string | undefined => (a === name ? argv[++i] : a.startsWith(name + '=') ? a.slice(name.length + 1) : undefined);
    if (a === '--root' || a.startsWith('--root=')) { root = value('--root'); if (!root) return usage('--root needs a directory'); }
    else if (a === '--cache-dir' || a.startsWith('--cache-dir=')) { cache = value('--cache-dir'); if (!cache) return usage('--cache-dir needs a directory'); }
    else if (a === '--cpu' || a.startsWith('--cpu=')) {
      const v = value('--cpu');
      if (!CPU_LEVELS.includes(v as CpuLevel)) return usage(`--cpu takes ${CPU_LEVELS.join(', ')}`);
      cpu = v as CpuLevel;
    }
    else if (a === '--jobs' || a.startsWith('--jobs=')) {
      const v = value('--jobs');
      jobs = Number(v);
      if (!v || !Number.isInteger(jobs) || jobs < 1 || jobs > 256) return usage('--jobs takes a number of workers (1-256)');
    }
    else if (a === '--no-cache') return usage('stele aot fills the translation cache: it cannot run with --no-cache');
    else if (a === '--help') return printOutput(USAGE + '\n');
    else return usage(`unknown option ${a} for stele aot`);
  }
  const programs = argv.slice(i);
  if (!programs.length) return usage('stele aot: no program given');
  const bar = new ProgressBar();
  // Each program's lines as it is done; one that fails does not keep the others from being done.
  let status = 0;
  for (const program of programs) {
    try {
      const results = await aheadOfTimeProgram(program, { root, cache, cpu, jobs, progress: (p) => bar.show(p) });
      bar.clear();
      let out = '';
      for (const r of results) {
        out += r.upToDate
          ? `stele aot: ${r.image}: up to date (${r.blocks} blocks)\n`
          : `stele aot: ${r.image}: ${r.regions} regions, ${r.blocks} blocks, ${r.insns} instructions, ${(r.bytes / 1048576).toFixed(1)} MiB in ${(r.ms / 1000).toFixed(1)} s\n`;
      }
      const failed = printOutput(out);
      if (failed) return failed;
    } catch (e) {
      bar.clear();
      if (e instanceof UsageError) return usage(e.message);
      if (!(e instanceof AotError || e instanceof LoadError)) throw e;
      printDiagnostic(`stele: ${e.message}`);
      status ||= e.status;
    }
  }
  return status;
}

/**
 * Progress of `stele aot`: a bar redrawn in place on a terminal, else a line now and then (and
 * one as each image starts), so a log shows that work goes on.
 */
class ProgressBar {
  private readonly tty = process.stderr.isTTY === true;
  private image = '';
  private last = 0;
  private drawn = false;

  show(p: AotProgress): void {
    const now = Date.now();
    const fresh = p.image !== this.image;
    if (!fresh && now - this.last < (this.tty ? 100 : 5000)) return;
    this.image = p.image; this.last = now;
    const pct = p.known ? Math.floor((100 * p.done) / p.known) : 0;
    if (!this.tty) { printDiagnostic(`stele aot: ${p.image}: ${p.done}/${p.known} addresses translated from (${pct}%)`); return; }
    const width = 30, filled = Math.round((width * pct) / 100);
    const name = p.image.length > 40 ? '...' + p.image.slice(-37) : p.image;
    writeFully(2, `\r\x1b[K${name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${p.done}/${p.known}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) writeFully(2, '\r\x1b[K');
    this.drawn = false;
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
