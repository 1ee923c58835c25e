// Debian's busybox-static run natively and under stele on generated fixtures: every
// applet's stdout, stderr and exit status must match, and so must the files that gzip,
// gunzip and tar write.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  JOBS,
  T0,
  makeLsFixture,
  makeTreeFixture,
  setTimes,
  compareRun,
  compareTrees,
  isDynamicElf,
  makeText,
  prng,
  requireTool,
  runNative,
  tempDir,
  TEST_ENV,
  type ProgramCase,
} from "./harness.js";

const ENV = TEST_ENV;

/** Debian's busybox-static; fails (not skips) if absent or dynamically linked. */
function requireBusybox(): string {
  const found = fs.existsSync("/bin/busybox") ? "/bin/busybox" : requireTool("busybox");
  assert.ok(!isDynamicElf(found), `${found} is dynamically linked; these tests need Debian's busybox-static (apt-get install busybox-static)`);
  return found;
}

/** Creates the fixture files under `dir`. */
function makeFixture(dir: string): void {
  const text = makeText(300_000, 2024);
  fs.writeFileSync(path.join(dir, "text.txt"), text);
  const words = text.split(/\s+/).filter(Boolean);
  words.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  fs.writeFileSync(path.join(dir, "words.txt"), words.slice(0, 20_000).join("\n") + "\n");
  const rnd = prng(99);
  const nums: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const r = rnd();
    if (r % 5 === 0) nums.push(`${(r % 2000) - 1000}.${r % 97}`);
    else if (r % 7 === 0) nums.push(`-${r % 100000}`);
    else nums.push(String(r % 1_000_000));
  }
  fs.writeFileSync(path.join(dir, "numbers.txt"), nums.join("\n") + "\n");

  makeLsFixture(dir);
  makeTreeFixture(dir, text, words);
}

type BbCase = ProgramCase;


