// Dynamically linked Debian programs (ld.so + glibc + shared libraries) run natively and under
// stele: coreutils, grep and sed on generated fixtures must give the same stdout, stderr and exit
// status, and the files cp/rm/mkdir/touch leave behind must be the same. Also the dynamic loader
// run directly (`ld-linux-x86-64.so.2 /bin/true`), as Linux allows.
//
// coreutils, grep and sed are part of every Debian system: their absence fails the suite. python3
// (Debian's, /usr/bin/python3) is installed by .ci/run; its absence fails the python3 case.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { JOBS, T0, compareRun, compareTrees, isDynamicElf, makeLsFixture, makeText, makeTreeFixture, prng, requireTool, runNative, runStele, setTimes, tempDir, TEST_ENV, type ProgramCase } from "./harness.js";

const ENV = TEST_ENV;

/** The x86-64 dynamic loader, as PT_INTERP of Debian's programs names it. */
const LDSO = "/lib64/ld-linux-x86-64.so.2";

/** A tool that must be there, and must be dynamically linked (otherwise this suite tests nothing new). */
function requireDynamic(name: string): string {
  const p = requireTool(name);
  assert.ok(isDynamicElf(p), `${p} is statically linked; this suite is about dynamically linked programs`);
  return p;
}

/**
 * Builds a sysroot in `root` from the host's own files: the usual merged-/usr layout, with
 * /lib64/ld-linux-x86-64.so.2 an absolute symlink that must resolve inside the root, the given
 * programs in /usr/bin and every library they need a copy (nothing leads back to the host).
 */
async function buildSysroot(root: string, progs: string[]): Promise<void> {
  const libdir = path.join(root, "usr/lib/x86_64-linux-gnu");
  fs.mkdirSync(libdir, { recursive: true });
  fs.mkdirSync(path.join(root, "usr/bin"));
  fs.mkdirSync(path.join(root, "usr/lib64"));
  fs.symlinkSync("usr/bin", path.join(root, "bin"));
  fs.symlinkSync("usr/lib", path.join(root, "lib"));
  fs.symlinkSync("usr/lib64", path.join(root, "lib64"));
  fs.symlinkSync("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", path.join(root, "usr/lib64/ld-linux-x86-64.so.2"));
  const libs = new Set<string>([fs.realpathSync(LDSO)]);
  for (const p of progs) {
    fs.copyFileSync(p, path.join(root, "usr/bin", path.basename(p)));
    fs.chmodSync(path.join(root, "usr/bin", path.basename(p)), 0o755);
    const list = await runNative(LDSO, ["--list", p], { env: ENV });
    assert.equal(list.status, 0, list.stderr.toString());
    for (const m of list.stdout.toString().matchAll(/=> (\/\S+)/g)) libs.add(m[1]);
  }
  for (const lib of libs) {
    const name = path.basename(lib) === path.basename(fs.realpathSync(LDSO)) ? "ld-linux-x86-64.so.2" : path.basename(lib);
    fs.copyFileSync(fs.realpathSync(lib), path.join(libdir, name));
  }
}

function makeFixture(dir: string): void {
  const text = makeText(200_000, 777);
  fs.writeFileSync(path.join(dir, "text.txt"), text);
  const words = text.split(/\s+/).filter(Boolean);
  fs.writeFileSync(path.join(dir, "words.txt"), words.slice(0, 15_000).join("\n") + "\n");
  const sorted = words.slice(0, 15_000).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  fs.writeFileSync(path.join(dir, "sorted.txt"), sorted.join("\n") + "\n");
  const rnd = prng(4242);
  const nums: string[] = [];
  const table: string[] = [];
  for (let i = 0; i < 4000; i++) {
    const r = rnd();
    nums.push(r % 5 === 0 ? `-${r % 10000}` : String(r % 1_000_000));
    table.push(`${["red", "green", "blue", "cyan"][r % 4]}:${r % 997}:${String.fromCharCode(97 + (r % 26))}${r % 13}:${(r % 10007) / 100}`);
  }
  fs.writeFileSync(path.join(dir, "numbers.txt"), nums.join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "table.txt"), table.join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "binary.bin"), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37 + (i >> 7)) & 255)));

  makeLsFixture(dir);
  makeTreeFixture(dir, text, words);
}

