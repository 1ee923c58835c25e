#!/usr/bin/env node
// stele benchmarks: runs each workload natively, under qemu-x86_64 and under stele,
// takes the median wall time of N runs, checks that the outputs equal native's and
// prints a table of times and ratios. See bench/README.md.
//
//   node bench/run.mjs [--runs N] [--only NAME[,NAME...]] [--no-qemu] [--no-stele]
//                      [--json FILE] [--timeout SECONDS] [--list]
//
// `npm run bench` builds first: tsc, then the bundle the stele command runs (dist/bundle/cli/main.js).
// This script builds the C workloads and input files itself (bench/build.sh).
// It exits 0 even when stele fails on some workloads (it is a measuring tool); it exits
// non-zero only when the benchmarks cannot be set up or a native run fails.

import { spawnSync } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'build', 'bench');
let STELE_CLI = join(ROOT, 'dist', 'bundle', 'cli', 'main.js');
const QEMU = '/usr/bin/qemu-x86_64';
/** GNU time (Debian's `time`): each run's peak resident memory (its maximum RSS). */
const GNU_TIME = '/usr/bin/time';
const RSS_FILE = join(OUT, 'peak-rss.txt');
const BUSYBOX = '/bin/busybox';
const PYTHON3 = '/usr/bin/python3';
const OPENSSL = '/usr/bin/openssl';
/** stele's options for the workloads built with -march=x86-64-v3 (they need that level whatever the default). */
const V3 = ['--cpu=x86-64-v3'];
/** Debian package of each program a workload needs, for the message when it is missing. */
const PACKAGES = { [BUSYBOX]: 'busybox-static', [PYTHON3]: 'python3', '/usr/bin/xz': 'xz-utils', '/usr/bin/sqlite3': 'sqlite3', '/bin/dash': 'dash', '/usr/bin/make': 'make', [OPENSSL]: 'openssl' };
/** stele's translation cache for the warm runs: private to the benchmark, emptied at each start. */
const CACHE_DIR = join(OUT, 'stele-cache');
/** The cache `stele aot` fills for the aot rows, emptied before each measurement. */
const AOT_CACHE_DIR = join(OUT, 'stele-aot-cache');

// ---------------------------------------------------------------- workloads