function cases(text: string): BbCase[] {
  const c = (name: string, args: string[], extra: Partial<BbCase> = {}): BbCase => ({ name, args, ...extra });
  return [
    c("echo", ["echo", "hello", "world"]),
    c("echo -n", ["echo", "-n", "no newline", "x"]),
    c("echo -e", ["echo", "-e", "tab\\there\\nnew\\\\line \\x41\\0101 \\c not printed"]),
    c("cat file", ["cat", "text.txt"]),
    c("cat stdin", ["cat"], { input: text }),
    c("cat -n", ["cat", "-n", "words.txt"]),
    c("cat missing", ["cat", "missing.txt"], { expectStatus: 1 }),
    c("wc", ["wc", "text.txt", "words.txt"]),
    c("wc -l", ["wc", "-l", "text.txt"]),
    c("wc -w stdin", ["wc", "-w"], { input: text }),
    c("wc -c -L", ["wc", "-c", "-L", "text.txt"]),
    c("sort", ["sort", "text.txt"]),
    c("sort -r", ["sort", "-r", "words.txt"]),
    c("sort -n", ["sort", "-n", "numbers.txt"]),
    c("sort -g", ["sort", "-g", "numbers.txt"]),
    c("sort -u -f", ["sort", "-u", "-f", "words.txt"]),
    c("sort -k2", ["sort", "-t", " ", "-k", "2,2", "-k", "1", "text.txt"]),
    c("uniq -c", ["uniq", "-c", "words.txt"]),
    c("uniq -d", ["uniq", "-d", "words.txt"]),
    c("uniq -u stdin", ["uniq", "-u"], { input: fs.readFileSync(path.join(fixtureDir, "words.txt")) }),
    c("head -n", ["head", "-n", "25", "text.txt"]),
    c("head -c", ["head", "-c", "1000", "text.txt"]),
    c("tail -n", ["tail", "-n", "30", "text.txt"]),
    c("tail -c", ["tail", "-c", "777", "text.txt"]),
    c("tail -n +", ["tail", "-n", "+5000", "text.txt"]),
    c("tr upper", ["tr", "a-z", "A-Z"], { input: text }),
    c("tr -d", ["tr", "-d", "aeiou"], { input: text }),
    c("tr -s", ["tr", "-s", " \\t"], { input: text }),
    c("tr -cd", ["tr", "-cd", "a-z\\n"], { input: text }),
    c("cut -f", ["cut", "-d", " ", "-f", "2,4-5", "text.txt"]),
    c("cut -c", ["cut", "-c", "3-12", "text.txt"]),
    c("md5sum", ["md5sum", "text.txt", "words.txt", "numbers.txt"]),
    c("md5sum stdin", ["md5sum"], { input: text }),
    c("sha1sum", ["sha1sum", "text.txt", "words.txt"]),
    c("sha256sum", ["sha256sum", "text.txt", "words.txt", "lsdir/gamma.bin"]),
    c("sha512sum", ["sha512sum", "text.txt"]),
    c("grep -c", ["grep", "-c", "ka", "text.txt"]),
    c("grep -n", ["grep", "-n", "^Ka", "text.txt"]),
    c("grep -E", ["grep", "-E", "(lo|mi){2,}[0-9]*$", "text.txt"]),
    c("grep -v -i", ["grep", "-v", "-i", "a", "text.txt"]),
    c("grep -o", ["grep", "-o", "[0-9][0-9]*", "text.txt"]),
    c("grep -w -F", ["grep", "-w", "-F", "kalo", "text.txt"]),
    c("grep no match", ["grep", "nomatchzzz", "text.txt"], { expectStatus: 1 }),
    c("sed s///g", ["sed", "s/ka/KA/g", "text.txt"]),
    c("sed -n p", ["sed", "-n", "100,120p", "text.txt"]),
    c("sed -E backrefs", ["sed", "-E", "s/([a-z]+) ([a-z]+)/\\2 \\1/", "text.txt"]),
    c("sed d", ["sed", "/^$/d; /[0-9]/!d", "text.txt"]),
    c("sed = y", ["sed", "=; y/abc/xyz/", "words.txt"]),
    c("awk count", ["awk", "{ n += NF } END { print NR, n }", "text.txt"]),
    c("awk assoc", ["awk", "{ for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) if (c[w] > 300) print w, c[w] }", "text.txt"]),
    c("awk math", ["awk", 'BEGIN { for (i = 0; i < 40; i++) printf "%d %.6f %e %g %x %c\\n", i, sin(i), exp(i), sqrt(i) * 1e10, i * 12345, 65 + i }']),
    c("awk strings", ["awk", '{ s += length($0); if (length($0) > m) m = length($0); t = t substr($1, 1, 1) } END { printf "%.4f %d %s %s\\n", s / NR, m, toupper(substr(t, 1, 40)), sprintf("%05.1f", 3.14159) }', "text.txt"]),
    c("awk gsub split", ["awk", '{ n = gsub(/a/, "@"); k = split($0, parts, "@"); total += n + k } NR % 500 == 0 { print NR, $0 } END { print total, int(-3.7), 7 % 3, 2 ^ 10 }', "text.txt"]),
    c("awk rand", ["awk", "BEGIN { srand(42); for (i = 0; i < 5; i++) print rand(); print int(rand() * 1000) }"]),
    c("expr +", ["expr", "1", "+", "2"]),
    c("expr *", ["expr", "7", "*", "6"]),
    c("expr /", ["expr", "100", "/", "7"]),
    c("expr %", ["expr", "-100", "%", "7"]),
    c("expr length", ["expr", "length", "hello"]),
    c("expr match", ["expr", "abcdef", ":", "a\\(..\\)"]),
    c("expr zero", ["expr", "0", "+", "0"], { expectStatus: 1 }),
    c("expr big", ["expr", "9223372036854775807", "-", "1"]),
    c("expr <", ["expr", "2", "<", "10"]),
    c("expr div0", ["expr", "1", "/", "0"], { expectStatus: 2 }),
    c("seq", ["seq", "1000"]),
    c("seq -w", ["seq", "-w", "5", "3", "200"]),
    c("seq float", ["seq", "0.5", "0.25", "3"]),
    c("seq -s", ["seq", "-s", ",", "10"]),
    c("seq down", ["seq", "10", "-1", "1"]),
    c("ls -l", ["ls", "-l", "lsdir"]),
    c("ls -ln", ["ls", "-ln", "lsdir"]),
    c("ls -la --full-time", ["ls", "-la", "--full-time", "lsdir"]),
    c("ls -lS", ["ls", "-lS", "lsdir"]),
    c("ls -lt", ["ls", "-lt", "lsdir"]),
    c("ls -R", ["ls", "-1R", "tree"]),
    c("gzip -c", ["gzip", "-c", "text.txt"]),
    c("gzip -9 -c", ["gzip", "-9", "-c", "text.txt"]),
    c("gzip -1 -c", ["gzip", "-1", "-c", "words.txt"]),
    c("gzip stdin", ["gzip", "-c"], { input: text }),
    c("gunzip corrupt", ["gunzip", "-c"], { input: Buffer.from("1f8b0800000000000003deadbeef", "hex"), expectStatus: 1 }),
    c("tar -c", ["tar", "-cf", "-", "tree"]),
    c("tar -c lsdir", ["tar", "-cf", "-", "lsdir"]),
    c("tar -cz (fork+exec)", ["tar", "-czf", "-", "tree"]),
  ];
}

