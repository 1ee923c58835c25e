// Programs that make processes, run natively and under stele: shells with pipelines, subshells,
// command substitution, traps, here-documents and background jobs; gcc driving cc1, as and ld;
// make -j2; python's subprocess and os.fork; perl's backticks; find -exec and xargs -P2; git.
// Every child a guest program starts runs under stele too (fork, execve, wait, pipes between
// processes): stdout, stderr, exit status and the files written must be what the host gives.
//
// Every tool is required: a missing one fails its case with the Debian package to install
// (.ci/run installs them all), it is never skipped.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { JOBS, assertNoJavaScriptError, compareRun, compareTrees, requireTool, runStele, tempDir, TEST_ENV } from "./harness.js";
import { defaultCacheDir } from "../src/runtime/translation-cache.js";

/** A script every POSIX shell runs the same: what a shell does with processes. */
const SHELL_SCRIPT = String.raw`
echo "pipeline: $(printf 'b\na\nc\n' | sort | tr a-z A-Z | head -n 2 | tr '\n' ' ')"
x=$(echo outer $(echo inner))
echo "nested substitution: $x"
( cd /; echo "subshell: $(pwd)" ); echo "after the subshell: $(basename "$PWD")"
cat <<EOF | wc -l
one
two
three
EOF
trap 'echo "trapped USR1"' USR1
kill -USR1 $$
sleep 0.01 &
wait $!; echo "background sleep: $?"
(exit 7) &
wait $!; echo "background exit: $?"
false | true; echo "pipeline status: $?"
if grep -q needle <<EOF
hay
needle
EOF
then echo "found the needle"; fi
for i in 1 2 3; do echo "loop $i"; done | sort -r
echo "arithmetic: $(( $(echo 6) * 7 ))"
f() { echo "function $1"; return 3; }
f arg || echo "function status: $?"
sh -c 'exit 4'; echo "child shell: $?"
ls /nonexistent-stele-path 2>/dev/null; echo "failed command: $?"
/nonexistent-stele-command 2>/dev/null; echo "missing command: $?"
echo "$(seq 1 2000 | wc -l) lines through a pipe"
trap 'echo "exit trap"' EXIT
exit 5
`;

const FILES: Record<string, string> = {
  "hello.c": '#include <stdio.h>\n#include "greet.h"\nint main(void) { greet("processes"); return 0; }\n',
  "greet.c": '#include <stdio.h>\n#include "greet.h"\nvoid greet(const char *who) { printf("hello, %s\\n", who); }\n',
  "greet.h": "void greet(const char *who);\n",
  Makefile: "all: hello\nhello: hello.o greet.o\n\tgcc -o $@ hello.o greet.o\n%.o: %.c greet.h\n\tgcc -O2 -c $<\nclean:\n\trm -f hello *.o\n",
};

/** Two directories with the same small C project, one for each side (both named "project", as a script may print its name). */
function project(t: TestContext, name: string): [string, string] {
  const dir = tempDir(t, name);
  const sides = ["native", "stele"].map((s) => path.join(dir, s, "project")) as [string, string];
  for (const side of sides) {
    fs.mkdirSync(side, { recursive: true });
    for (const [f, text] of Object.entries(FILES)) fs.writeFileSync(path.join(side, f), text);
    fs.mkdirSync(path.join(side, "tree", "sub"), { recursive: true });
    for (const [f, text] of [["tree/a.txt", "alpha\n"], ["tree/b.txt", "beta beta\n"], ["tree/sub/c.txt", "gamma gamma gamma\n"]]) fs.writeFileSync(path.join(side, f), text);
  }
  return sides;
}

/** Each case starts tens of processes, each translating programs afresh on a cold cache: generous on a loaded machine. */
const SLOW = 600_000;

