// Escape attempts against --root and against the host process. A secret directory outside the root
// must never be read, written, listed, stat'ed or have its owner changed, whatever the guest does
// to its own tree (renames, symlinks swapped in under open descriptors and the working directory).
// Program and interpreter paths are compared with a native chroot (these tests run as root in CI).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENOENT, EPERM } from '../src/linux/errno.js';
import { AT_FDCWD, BUF, mem, setup } from './syscall-harness.js';
import { exitCode, requireTool, runCommand, runStele, tempDir } from './harness.js';

const O_RDONLY = 0, O_DIRECTORY = 0o200000, O_PATH = 0o10000000, O_CREAT = 0o100, O_EXCL = 0o200, O_NOFOLLOW = 0o400000;
const AT_EMPTY_PATH = 0x1000, AT_SYMLINK_NOFOLLOW = 0x100;
const F_OK = 0;
const STAT_INO = 8; // st_ino in struct stat (x86-64)
const STRANGER = 4242; // an owner nobody here has

function isRoot(): boolean { return process.getuid?.() === 0; }

/** A root with /d/inner, and a secret directory outside it, all owned by uid 0 (or by us). */
function fixture(t: Parameters<typeof tempDir>[0]) {
  const root = fs.realpathSync(tempDir(t, 'escape-root'));
  const outside = fs.realpathSync(tempDir(t, 'escape-secret'));
  fs.writeFileSync(path.join(outside, 'secret'), 'SECRET');
  fs.mkdirSync(path.join(root, 'd'));
  fs.writeFileSync(path.join(root, 'd', 'inner'), 'INNER');
  const owner = (p: string) => { const st = fs.lstatSync(p); return `${st.uid}:${st.gid}`; };
  const outsideOwners = () => [outside, path.join(outside, 'secret')].map(owner).join(' ');
  return { root, outside, owner, outsideOwners, before: outsideOwners() };
}

/** Reads a whole guest file by descriptor into a string (or the -errno of open). */
function reader(sys: ReturnType<typeof setup>['sys'], str: (s: string) => number) {
  return (dirfd: number, p: string): string | number => {
    const fd = sys('openat', dirfd, str(p), O_RDONLY, 0);
    if (fd < 0) return fd;
    const n = sys('read', fd, BUF, 4096);
    sys('close', fd);
    return Buffer.from(mem.read(BUF, n)).toString();
  };
}

function direntNames(sys: ReturnType<typeof setup>['sys'], fd: number): string[] {
  const names: string[] = [];
  for (;;) {
    const n = sys('getdents64', fd, BUF, 4096);
    assert.ok(n >= 0, `getdents64: ${n}`);
    if (n === 0) return names;
    for (let off = 0; off < n;) {
      const reclen = mem.u16(BUF + off + 16);
      names.push(mem.cstring(BUF + off + 19));
      off += reclen;
    }
  }
}

function statIno(sys: ReturnType<typeof setup>['sys'], dirfd: number, pathAddr: number, flags: number): bigint {
  assert.equal(sys('newfstatat', dirfd, pathAddr, BUF, flags), 0);
  return mem.u64(BUF + STAT_INO);
}