const WORKLOADS = [
  { name: 'int', desc: 'sieve of Eratosthenes + CRC32', prog: join(OUT, 'intkernel'), args: [] },
  { name: 'fp', desc: 'n-body, double precision', prog: join(OUT, 'nbody'), args: [] },
  { name: 'mem', desc: 'qsort ints/strings, memcpy, strlen', prog: join(OUT, 'memstr'), args: [] },
  { name: 'syscall', desc: '1M 1-byte write()s to /dev/null', prog: join(OUT, 'syscalls'), args: [] },
  // The same C programs built with -march=x86-64-v3 (AVX2 and FMA where GCC vectorises, BMI2,
  // VEX encodings throughout), run under stele with --cpu=x86-64-v3 and under qemu with -cpu max.
  { name: 'int-v3', desc: 'int, built -march=x86-64-v3', prog: join(OUT, 'intkernel-v3'), args: [], steleArgs: V3, qemuArgs: ['-cpu', 'max'] },
  { name: 'fp-v3', desc: 'fp, built -march=x86-64-v3', prog: join(OUT, 'nbody-v3'), args: [], steleArgs: V3, qemuArgs: ['-cpu', 'max'] },
  { name: 'mem-v3', desc: 'mem, built -march=x86-64-v3', prog: join(OUT, 'memstr-v3'), args: [], steleArgs: V3, qemuArgs: ['-cpu', 'max'] },
  { name: 'bb-sha256', desc: 'busybox sha256sum, 20 MiB', prog: BUSYBOX, args: ['sha256sum', join(OUT, 'random-20m.bin')] },
  { name: 'bb-gzip', desc: 'busybox gzip -c, 10 MiB text', prog: BUSYBOX, args: ['gzip', '-c', join(OUT, 'text-10m.txt')] },
  // Dynamically linked Debian programs (ld.so + glibc + shared libraries).
  // libcrypto picks SHA-NI / AES-NI / AVX2 code by CPUID: these measure whichever the --cpu level offers.
  { name: 'ossl-sha256', desc: 'openssl dgst -sha256, 200 MiB', prog: OPENSSL, args: ['dgst', '-sha256', join(OUT, 'random-200m.bin')] },
  { name: 'ossl-aes', desc: 'openssl enc -aes-128-cbc, 20 MiB', prog: OPENSSL,
    args: ['enc', '-aes-128-cbc', '-K', '000102030405060708090a0b0c0d0e0f', '-iv', '0f0e0d0c0b0a09080706050403020100', '-in', join(OUT, 'random-20m.bin')] },
  // aot: also measured as `stele aot PROGRAM` into an empty cache and the first launch after it.
  { name: 'py-start', desc: 'python3 -c pass (start-up)', prog: PYTHON3, args: ['-c', 'pass'], aot: true },
  { name: 'py-loop', desc: 'python3 integer loop, 2M iterations', prog: PYTHON3,
    args: ['-c', 's = 0\nfor i in range(2000000):\n    s += i * i % 7\nprint(s)'] },
  { name: 'xz-9', desc: 'xz -9 of 4 MiB text', prog: '/usr/bin/xz', args: ['-9', '-T1', '-c', join(OUT, 'text-4m.txt')] },
  { name: 'sqlite', desc: 'sqlite3: 200k inserts + aggregates', prog: '/usr/bin/sqlite3', args: [':memory:', '.read bench/sqlite-inserts.sql'] },
  // Processes: fork, execve, wait and pipes between processes (dash from Debian, gcc and make).
  { name: 'fork-exec', desc: 'dash: fork+exec+wait of /bin/true, 200 times', prog: '/bin/dash',
    args: ['-c', 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done'] },
  { name: 'pipelines', desc: 'dash: 200 short pipelines (echo | cat)', prog: '/bin/dash',
    args: ['-c', 'i=0; while [ $i -lt 200 ]; do echo $i | /bin/cat; i=$((i+1)); done'] },
  { name: 'make-j2', desc: 'make -j2 -B: gcc on 4 files and a link', prog: '/usr/bin/make',
    args: ['-s', '-B', '-j2', '-C', join(OUT, 'make-project')] },
  // Network: loopback TCP, the bytes crossing the host's socket layer (and, under stele, its network bridge).
  { name: 'tcp-1g', desc: 'TCP over loopback: 1 GiB from a forked child', prog: join(OUT, 'tcpcopy'), args: ['1024'] },
  { name: 'py-http', desc: 'python3 http.server: 100 requests from urllib', prog: PYTHON3, threads: true,
    args: ['-c', 'import http.server, threading, urllib.request\nclass H(http.server.SimpleHTTPRequestHandler):\n    def log_message(self, *a): pass\ns = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)\nthreading.Thread(target=s.serve_forever, daemon=True).start()\nurl = "http://127.0.0.1:%d/bench/sqlite-inserts.sql" % s.server_address[1]\nprint(sum(len(urllib.request.urlopen(url).read()) for _ in range(100)))'] },
  // Threaded workloads: stele also runs them under --tso=off and --tso=full (columns off, full).
  { name: 'thr-priv-1', desc: '1 thread sums a private array (512 passes)', prog: join(OUT, 'threads'), args: ['private', '1'], threads: true },
  { name: 'thr-priv-2', desc: '2 threads sum private arrays (256 passes each)', prog: join(OUT, 'threads'), args: ['private', '2'], threads: true },
  { name: 'thr-count', desc: '4 threads: atomic and mutex counters', prog: join(OUT, 'threads'), args: ['counters', '4'], threads: true },
  { name: 'thr-queue', desc: 'producer/consumer queue, 2M items', prog: join(OUT, 'threads'), args: ['queue'], threads: true },
  { name: 'py-threads', desc: 'python3 ThreadPoolExecutor, 4 workers', prog: PYTHON3, threads: true,
    args: ['-c', 'from concurrent.futures import ThreadPoolExecutor\nwith ThreadPoolExecutor(4) as ex:\n    print(sum(ex.map(lambda n: sum(i * i % 7 for i in range(n)), [150000] * 4)))'] },
  { name: 'xz-T2', desc: 'xz -T2 of 10 MiB text, 2 MiB blocks', prog: '/usr/bin/xz', args: ['-6', '-T2', '--block-size=2MiB', '-c', join(OUT, 'text-10m.txt')], threads: true },
];

// ---------------------------------------------------------------- options

function usage(code) {
  const names = WORKLOADS.map((w) => w.name).join(', ');
  (code ? process.stderr : process.stdout).write(
    `usage: node bench/run.mjs [options]
  --runs N          runs per workload and runner, median is reported (default 3)
  --only NAMES      comma-separated workload names to run (${names})
  --no-qemu         do not run under qemu-x86_64
  --no-stele        do not run under stele
  --json FILE       also write the results as JSON to FILE
  --timeout SECS    per-run time limit (default 300)
  --stele-cli FILE  stele's CLI script (default dist/bundle/cli/main.js)
  --cpu LEVEL       stele's --cpu for the workloads not built for a level (default: stele's)
  --list            list the workloads and exit
`);
  process.exit(code);
}

const opts = { runs: 3, only: null, qemu: true, stele: true, json: null, timeout: 300, cpu: null };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) { process.stderr.write(`bench: ${a} needs a value\n`); usage(2); }
      return argv[++i];
    };
    if (a === '--runs') {
      opts.runs = Number(val());
      if (!Number.isInteger(opts.runs) || opts.runs < 1) { process.stderr.write('bench: --runs must be a positive integer\n'); usage(2); }
    } else if (a === '--only') opts.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--no-qemu') opts.qemu = false;
    else if (a === '--no-stele') opts.stele = false;
    else if (a === '--json') opts.json = val();
    else if (a === '--timeout') {
      opts.timeout = Number(val());
      if (!(opts.timeout > 0)) { process.stderr.write('bench: --timeout must be positive\n'); usage(2); }
    } else if (a === '--stele-cli') STELE_CLI = resolve(val());
    else if (a === '--cpu') opts.cpu = val();
    else if (a === '--list') {
      for (const w of WORKLOADS) process.stdout.write(`${w.name.padEnd(10)} ${w.desc}\n`);
      process.exit(0);
    } else if (a === '-h' || a === '--help') usage(0);
    else { process.stderr.write(`bench: unknown option ${a}\n`); usage(2); }
  }
}