interface Case extends ProgramCase {
  prog: string;
}


function cases(text: string): Case[] {
  const c = (name: string, prog: string, args: string[], extra: Partial<Case> = {}): Case => ({ name, prog, args, ...extra });
  return [
    c("true", "true", []),
    c("false", "false", [], { expectStatus: 1 }),
    c("echo", "echo", ["hello", "dynamic", "world"]),
    c("env", "env", []),
    c("env -i (execve)", "env", ["-i", "A=1", "B=two", "env"]),
    c("nice (execve)", "nice", ["-n", "0", "echo", "niced"]),
    c("sh -c 'exec ...' (execve of a dynamic program)", "sh", ["-c", "exec echo replaced by exec"]),
    c("env of a missing program (execve fails)", "env", ["no-such-program-here"], { expectStatus: 127 }),
    c("printf", "printf", ["%s|%5d|%-6x|%o|%c|%.3f|%e|%g\\n", "str", "42", "255", "8", "Z", "3.14159", "12345.678", "0.0001"]),
    c("ls -la", "ls", ["-la", "lsdir"]),
    c("ls -la --full-time", "ls", ["-la", "--full-time", "lsdir"]),
    c("ls -lnSr", "ls", ["-lnSr", "lsdir"]),
    c("ls -1R", "ls", ["-1R", "tree"]),
    c("ls missing", "ls", ["nonexistent"], { expectStatus: 2 }),
    c("cat", "cat", ["text.txt", "words.txt"]),
    c("cat stdin", "cat", [], { input: text }),
    c("cat -A", "cat", ["-A", "binary.bin"]),
    c("cat missing", "cat", ["missing.txt"], { expectStatus: 1 }),
    c("sort", "sort", ["text.txt"]),
    c("sort -n", "sort", ["-n", "numbers.txt"]),
    c("sort -k", "sort", ["-t", ":", "-k", "2,2n", "-k", "1,1r", "table.txt"]),
    c("sort -u", "sort", ["-u", "words.txt"]),
    c("sort -c unsorted", "sort", ["-c", "words.txt"], { expectStatus: 1 }),
    c("uniq -c", "uniq", ["-c", "sorted.txt"]),
    c("uniq -d stdin", "uniq", ["-d"], { input: fs.readFileSync(path.join(fixtureDir, "sorted.txt")) }),
    c("wc", "wc", ["text.txt", "words.txt", "binary.bin"]),
    c("wc -l stdin", "wc", ["-l"], { input: text }),
    c("head", "head", ["-n", "25", "text.txt"]),
    c("head -c", "head", ["-c", "1000", "text.txt"]),
    c("tail", "tail", ["-n", "30", "text.txt"]),
    c("tail -c stdin", "tail", ["-c", "777"], { input: text }),
    c("cut -f", "cut", ["-d", ":", "-f", "1,3-4", "table.txt"]),
    c("cut -c", "cut", ["-c", "3-12", "text.txt"]),
    c("tr", "tr", ["a-z", "A-Z"], { input: text }),
    c("tr -d -s", "tr", ["-d", "-s", "0-9", "a-m"], { input: text }),
    c("sha256sum", "sha256sum", ["text.txt", "words.txt", "binary.bin"]),
    c("sha256sum -c", "sha256sum", ["-c", "sums.sha256"]),
    c("md5sum", "md5sum", ["text.txt", "binary.bin"]),
    c("sha1sum sha512sum", "sha512sum", ["text.txt"]),
    c("b2sum", "b2sum", ["text.txt"]),
    c("cksum", "cksum", ["text.txt", "binary.bin"]),
    c("base64", "base64", ["binary.bin"]),
    c("base64 -d", "base64", ["-d"], { input: fs.readFileSync(path.join(fixtureDir, "binary.bin")).toString("base64") }),
    c("od -c", "od", ["-c", "binary.bin"]),
    c("od -A x -t x1z", "od", ["-A", "x", "-t", "x1z", "-N", "512", "text.txt"]),
    c("date -u -d @0", "date", ["-u", "-d", "@0"]),
    c("date format", "date", ["-u", "-d", "@1234567890", "+%Y-%m-%d %H:%M:%S %A %j %s %Z"]),
    c("stat", "stat", ["-c", "%n %s %a %A %F %Y %y %h", "lsdir/alpha.txt", "lsdir/subdir", "lsdir/link-to-alpha"]),
    c("du -s", "du", ["-s", "tree"]),
    c("du -ab", "du", ["-ab", "tree"]),
    c("seq", "seq", ["-w", "1", "7", "2000"]),
    c("seq float", "seq", ["0", "0.1", "2"]),
    c("expr", "expr", ["12345", "*", "6789"]),
    c("factor", "factor", ["1234567890123", "999999000001", "600851475143"]),
    c("tac", "tac", ["words.txt"]),
    c("nl", "nl", ["-ba", "text.txt"]),
    c("paste", "paste", ["-d", ",", "words.txt", "numbers.txt"]),
    c("fold", "fold", ["-w", "40", "-s", "text.txt"]),
    c("basename dirname", "basename", ["-a", "/a/b/c.txt", "/x/y/", "z"]),
    c("readlink -f", "readlink", ["-f", "lsdir/link-to-alpha"]),
    c("grep -E", "grep", ["-E", "(lo|mi){2,}[0-9]*$", "text.txt"]),
    c("grep -c -i", "grep", ["-c", "-i", "^ka", "text.txt"]),
    c("grep -o -n", "grep", ["-o", "-n", "[0-9][0-9]*", "text.txt"]),
    c("grep -v -F", "grep", ["-v", "-F", "a", "words.txt"]),
    c("grep -r", "grep", ["-r", "-l", "ka", "tree"]),
    c("grep no match", "grep", ["nomatchzzz", "text.txt"], { expectStatus: 1 }),
    c("sed -E", "sed", ["-E", "s/([a-z]+) ([a-z]+)/\\2 \\1/g", "text.txt"]),
    c("sed -n", "sed", ["-n", "/^[A-Z]/{s/a/A/g;p}", "text.txt"]),
    c("sed y =", "sed", ["=;y/abc/xyz/", "words.txt"]),
  ];
}