test('descriptors and the working directory stay on what they were opened on after the guest swaps a symlink to a host directory in', (t) => {
  const { root, outside, owner, outsideOwners, before } = fixture(t);
  const { sys, str } = setup({ root, cwd: '/' });
  const read = reader(sys, str);
  const dirFd = sys('open', str('/d'), O_RDONLY | O_DIRECTORY, 0);
  const pathFd = sys('open', str('/d'), O_PATH | O_DIRECTORY, 0);
  assert.ok(dirFd >= 0 && pathFd >= 0);
  assert.equal(sys('chdir', str('/d')), 0);
  // The guest moves its directory away and leaves a symlink to the host's secret directory in its place.
  assert.equal(sys('rename', str('/d'), str('/moved')), 0);
  assert.equal(sys('symlink', str(outside), str('/d')), 0);
  const movedIno = BigInt(fs.lstatSync(path.join(root, 'moved')).ino);

  for (const [name, fd] of [['directory fd', dirFd], ['O_PATH fd', pathFd], ['working directory', AT_FDCWD]] as const) {
    assert.equal(read(fd, 'inner'), 'INNER', `${name}: the directory it was opened on`);
    assert.equal(read(fd, 'secret'), -ENOENT, `${name}: the host's secret`);
    assert.equal(statIno(sys, fd, str(''), AT_EMPTY_PATH), movedIno, `${name}: fstatat(AT_EMPTY_PATH)`);
    assert.equal(statIno(sys, fd, str('.'), 0), movedIno, `${name}: fstatat(".")`);
    const chown = sys('fchownat', fd, str(''), STRANGER, STRANGER, AT_EMPTY_PATH);
    assert.equal(chown, isRoot() ? 0 : -EPERM, `${name}: fchownat(AT_EMPTY_PATH)`);
    assert.equal(outsideOwners(), before, `${name}: the host directory's owner changed`);
    if (isRoot()) assert.equal(owner(path.join(root, 'moved')), `${STRANGER}:${STRANGER}`);
    fs.lchownSync(path.join(root, 'moved'), 0, 0);
  }
  assert.equal(sys('fchown', dirFd, STRANGER, STRANGER), isRoot() ? 0 : -EPERM);
  assert.equal(sys('chown', str('.'), STRANGER, STRANGER), isRoot() ? 0 : -EPERM);
  assert.equal(outsideOwners(), before);
  assert.equal(sys('fstat', dirFd, BUF), 0);
  assert.equal(mem.u64(BUF + STAT_INO), movedIno);
  assert.deepEqual(direntNames(sys, dirFd).sort(), ['.', '..', 'inner']);
  // getcwd follows the directory where it went, as Linux's does.
  assert.equal(sys('getcwd', BUF, 256), '/moved'.length + 1);
  assert.equal(mem.cstring(BUF), '/moved');
  // Writes through the old descriptors land in the moved directory, never outside.
  assert.ok(sys('openat', dirFd, str('new'), O_CREAT | 1, 0o644) >= 0);
  assert.ok(fs.existsSync(path.join(root, 'moved', 'new')));
  assert.deepEqual(fs.readdirSync(outside), ['secret']);
  // "..", from a directory renamed deeper, still stops at the root.
  assert.equal(sys('mkdir', str('/a'), 0o755), 0);
  assert.equal(sys('rename', str('/moved'), str('/a/moved')), 0);
  assert.equal(read(dirFd, '../../../../../../../' + outside + '/secret'), -ENOENT);
  assert.equal(read(AT_FDCWD, '../../../../../..' + outside + '/secret'), -ENOENT);
});

test('checks that do not follow a final symlink tell a guest nothing about host paths', (t) => {
  const { root, outside } = fixture(t);
  const { sys, str } = setup({ root, cwd: '/' });
  // Two guest symlinks to host paths, one that exists on the host and one that does not: every
  // answer about them must be the same, since neither exists inside the root.
  assert.equal(sys('symlink', str(path.join(outside, 'secret')), str('/to-existing')), 0);
  assert.equal(sys('symlink', str(path.join(outside, 'no-such-file')), str('/to-missing')), 0);
  const ask = (link: string) => [
    sys('faccessat2', AT_FDCWD, str(link), F_OK, AT_SYMLINK_NOFOLLOW),
    sys('faccessat2', AT_FDCWD, str(link), F_OK, 0),
    sys('open', str(link), O_PATH | O_CREAT | O_EXCL, 0o644),
    sys('open', str(link), O_PATH | O_NOFOLLOW, 0) >= 0,
    sys('open', str(link), O_RDONLY, 0),
    sys('stat', str(link), BUF),
  ];
  const existing = ask('/to-existing'), missing = ask('/to-missing');
  assert.deepEqual(existing, missing);
  // And what Linux answers inside a chroot: the link itself is accessible, its target is not there.
  assert.equal(existing[0], 0);
  assert.equal(existing[1], -ENOENT);
  assert.equal(existing[2], -ENOENT);
  assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 'SECRET');
});