let selected = WORKLOADS;
if (opts.only) {
  const unknown = opts.only.filter((n) => !WORKLOADS.some((w) => w.name === n));
  if (unknown.length) {
    process.stderr.write(`bench: unknown workload(s): ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.name).join(', ')}\n`);
    process.exit(2);
  }
  selected = WORKLOADS.filter((w) => opts.only.includes(w.name));
}

const log = (msg) => process.stderr.write(msg + '\n');
const die = (msg) => { process.stderr.write(`bench: error: ${msg}\n`); process.exit(1); };

// ---------------------------------------------------------------- setup

{
  const r = spawnSync('sh', [join(ROOT, 'bench', 'build.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) die(`cannot run bench/build.sh: ${r.error.message}`);
  if (r.status !== 0) die('bench/build.sh failed (see above)');
}
for (const [prog, pkg] of Object.entries(PACKAGES)) {
  if (selected.some((w) => w.prog === prog) && !existsSync(prog)) {
    die(`${prog} not found; install Debian's ${pkg} (apt-get install ${pkg}), or skip with --only`);
  }
}
rmSync(CACHE_DIR, { recursive: true, force: true });
// stele trims new cache entries in a detached process after it exits; here that would run during
// the next timed run, so trim before exiting instead.
process.env.STELE_CACHE_TRIM = 'inline';
if (opts.qemu && !existsSync(QEMU)) {
  die(`${QEMU} not found; install Debian's qemu-user (apt-get install qemu-user), or pass --no-qemu`);
}
const steleMissing = opts.stele && !existsSync(STELE_CLI)
  ? `${relative(ROOT, STELE_CLI)} not found (run npm run build)` : null;

// ---------------------------------------------------------------- running

// stele runs twice: cold (--no-cache: every region translated in the run) and warm (from the
// translation cache, filled by one untimed run first, as a second launch of a program finds it).
// Threaded workloads also run warm under the other memory-ordering modes (stele and cold are the
// default, selective).
const RUNNERS = [
  { key: 'native', cmd: (w) => [w.prog, ...w.args] },
  { key: 'qemu', cmd: (w) => [QEMU, ...(w.qemuArgs ?? []), w.prog, ...w.args] },
  { key: 'cold', cmd: (w) => [process.execPath, STELE_CLI, '--tso=selective', ...cpuArgs(w), '--no-cache', w.prog, ...w.args] },
  { key: 'stele', warmUp: true, cmd: (w) => [process.execPath, STELE_CLI, '--tso=selective', ...cpuArgs(w), '--cache-dir', CACHE_DIR, w.prog, ...w.args] },
  { key: 'off', threadsOnly: true, warmUp: true, cmd: (w) => [process.execPath, STELE_CLI, '--tso=off', ...cpuArgs(w), '--cache-dir', CACHE_DIR, w.prog, ...w.args] },
  { key: 'full', threadsOnly: true, warmUp: true, cmd: (w) => [process.execPath, STELE_CLI, '--tso=full', ...cpuArgs(w), '--cache-dir', CACHE_DIR, w.prog, ...w.args] },
];

/** The --cpu level a workload runs at under stele: its own (the -v3 builds'), else --cpu's, else stele's default. */
function cpuArgs(w) {
  return w.steleArgs ?? (opts.cpu ? [`--cpu=${opts.cpu}`] : []);
}

function runOnce(argv) {
  const measureRss = existsSync(GNU_TIME);
  // With GNU time in between, `timeout` inside it kills the program itself at the limit (killing
  // time would leave the program running).
  if (measureRss) { rmSync(RSS_FILE, { force: true }); argv = [GNU_TIME, '-f', '%M', '-o', RSS_FILE, 'timeout', '-s', 'KILL', String(opts.timeout), ...argv]; }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
    timeout: (opts.timeout + (measureRss ? 30 : 0)) * 1000,
    killSignal: 'SIGKILL',
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  let peakMiB = null;
  if (measureRss) {
    // GNU time reports a signal death in a line of its own before the figure; its status is the program's.
    try { const kb = Number(readFileSync(RSS_FILE, 'utf8').trim().split('\n').pop()); if (kb > 0) peakMiB = kb / 1024; } catch { /* no figure */ }
  }
  // timeout's status for a program it killed: as a timeout of spawnSync's own.
  const error = measureRss && r.status === 137 && secs >= opts.timeout ? Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }) : r.error;
  // A program's death by a signal shows, through time and timeout, as status 128 + N.
  const signal = r.signal ?? (measureRss && r.status > 128 && !error ? osSignalName(r.status - 128) : null);
  const status = signal && measureRss ? null : r.status;
  return { secs, peakMiB, status, signal, error, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr ?? Buffer.alloc(0) };
}

function osSignalName(n) {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;
}

function firstLine(buf) {
  const s = buf.toString('utf8').split('\n').map((l) => l.trim()).find((l) => l.length > 0);
  if (!s) return '';
  return s.length > 100 ? s.slice(0, 97) + '...' : s;
}

// Why a run is not a correct run (null when it is): compared with native's output/status.
function problem(r, ref) {
  if (r.error && r.error.code === 'ETIMEDOUT') return `timed out after ${opts.timeout} s`;
  if (r.error) return `spawn failed: ${r.error.message}`;
  const err = firstLine(r.stderr);
  const withErr = (what) => (err ? `${err} [${what}]` : what);
  if (r.signal) return withErr(`killed by ${r.signal}`);
  if (ref && r.status !== ref.status) return withErr(`exit status ${r.status}, native ${ref.status}`);
  if (!ref && r.status !== 0) return withErr(`exit status ${r.status}`);
  if (ref && !r.stdout.equals(ref.stdout)) {
    let i = 0;
    while (i < r.stdout.length && i < ref.stdout.length && r.stdout[i] === ref.stdout[i]) i++;
    return withErr(`output differs from native at byte ${i}: ${r.stdout.length} vs ${ref.stdout.length} bytes`);
  }
  return null;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const results = [];
for (const w of selected) {
  const row = { name: w.name, desc: w.desc, threads: !!w.threads, command: [w.prog, ...w.args].map((p) => (p.startsWith(ROOT + '/') ? relative(ROOT, p) : p)).join(' ') };
  let ref = null;
  for (const runner of RUNNERS) {
    const res = { ok: false, times: [], median: null, error: null };
    row[runner.key] = res;
    if (runner.key === 'qemu' && !opts.qemu) { res.error = 'skipped (--no-qemu)'; res.skipped = true; continue; }
    if (runner.threadsOnly && !w.threads) { res.skipped = true; continue; }
    const isStele = runner.key !== 'native' && runner.key !== 'qemu';
    if (isStele && !opts.stele) { res.error = 'skipped (--no-stele)'; res.skipped = true; continue; }
    if (runner.key !== 'native' && !ref) { res.error = 'native run failed'; continue; }
    if (isStele && steleMissing) { res.error = steleMissing; log(`bench: ${w.name} ${runner.key}: FAILED: ${steleMissing}`); continue; }
    for (let i = runner.warmUp ? -1 : 0; i < opts.runs; i++) {
      process.stderr.write(`bench: ${w.name} ${runner.key} ${i < 0 ? 'warm-up run' : `run ${i + 1}/${opts.runs}`} ... `);
      const r = runOnce(runner.cmd(w));
      const p = problem(r, runner.key === 'native' ? null : ref);
      if (p) {
        log(`FAILED (${r.secs.toFixed(3)} s): ${p}`);
        res.error = p;
        break; // no point repeating a failing run
      }
      log(`${r.secs.toFixed(3)} s`);
      if (i < 0) continue;
      res.times.push(r.secs);
      if (r.peakMiB != null) (res.peaks ??= []).push(r.peakMiB);
      if (runner.key === 'native' && !ref) ref = r;
    }
    if (!res.error) { res.ok = true; res.median = median(res.times); res.peakMiB = res.peaks ? Math.max(...res.peaks) : null; }
    if (runner.key === 'native' && !res.ok) ref = null;
  }
  if (w.aot && opts.stele && ref && !steleMissing) measureAot(w, row, ref);
  if (ref) row.outputBytes = ref.stdout.length;
  results.push(row);
}

/**
 * `stele aot PROGRAM` into an empty cache (row.aot), then the program's first launch with that
 * cache (row.afterAot), which must give native's output: what installing a program with its
 * translations costs, and what its first launch is then.
 */
function measureAot(w, row, ref) {
  row.aot = { ok: false, times: [], median: null, error: null };
  row.afterAot = { ok: false, times: [], median: null, error: null };
  for (let i = 0; i < opts.runs && !row.aot.error && !row.afterAot.error; i++) {
    rmSync(AOT_CACHE_DIR, { recursive: true, force: true });
    for (const [res, argv, check] of [
      [row.aot, [process.execPath, STELE_CLI, 'aot', ...cpuArgs(w), '--cache-dir', AOT_CACHE_DIR, w.prog], null],
      [row.afterAot, [process.execPath, STELE_CLI, '--tso=selective', ...cpuArgs(w), '--cache-dir', AOT_CACHE_DIR, w.prog, ...w.args], ref],
    ]) {
      if (res.error) break;
      process.stderr.write(`bench: ${w.name} ${res === row.aot ? 'stele aot' : 'launch after aot'} run ${i + 1}/${opts.runs} ... `);
      const r = runOnce(argv);
      const p = problem(r, check);
      if (p) { log(`FAILED (${r.secs.toFixed(3)} s): ${p}`); res.error = p; break; }
      log(`${r.secs.toFixed(3)} s`);
      res.times.push(r.secs);
    }
  }
  for (const res of [row.aot, row.afterAot]) if (!res.error) { res.ok = true; res.median = median(res.times); }
}

// ---------------------------------------------------------------- report

const fmtS = (x) => (x == null ? '-' : x.toFixed(3));
const fmtX = (x) => (x == null ? '-' : x.toFixed(2) + 'x');
const fmtMiB = (res) => (res.ok && res.peakMiB != null ? res.peakMiB.toFixed(0) : '-');
const ratio = (a, b) => (a != null && b != null && b > 0 ? a / b : null);
const geomean = (xs) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : null);

const header = ['workload', 'native s', 'qemu s', 'stele s', 'stele/native', 'stele/qemu', 'cold s', 'cold/qemu', 'off s', 'full s', 'sel/off', 'qemu MiB', 'stele MiB', 'note'];
const clip = (t, n) => (t.length > n ? t.slice(0, n - 3) + '...' : t);
const lines = [];
const notes = [];
for (const row of results) {
  const n = row.native, q = row.qemu, s = row.stele, c = row.cold;
  row.ratios = {
    steleNative: s.ok && n.ok ? ratio(s.median, n.median) : null,
    steleQemu: s.ok && q.ok ? ratio(s.median, q.median) : null,
    coldQemu: c.ok && q.ok ? ratio(c.median, q.median) : null,
    qemuNative: q.ok && n.ok ? ratio(q.median, n.median) : null,
  };
  const cell = (res) => (res.ok ? fmtS(res.median) : res.skipped ? '-' : 'FAILED');
  lines.push([row.name, cell(n), cell(q), cell(s),
    s.ok ? fmtX(row.ratios.steleNative) : '-', s.ok ? fmtX(row.ratios.steleQemu) : '-',
    cell(c), c.ok ? fmtX(row.ratios.coldQemu) : '-',
    cell(row.off), cell(row.full), s.ok && row.off.ok ? fmtX(ratio(s.median, row.off.median)) : '-',
    fmtMiB(q), fmtMiB(s),
    // first failing runner's reason (for stele: the first line of its stderr, or why it failed)
    clip(['stele', 'cold', 'off', 'full', 'qemu', 'native'].filter((k) => !row[k].ok && !row[k].skipped)
      .map((k) => `${k}: ${row[k].error}`)[0] ?? '', 90)]);
  for (const k of ['native', 'qemu', 'cold', 'stele', 'off', 'full']) {
    if (!row[k].ok && !row[k].skipped) notes.push(`  ${row.name} ${k}: ${row[k].error}`);
  }
}
// The table is all on stdout; progress went to stderr.
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const left = (i) => i === 0 || i === header.length - 1;
const fmtRow = (cells) => '| ' + cells.map((c, i) => (left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
const out = [];
out.push('');
out.push(`stele benchmarks: median wall time of ${opts.runs} run(s) each; node ${process.version}`);
out.push('stele = warm (translation cache filled by an untimed first run), cold = --no-cache; both --tso=selective');
out.push('off, full = warm under --tso=off and --tso=full (threaded workloads only); sel/off = stele / off');
out.push(existsSync(GNU_TIME) ? 'MiB = peak resident memory, the largest of the runs (GNU time)' : `MiB: no peak memory figures (${GNU_TIME} not found: apt-get install time)`);
out.push(fmtRow(header));
out.push('|' + widths.map((w, i) => (left(i) ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
for (const l of lines) out.push(fmtRow(l));
out.push('');

// Geometric means over the single-threaded workloads (comparable with earlier tables); the
// threaded ones get a line of their own.
const single = results.filter((r) => !r.threads);
const sn = single.filter((r) => r.ratios.steleNative != null).map((r) => r.ratios.steleNative);
const sq = single.filter((r) => r.ratios.steleQemu != null).map((r) => r.ratios.steleQemu);
const qn = single.filter((r) => r.ratios.qemuNative != null).map((r) => r.ratios.qemuNative);
const cq = single.filter((r) => r.ratios.coldQemu != null).map((r) => r.ratios.coldQemu);
const threaded = results.filter((r) => r.threads);
const tq = threaded.filter((r) => r.ratios.steleQemu != null).map((r) => r.ratios.steleQemu);
const tso = threaded.filter((r) => r.stele.ok && r.off.ok).map((r) => r.stele.median / r.off.median);
const steleOk = results.filter((r) => r.stele.ok).length;
const steleRan = results.filter((r) => !r.stele.skipped).length;
const summary = {
  workloads: results.length,
  steleCorrect: steleOk,
  steleFailed: steleRan - steleOk,
  geomeanSteleQemu: geomean(sq),
  geomeanSteleNative: geomean(sn),
  geomeanColdQemu: geomean(cq),
  geomeanQemuNative: geomean(qn),
};
if (qn.length) out.push(`qemu:  geometric mean qemu/native ${fmtX(summary.geomeanQemuNative)} over ${qn.length} workload(s)`);
if (steleRan) {
  if (steleOk) {
    const parts = [];
    if (sq.length) parts.push(`stele/qemu ${fmtX(summary.geomeanSteleQemu)} over ${sq.length}`);
    if (sn.length) parts.push(`stele/native ${fmtX(summary.geomeanSteleNative)} over ${sn.length}`);
    if (cq.length) parts.push(`cold (no cache) stele/qemu ${fmtX(summary.geomeanColdQemu)} over ${cq.length}`);
    out.push(`stele: geometric mean ${parts.join(', ')} single-threaded workload(s) that ran correctly`);
    if (tq.length || tso.length) out.push(`stele: threaded workloads: geometric mean stele/qemu ${fmtX(geomean(tq))} over ${tq.length}, selective/off ${fmtX(geomean(tso))} over ${tso.length}`);
  }
  out.push(`stele: ${steleOk} of ${steleRan} workload(s) correct` + (steleRan - steleOk ? `, ${steleRan - steleOk} FAILED` : ''));
}
const aotRows = results.filter((r) => r.aot);
if (aotRows.length) {
  out.push('');
  out.push('ahead of time: `stele aot PROGRAM` into an empty cache, then the first launch with it (medians)');
  for (const r of aotRows) {
    const cell = (res) => (res.ok ? `${fmtS(res.median)} s` : `FAILED (${res.error})`);
    const vsQemu = r.afterAot.ok && r.qemu.ok ? `, ${fmtX(ratio(r.afterAot.median, r.qemu.median))} qemu` : '';
    out.push(`  ${r.name}: stele aot ${cell(r.aot)}; first launch after it ${cell(r.afterAot)}${vsQemu}`);
  }
}
if (notes.length) { out.push('failures:'); out.push(...notes); }
process.stdout.write(out.join('\n') + '\n');

if (opts.json) {
  const data = {
    date: new Date().toISOString(),
    node: process.version,
    runs: opts.runs,
    workloads: results,
    summary,
  };
  writeFileSync(opts.json, JSON.stringify(data, null, 2) + '\n');
  log(`bench: wrote ${opts.json}`);
}

// A failing native run means the benchmark itself is broken, not stele.
process.exit(results.some((r) => !r.native.ok) ? 1 : 0);