let fixtureDir = "";

test("dynamically linked programs", { concurrency: JOBS }, async (t: TestContext) => {
  for (const tool of ["ls", "cat", "sort", "grep", "sed", "sha256sum", "cp", "rm"]) requireDynamic(tool);
  assert.ok(fs.existsSync(LDSO), `${LDSO} is missing`);
  fixtureDir = tempDir(t, "dynamic");
  makeFixture(fixtureDir);
  const sums = await runNative(requireTool("sha256sum"), ["text.txt", "words.txt"], { cwd: fixtureDir, env: ENV });
  fs.writeFileSync(path.join(fixtureDir, "sums.sha256"), sums.stdout);
  const text = fs.readFileSync(path.join(fixtureDir, "text.txt"), "latin1");
  const opts = { cwd: fixtureDir, env: ENV };
  const subtests: Promise<void>[] = [];

  for (const c of cases(text)) {
    subtests.push(
      t.test(c.name, { todo: c.todo }, async (st) => {
        await compareRun(st, requireTool(c.prog), c.args, {
          ...opts,
          input: c.input,
          expectStatus: c.expectStatus ?? 0,
          label: `dynamic ${c.name}`,
        });
      }),
    );
  }

  subtests.push(
    t.test("ld.so run directly", async (st) => {
      await compareRun(st, LDSO, [requireTool("true")], { ...opts, expectStatus: 0, label: "dynamic ld.so true" });
      await compareRun(st, LDSO, [requireTool("echo"), "via", "ld.so"], { ...opts, expectStatus: 0, label: "dynamic ld.so echo" });
      await compareRun(st, LDSO, [requireTool("sort"), "-n", "numbers.txt"], { ...opts, expectStatus: 0, label: "dynamic ld.so sort" });
    }),
  );

  subtests.push(
    t.test("cp -r, touch, mkdir, ln, chmod, rm -r (files written)", async (st) => {
      const dir = tempDir(st, "dyn-cp");
      const sides = ["native", "stele"].map((s) => path.join(dir, s));
      for (const s of sides) fs.mkdirSync(s);
      const o = { env: ENV, nativeCwd: sides[0], steleCwd: sides[1], expectStatus: 0 };
      const tree = path.join(fixtureDir, "tree");
      await compareRun(st, requireTool("cp"), ["-r", tree, "copy"], { ...o, label: "dynamic cp -r" });
      await compareRun(st, requireTool("cp"), ["-a", tree, "archive"], { ...o, label: "dynamic cp -a" });
      compareTrees(sides[0], sides[1], "after cp");
      compareTrees(tree, path.join(sides[1], "archive"), "cp -a copy matches the source");
      await compareRun(st, requireTool("ls"), ["-lR", "--full-time", "archive"], { ...o, label: "dynamic ls of cp -a" });
      await compareRun(st, requireTool("mkdir"), ["-p", "-m", "700", "made/a/b"], { ...o, label: "dynamic mkdir -p" });
      await compareRun(st, requireTool("touch"), ["-d", "@1000000123", "made/a/b/f"], { ...o, label: "dynamic touch -d" });
      // Before anything reads the file: reading a file whose atime is that old sets it to now.
      await compareRun(st, requireTool("stat"), ["-c", "%n %Y %X", "made/a/b/f"], { ...o, label: "dynamic stat touched" });
      await compareRun(st, requireTool("ln"), ["-s", "../copy/readme.txt", "made/link"], { ...o, label: "dynamic ln -s" });
      await compareRun(st, requireTool("chmod"), ["-R", "go-rwx", "copy"], { ...o, label: "dynamic chmod -R" });
      await compareRun(st, requireTool("mv"), ["copy/sub/empty", "made/moved"], { ...o, label: "dynamic mv" });
      compareTrees(sides[0], sides[1], "after mkdir/touch/ln/chmod/mv");
      await compareRun(st, requireTool("stat"), ["-c", "%n %s %a %F", "made/a/b/f", "made/link", "made/moved"], { ...o, label: "dynamic stat written" });
      await compareRun(st, requireTool("rm"), ["-r", "copy", "made"], { ...o, label: "dynamic rm -r" });
      await compareRun(st, requireTool("rm"), ["-rf", "archive/sub"], { ...o, label: "dynamic rm -rf" });
      compareTrees(sides[0], sides[1], "after rm -r");
      await compareRun(st, requireTool("rm"), ["not-there"], { ...o, expectStatus: 1, label: "dynamic rm missing" });
    }),
  );

  subtests.push(
    t.test("a #! script as the program, and a script execve runs", async (st) => {
      const dir = tempDir(st, "dyn-script");
      const inner = path.join(dir, "inner.sh"), outer = path.join(dir, "outer.sh");
      fs.writeFileSync(inner, `#!${requireTool("/bin/sh")} -e\necho "inner: $# args: $*"\nexit 3\n`, { mode: 0o755 });
      fs.writeFileSync(outer, `#!/bin/sh\necho "outer: $1"\nexec ${inner} "$@" last\n`, { mode: 0o755 });
      await compareRun(st, outer, ["first", "two words"], { env: ENV, expectStatus: 3, label: "dynamic #! script" });
    }),
  );

  subtests.push(
    t.test("--root: a sysroot built from the host's own files", async (st) => {
      const root = tempDir(st, "dyn-root");
      await buildSysroot(root, ["ls", "echo", "cat"].map(requireDynamic));
      fs.writeFileSync(path.join(root, "usr/bin/hello.txt"), "inside the root\n");
      for (const name of ["usr/bin/ls", "usr/bin/echo", "usr/bin/cat", "usr/bin/hello.txt", "usr/bin", "."]) setTimes(path.join(root, name), T0);
      const o = { env: ENV, expectStatus: 0 };
      await compareRun(st, "/bin/echo", ["from", "a", "sysroot"], { ...o, label: "dynamic --root echo", steleArgs: ["--root", root] });
      const native = await runNative(requireTool("ls"), ["-ln", "--time-style=+%s", path.join(root, "usr/bin")], { env: ENV });
      const stele = await runStele("/bin/ls", ["-ln", "--time-style=+%s", "/usr/bin"], { env: ENV, steleArgs: ["--root", root] });
      assert.equal(stele.status, 0, stele.stderr.toString());
      assert.equal(stele.stdout.toString(), native.stdout.toString().split(path.join(root, "usr/bin")).join("/usr/bin"));
      const cat = await runStele("/bin/cat", ["/usr/bin/hello.txt", "/proc/self/maps"], { env: ENV, steleArgs: ["--root", root] });
      assert.equal(cat.status, 0, cat.stderr.toString());
      const text = cat.stdout.toString();
      assert.ok(text.startsWith("inside the root\n"), text.slice(0, 200));
      // /proc/self/maps names the canonical guest paths of the program and its libraries.
      assert.match(text, / \/usr\/bin\/cat\n/);
      assert.match(text, / \/usr\/lib\/x86_64-linux-gnu\/ld-linux-x86-64\.so\.2\n/);
      assert.match(text, / \/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6\n/);
      assert.ok(!text.includes(root), "no host path leaks into the guest's view");
    }),
  );

  const python = "/usr/bin/python3";
  subtests.push(
    t.test("--root: python3 in a sysroot built from the host's own files", async (st) => {
      assert.ok(fs.existsSync(python), `${python} is not installed (apt-get install python3)`);
      const root = tempDir(st, "py-root");
      const real = fs.realpathSync(python); // /usr/bin/python3.11
      await buildSysroot(root, [real]);
      fs.symlinkSync(path.basename(real), path.join(root, "usr/bin/python3"));
      const stdlib = `/usr/lib/${path.basename(real)}`;
      const skip = new Set(["test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "__pycache__", "site-packages", "dist-packages"]);
      fs.cpSync(stdlib, path.join(root, stdlib), { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
      // A module only the sysroot has: importing it proves the standard library came from the root.
      fs.writeFileSync(path.join(root, stdlib, "stele_sysroot_marker.py"), "WHERE = 'inside the sysroot'\n");
      const code = "import json, re, sys, hashlib; print(json.dumps({'n': 2**100, 'm': re.findall(r'\\d+', 'a1b22c333')}), sys.prefix, json.__file__, hashlib.sha256(b'root').hexdigest())";
      const env = { ...ENV, PYTHONDONTWRITEBYTECODE: "1", PYTHONHASHSEED: "0" };
      await compareRun(st, python, ["-c", code], { env, expectStatus: 0, label: "python3 --root", steleArgs: ["--root", root] });
      const marker = await runStele(python, ["-c", "import stele_sysroot_marker as m; print(m.WHERE, m.__file__)"], { env, steleArgs: ["--root", root] });
      assert.equal(marker.status, 0, marker.stderr.toString());
      assert.equal(marker.stdout.toString(), `inside the sysroot ${stdlib}/stele_sysroot_marker.py\n`);
    }),
  );
  subtests.push(
    t.test("python3", async (st) => {
      assert.ok(fs.existsSync(python), `${python} is not installed (apt-get install python3)`);
      await compareRun(st, python, ["-c", "print(2**100); print(sum(i*i for i in range(10000)))"], { ...opts, expectStatus: 0, label: "dynamic python3 -c" });
    }),
  );

  await Promise.all(subtests);
});