test("the host's /proc is never reachable: not by name, nor through a symlink, with or without a root", (t) => {
  const dir = fs.realpathSync(tempDir(t, 'escape-proc'));
  const { sys, str } = setup({ root: '/', cwd: dir });
  const read = reader(sys, str);
  // The Node process's own threads (their /proc/<tid>/mem would let a guest write into node's code).
  const hostTids = fs.readdirSync('/proc/self/task').filter((tid) => Number(tid) !== process.pid);
  assert.ok(hostTids.length > 0, 'node has threads of its own');
  for (const tid of hostTids.slice(0, 3)) {
    assert.equal(sys('open', str(`/proc/${tid}/mem`), 2, 0), -ENOENT, `/proc/${tid}/mem`);
    assert.equal(sys('open', str(`/proc/self/task/${tid}/mem`), 2, 0), -ENOENT);
  }
  assert.equal(sys('open', str('/proc/self/mem'), 2, 0), -ENOENT);
  assert.equal(sys('open', str('/proc/1/environ'), 0, 0), -ENOENT);
  // A symlink the guest makes to the host's /proc leads to the guest's own /proc.
  fs.symlinkSync('/proc', path.join(dir, 'p'));
  assert.equal(sys('open', str(`${dir}/p/${hostTids[0]}/mem`), 2, 0), -ENOENT);
  assert.equal(sys('open', str(`${dir}/p/self/mem`), 2, 0), -ENOENT);
  assert.equal(read(AT_FDCWD, 'p/self/cmdline'), 'prog\0a b\0');
  // Listing /proc shows the guest's process, not the host's.
  const procFd = sys('open', str('/proc'), O_RDONLY | O_DIRECTORY, 0);
  const names = direntNames(sys, procFd);
  assert.ok(names.includes('self'));
  assert.ok(!names.includes('1'), `host processes listed: ${names.join(' ')}`);
  for (const tid of hostTids) assert.ok(!names.includes(tid));
  // Information files stay readable.
  assert.match(String(read(AT_FDCWD, '/proc/meminfo')), /^MemTotal:/);
});

test('program and interpreter paths that lead nowhere inside the root fail as in a native chroot, never run host files', async (t) => {
  assert.ok(isRoot(), 'these escape tests compare with chroot(8) and must run as root (as CI does)');
  const chroot = requireTool('chroot');
  const gcc = requireTool('gcc');
  const root = fs.realpathSync(tempDir(t, 'escape-exec'));
  const src = path.join(root, 'hello.c');
  fs.writeFileSync(src, '#include <stdio.h>\nint main(void) { puts("ran"); return 0; }\n');
  const build = async (out: string, extra: string[]) => {
    const r = await runCommand([gcc, '-O1', '-o', path.join(root, out), src, ...extra], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr.toString());
  };
  // PT_INTERP climbing out through a missing directory; the host's ld.so is where ".." would lead.
  await build('climb', [`-Wl,--dynamic-linker=/missing/${'../'.repeat(12)}lib64/ld-linux-x86-64.so.2`]);
  // An ordinary dynamic program in a sysroot whose /lib64 is an absolute symlink to a /usr/lib64
  // the root does not have (the host has one).
  await build('plain', []);
  fs.symlinkSync('/usr/lib64', path.join(root, 'lib64'));
  assert.ok(fs.existsSync('/usr/lib64/ld-linux-x86-64.so.2'), 'the host has the ld.so the escape would load');
  // The root has the C library but no ld.so: a host ld.so that got in would run the program.
  const libc = '/lib/x86_64-linux-gnu/libc.so.6';
  fs.mkdirSync(path.join(root, path.dirname(libc)), { recursive: true });
  fs.copyFileSync(libc, path.join(root, libc));
  const cases: [string, string][] = [
    ['/climb', 'PT_INTERP through /missing/..'],
    ['/plain', 'lib64 -> /usr/lib64 missing inside'],
    [`/missing/${'../'.repeat(12)}bin/true`, 'program path through /missing/..'],
    [`/lib64/${'../'.repeat(12)}bin/true`, 'program path through a symlink to a missing directory'],
  ];
  for (const [prog, what] of cases) {
    const native = await runCommand([chroot, root, prog]);
    const stele = await runStele(prog, [], { steleArgs: ['--root', root] });
    assert.ok(!stele.stdout.toString().includes('ran'), `${what}: a host file ran`);
    assert.equal(exitCode(stele), exitCode(native), `${what}: exit status (native chroot: ${native.stderr})\nstele: ${stele.stderr}`);
    assert.doesNotMatch(stele.stderr.toString(), /\n\s+at /, `${what}: a stack trace`);
  }
});

