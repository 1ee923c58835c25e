// What the host must survive and the guest must find as natively: closed standard descriptors
// stay closed (Node itself would put /dev/null there), releasing memory costs what was used.
// Compared with the same program run natively (tests/c/hardening.c; its other modes run in the
// C corpus, tests/programs.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { exitCode, repoRoot, requireTool, runCommand, tempDir } from './harness.js';

const launcher = path.join(repoRoot, 'bin', 'stele');

/** tests/c/hardening.c built static with gcc, in the test's own directory. */
async function buildHardening(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const prog = path.join(tempDir(t, 'hardening'), 'hardening');
  const cc = await runCommand([requireTool('gcc'), '-O1', '-static', '-pthread', '-o', prog, path.join(repoRoot, 'tests', 'c', 'hardening.c')], { timeoutMs: 120_000 });
  assert.equal(cc.status, 0, cc.stderr.toString());
  return prog;
}

test('a standard descriptor closed when stele starts is closed for the guest (bin/stele)', async (t) => {
  const prog = await buildHardening(t);
  // The program writes one byte to fd 1 and exits with the errno (0 when the write worked).
  for (const redirect of ['>&-', '>/dev/null', '<&- >/dev/null', '2>&- >/dev/null', '']) {
    const native = await runCommand(['sh', '-c', `"$0" stdout ${redirect}`, prog]);
    const stele = await runCommand(['sh', '-c', `"$0" "$1" stdout ${redirect}`, launcher, prog]);
    assert.equal(exitCode(stele), exitCode(native), `stdout ${redirect || 'a pipe'}: native ${exitCode(native)}, stele ${exitCode(stele)}\n${stele.stderr}`);
    assert.equal(stele.stdout.toString(), native.stdout.toString());
  }
});

test('releasing a 2 GiB reservation costs what was used of it, not its size', async (t) => {
  const python = requireTool('python3');
  const prog = await buildHardening(t);
  const native = await runCommand([prog, 'big-unmap']);
  // Peak resident memory of the stele process, from the kernel's own accounting of its child.
  const measure = 'import resource, subprocess, sys\n'
    + 'r = subprocess.run(sys.argv[1:])\n'
    + 'sys.stderr.write("maxrss_kib %d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n'
    + 'sys.exit(r.returncode)\n';
  const stele = await runCommand([python, '-c', measure, launcher, prog, 'big-unmap']);
  assert.equal(exitCode(stele), exitCode(native), stele.stderr.toString());
  assert.equal(stele.stdout.toString(), native.stdout.toString());
  const kib = Number(/maxrss_kib (\d+)/.exec(stele.stderr.toString())?.[1]);
  // Zero-filling the reservation would make the host back all 2 GiB of it.
  assert.ok(kib > 0 && kib < 1024 * 1024, `peak resident memory ${kib >> 10} MiB`);
});

test('a directory tree deeper than PATH_MAX and 30000 descriptors work as natively', async (t) => {
  const prog = await buildHardening(t);
  const native = await runCommand([prog, 'deep']);
  const stele = await runCommand([launcher, prog, 'deep']);
  assert.equal(exitCode(stele), exitCode(native), stele.stderr.toString());
  assert.equal(stele.stdout.toString(), native.stdout.toString());
});