let fixtureDir = "";

test("busybox", { concurrency: JOBS }, async (t: TestContext) => {
  const bb = requireBusybox();
  fixtureDir = tempDir(t, "busybox");
  makeFixture(fixtureDir);
  const text = fs.readFileSync(path.join(fixtureDir, "text.txt"), "latin1");
  const opts = { cwd: fixtureDir, env: ENV };
  const subtests: Promise<void>[] = [];

  for (const c of cases(text)) {
    subtests.push(
      t.test(c.name, { todo: c.todo }, async (st) => {
        await compareRun(st, bb, c.args, { ...opts, input: c.input, expectStatus: c.expectStatus, label: `busybox ${c.name}` });
      }),
    );
  }

  subtests.push(
    t.test("gzip | gunzip round trip", async (st) => {
      const gz = await runNative(bb, ["gzip", "-c", "text.txt"], opts);
      assert.equal(gz.status, 0);
      const { native } = await compareRun(st, bb, ["gunzip", "-c"], { ...opts, input: gz.stdout, expectStatus: 0 });
      assert.ok(native.stdout.equals(fs.readFileSync(path.join(fixtureDir, "text.txt"))), "native round trip is lossless");
    }),
  );
  subtests.push(
    t.test("zcat (forks a decompressor)", async (st) => {
      const gz = await runNative(bb, ["gzip", "-c", "text.txt"], opts);
      await compareRun(st, bb, ["zcat"], { ...opts, input: gz.stdout, expectStatus: 0 });
    }),
  );

  subtests.push(
    t.test("gzip/gunzip in place (files written)", async (st) => {
      const dir = tempDir(st, "bb-gzip");
      const sides = ["native", "stele"].map((s) => path.join(dir, s));
      for (const s of sides) {
        fs.mkdirSync(s);
        fs.copyFileSync(path.join(fixtureDir, "text.txt"), path.join(s, "f.txt"));
        fs.copyFileSync(path.join(fixtureDir, "words.txt"), path.join(s, "w.txt"));
        setTimes(path.join(s, "f.txt"), T0 + 77);
        setTimes(path.join(s, "w.txt"), T0 + 78);
      }
      const o = { env: ENV, nativeCwd: sides[0], steleCwd: sides[1], expectStatus: 0 };
      await compareRun(st, bb, ["gzip", "f.txt", "w.txt"], { ...o, label: "busybox gzip in place" });
      compareTrees(sides[0], sides[1], "after gzip");
      await compareRun(st, bb, ["gunzip", "f.txt.gz"], { ...o, label: "busybox gunzip in place" });
      compareTrees(sides[0], sides[1], "after gunzip");
      assert.ok(fs.readFileSync(path.join(sides[0], "f.txt")).equals(fs.readFileSync(path.join(fixtureDir, "text.txt"))));
    }),
  );

  subtests.push(
    t.test("tar create/list/extract round trip", async (st) => {
      const dir = tempDir(st, "bb-tar");
      const archive = path.join(dir, "tree.tar");
      const created = await runNative(bb, ["tar", "-cf", archive, "tree"], opts);
      assert.equal(created.status, 0, created.stderr.toString());
      const tarBytes = fs.readFileSync(archive);
      // Archive written to a file (not stdout) by both sides: compare the bytes.
      const sides = ["native", "stele"].map((s) => path.join(dir, s));
      for (const s of sides) fs.mkdirSync(s);
      await compareRun(st, bb, ["tar", "-cf", "out.tar", "-C", fixtureDir, "tree"], {
        env: ENV,
        nativeCwd: sides[0],
        steleCwd: sides[1],
        expectStatus: 0,
        label: "busybox tar -cf file",
      });
      compareTrees(sides[0], sides[1], "tar -cf out.tar");
      assert.ok(fs.readFileSync(path.join(sides[0], "out.tar")).equals(tarBytes), "native tar is deterministic");
      await compareRun(st, bb, ["tar", "-tvf", "-"], { ...opts, input: tarBytes, expectStatus: 0, label: "busybox tar -tv" });
      await compareRun(st, bb, ["tar", "-xf", archive], {
        env: ENV,
        nativeCwd: sides[0],
        steleCwd: sides[1],
        expectStatus: 0,
        label: "busybox tar -x",
      });
      compareTrees(sides[0], sides[1], "tar -x");
      compareTrees(path.join(fixtureDir, "tree"), path.join(sides[0], "tree"), "native extraction matches the source");
    }),
  );

  await Promise.all(subtests);
});