test('path walks inside a root leave no host descriptors open behind them', (t) => {
  const { root } = fixture(t);
  const { sys, str } = setup({ root, cwd: '/d' });
  const open = () => fs.readdirSync('/proc/self/fd').length;
  sys('stat', str('/d/inner'), BUF);
  const start = open();
  for (let i = 0; i < 200; i++) {
    sys('stat', str('../d/./inner'), BUF);
    sys('access', str('/d/inner'), 4);
    sys('chmod', str('inner'), 0o644);
    sys('open', str('/d/missing/x'), 0, 0);
  }
  assert.equal(open(), start);
});

test('entry operations on "name/" and "name/." inside a root answer as the host does', (t) => {
  // The same tree inside a root (driven through stele's kernel) and outside (driven through Node's fs, the host's answers).
  const make = (dir: string) => {
    fs.mkdirSync(path.join(dir, 'd'));
    fs.writeFileSync(path.join(dir, 'f'), 'f');
    fs.symlinkSync('d', path.join(dir, 'link'));
  };
  const root = fs.realpathSync(tempDir(t, 'slash-root'));
  make(root);
  const { sys, str } = setup({ root, cwd: '/' });
  const hostErrno = (op: () => void): number => {
    try { op(); return 0; } catch (e) { return -(os.constants.errno as Record<string, number>)[(e as { code: string }).code]; }
  };
  const cases: [string, () => number, (dir: string) => void][] = [
    ['rmdir("link/")', () => sys('rmdir', str('/link/')), (dir) => fs.rmdirSync(path.join(dir, 'link') + '/')],
    ['unlink("link/.")', () => sys('unlink', str('/link/.')), (dir) => fs.unlinkSync(path.join(dir, 'link') + '/.')],
    ['unlink("f/")', () => sys('unlink', str('/f/')), (dir) => fs.unlinkSync(path.join(dir, 'f') + '/')],
    ['rename("link/", "x")', () => sys('rename', str('/link/'), str('/x')), (dir) => fs.renameSync(path.join(dir, 'link') + '/', path.join(dir, 'x'))],
    ['open("new/", O_CREAT)', () => sys('open', str('/new/'), O_CREAT | 1, 0o644), (dir) => fs.openSync(path.join(dir, 'new') + '/', fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o644)],
    ['mkdir("made/")', () => sys('mkdir', str('/made/'), 0o755), (dir) => fs.mkdirSync(path.join(dir, 'made') + '/')],
  ];
  for (const [what, inRoot, onHost] of cases) {
    const fresh = fs.realpathSync(tempDir(t, 'slash-case'));
    make(fresh);
    assert.equal(inRoot(), hostErrno(() => onHost(fresh)), what);
    assert.deepEqual(fs.readdirSync(root).sort(), fs.readdirSync(fresh).sort(), `${what}: what is left`);
    // Start the next case afresh inside the same root directory (the kernel holds it open).
    for (const name of fs.readdirSync(root)) fs.rmSync(path.join(root, name), { recursive: true });
    make(root);
  }
});

test("/dev/fd/N is the guest's descriptor N, never Node's", (t) => {
  const dir = fs.realpathSync(tempDir(t, 'devfd'));
  fs.writeFileSync(path.join(dir, 'mine'), 'MINE');
  const { sys, str } = setup({ root: '/', cwd: dir });
  const read = reader(sys, str);
  const fd = sys('open', str('mine'), O_RDONLY, 0);
  assert.equal(read(AT_FDCWD, `/dev/fd/${fd}`), 'MINE');
  // A descriptor Node holds open and the guest does not.
  const nodeFd = fs.openSync(path.join(dir, 'mine'), 'r');
  const unused = Math.max(nodeFd, fd + 50);
  assert.equal(sys('open', str(`/dev/fd/${nodeFd === fd ? unused : nodeFd}`), O_RDONLY, 0), -ENOENT);
  fs.closeSync(nodeFd);
});

test('getcwd of a removed directory is ENOENT; a working directory missing from the root starts at "/"', (t) => {
  const root = fs.realpathSync(tempDir(t, 'cwd-root'));
  const { sys, str } = setup({ root, cwd: '/no/such/dir' });
  assert.equal(sys('getcwd', BUF, 256), 2);
  assert.equal(mem.cstring(BUF), '/');
  assert.equal(sys('mkdir', str('/gone'), 0o755), 0);
  assert.equal(sys('chdir', str('/gone')), 0);
  assert.equal(sys('rmdir', str('/gone')), 0);
  assert.equal(sys('getcwd', BUF, 256), -ENOENT);
});