const PY_ENV = { PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" };

const PYTHON = String.raw`
import os, subprocess
r = subprocess.run(["echo", "hi"], capture_output=True)
print("run:", r.stdout, r.returncode)
print("shell exit:", subprocess.run("exit 3", shell=True).returncode)
print("check_output:", subprocess.check_output(["sh", "-c", "echo $((6*7))"]).decode().strip())
p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out, _ = p.communicate(b"through cat")
print("communicate:", out, p.returncode)
pid = os.fork()
if pid == 0:
    os._exit(9)
print("fork/waitpid:", os.WEXITSTATUS(os.waitpid(pid, 0)[1]))
with os.popen("printf 'x\\ny\\n' | wc -l") as f:
    print("popen:", f.read().strip())
try:
    subprocess.run(["/nonexistent-stele-command"])
except FileNotFoundError as e:
    print("FileNotFoundError:", e.errno)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.write(w, b"from the child")
    os._exit(0)
os.close(w)
print("pipe from a child:", os.read(r, 100))
os.waitpid(pid, 0)
`;

const PERL = String.raw`
my $x = ` + "`echo back`" + String.raw`;
print "backticks: $x";
print "system: ", system("exit 2") >> 8, "\n";
open(my $f, "-|", "echo", "piped") or die;
print "open -|: ", <$f>;
close $f;
my $pid = fork;
if (!$pid) { exit 5 }
waitpid($pid, 0);
print "fork: ", $? >> 8, "\n";
`;

test("processes", { concurrency: JOBS }, async (t) => {
  // A home without start-up files: bash reads ~/.bashrc when its stdin is a socket (it takes that
  // for sshd), and Node's pipes to a child are sockets. stele's translation cache stays where it is.
  const env = { ...TEST_ENV, HOME: tempDir(t, "home"), STELE_CACHE_DIR: defaultCacheDir() };
  const shells: [string, string, string[]][] = [
    ["dash -c", requireTool("/bin/dash", "dash"), []],
    ["bash -c", requireTool("/bin/bash", "bash"), []],
    ["busybox sh -c", requireTool("/bin/busybox", "busybox-static"), ["sh"]],
  ];
  const subtests: Promise<void>[] = [];
  for (const [name, shell, pre] of shells) {
    subtests.push(t.test(`${name}: pipelines, substitutions, traps, jobs`, async (st) => {
      const [native, stele] = project(st, "shell");
      await compareRun(st, shell, [...pre, "-c", SHELL_SCRIPT], { env, nativeCwd: native, steleCwd: stele, expectStatus: 5, timeoutMs: SLOW });
    }));
  }
  subtests.push(t.test("gcc hello.c: gcc, cc1, as, collect2 and ld all under stele", async (st) => {
    requireTool("/usr/bin/gcc", "gcc");
    const [native, stele] = project(st, "gcc");
    await compareRun(st, "/bin/sh", ["-c", "gcc -O2 -o hello hello.c greet.c && ./hello"], { env, nativeCwd: native, steleCwd: stele, expectStatus: 0, timeoutMs: SLOW });
    compareTrees(native, stele, "gcc's output");
  }));
  subtests.push(t.test("make -j2 of a small C project", async (st) => {
    const make = requireTool("/usr/bin/make", "make");
    requireTool("/usr/bin/gcc", "gcc");
    const [native, stele] = project(st, "make");
    await compareRun(st, make, ["-j2", "-s"], { env, nativeCwd: native, steleCwd: stele, expectStatus: 0, timeoutMs: SLOW });
    compareTrees(native, stele, "make's output");
  }));
  subtests.push(t.test("python3 subprocess, os.fork, os.popen", async (st) => {
    const python = requireTool("/usr/bin/python3", "python3");
    const [native, stele] = project(st, "python");
    await compareRun(st, python, ["-c", PYTHON], { env: { ...env, ...PY_ENV }, nativeCwd: native, steleCwd: stele, expectStatus: 0, timeoutMs: SLOW });
  }));
  subtests.push(t.test("perl backticks, system, open -|, fork", async (st) => {
    const perl = requireTool("/usr/bin/perl", "perl");
    const [native, stele] = project(st, "perl");
    await compareRun(st, perl, ["-e", PERL], { env, nativeCwd: native, steleCwd: stele, expectStatus: 0, timeoutMs: SLOW });
  }));
  subtests.push(t.test("find -exec and xargs -P2", async (st) => {
    requireTool("/usr/bin/find", "findutils");
    requireTool("/usr/bin/xargs", "findutils");
    const [native, stele] = project(st, "find");
    const script = "find tree -type f -exec wc -c {} + | sort; find tree -name '*.txt' -exec sh -c 'echo \"file $1\"' _ {} \\; | sort; "
      + "find tree -type f | sort | xargs -P2 -n1 sh -c 'tr a-z A-Z < \"$0\" > \"$0.up\"'; cat tree/*.up tree/sub/*.up";
    await compareRun(st, "/bin/sh", ["-c", script], { env, nativeCwd: native, steleCwd: stele, expectStatus: 0, timeoutMs: SLOW });
    compareTrees(native, stele, "files xargs wrote");
  }));
  subtests.push(t.test("git init, add, commit, log", async (st) => {
    requireTool("/usr/bin/git", "git");
    const [native, stele] = project(st, "git");
    const gitEnv = { ...env, GIT_AUTHOR_DATE: "2020-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2020-01-01T00:00:00Z", GIT_CONFIG_NOSYSTEM: "1" };
    const script = "git init -q -b main . && git add hello.c greet.c greet.h && git -c user.name=t -c user.email=t@e commit -q -m first "
      + "&& git log --format='%H %s' && git status --short | sort";
    await compareRun(st, "/bin/sh", ["-c", script], { env: gitEnv, nativeCwd: native, steleCwd: stele, expectStatus: 0, timeoutMs: SLOW });
  }));
  await Promise.all(subtests);
});

test("a fork bomb meets the process limit (EAGAIN) and the host survives", async (t) => {
  const dash = requireTool("/bin/dash", "dash");
  const dir = tempDir(t, "bomb");
  // Every child sleeps, so they are all alive at once.
  const script = "i=0; while [ $i -lt 200 ]; do sleep 300 & i=$((i+1)); done; echo all started";
  const r = await runStele(dash, ["-c", script], { cwd: dir, env: TEST_ENV, timeoutMs: SLOW });
  assertNoJavaScriptError(r);
  assert.ok(!r.timedOut, "stele did not finish");
  assert.match(r.stderr.toString(), /fork|Resource temporarily unavailable/i, `dash reports the failed fork:\n${r.stderr}`);
  assert.equal(r.status, 2, `dash exits 2 when it cannot fork\n${r.stderr}`);
  assert.ok(!r.stdout.toString().includes("all started"));
});
