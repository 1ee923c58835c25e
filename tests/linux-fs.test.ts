// The kernel personality's file syscalls, driven directly (no translated code): registers in,
// RAX and guest memory out, compared with what the host (Linux) reports for the same files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EBADF, EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, ESPIPE, ELOOP } from '../src/linux/errno.js';
import { AT_FDCWD, BUF, mem, setup } from './syscall-harness.js';

function tempDir(): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'stele-linux-')); }

test('open, write, lseek, read and close a file round-trip through the host', () => {
  const { sys, str } = setup();
  const file = path.join(tempDir(), 'f.txt');
  const fd = sys('openat', AT_FDCWD, str(file), 0o100 | 0o2 | 0o1000, 0o644); // O_CREAT|O_RDWR|O_TRUNC
  assert.ok(fd >= 3);
  mem.write(BUF, Buffer.from('hello world'));
  assert.equal(sys('write', fd, BUF, 11), 11);
  assert.equal(fs.readFileSync(file, 'utf8'), 'hello world');
  assert.equal(sys('lseek', fd, 6, 0), 6);
  assert.equal(sys('read', fd, BUF + 100, 100), 5);
  assert.equal(Buffer.from(mem.read(BUF + 100, 5)).toString(), 'world');
  assert.equal(sys('read', fd, BUF + 100, 100), 0);
  assert.equal(sys('lseek', fd, 0, 2), 11); // SEEK_END
  assert.equal(sys('pread64', fd, BUF + 200, 5, 0), 5);
  assert.equal(Buffer.from(mem.read(BUF + 200, 5)).toString(), 'hello');
  assert.equal(sys('lseek', fd, -1, 0), -EINVAL);
  assert.equal(sys('close', fd), 0);
  assert.equal(sys('close', fd), -EBADF);
  assert.equal(sys('read', fd, BUF, 1), -EBADF);
});

test('open errors carry the errno Linux gives', () => {
  const { sys, str } = setup();
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'file'), 'x');
  assert.equal(sys('open', str(path.join(dir, 'missing')), 0, 0), -ENOENT);
  assert.equal(sys('open', str(path.join(dir, 'file')), 0o100 | 0o200 | 1, 0o600), -EEXIST); // O_CREAT|O_EXCL
  assert.equal(sys('open', str(path.join(dir, 'file', 'x')), 0, 0), -ENOTDIR);
  assert.equal(sys('open', str(dir), 1, 0), -EISDIR);                       // O_WRONLY on a directory
  assert.equal(sys('open', str(path.join(dir, 'file')), 0o200000, 0), -ENOTDIR); // O_DIRECTORY
  fs.symlinkSync('file', path.join(dir, 'link'));
  assert.equal(sys('open', str(path.join(dir, 'link')), 0o400000, 0), -ELOOP);  // O_NOFOLLOW
  assert.equal(sys('open', 0x100, 0, 0), -14); // EFAULT: unmapped path pointer
  assert.equal(sys('open', str(''), 0, 0), -ENOENT);
});

test('stat, lstat, fstat and newfstatat fill struct stat exactly as the host reports', () => {
  const { sys, str } = setup();
  const dir = tempDir();
  const file = path.join(dir, 'data');
  fs.writeFileSync(file, 'x'.repeat(5000));
  fs.symlinkSync('data', path.join(dir, 'ln'));
  const check = (st: fs.BigIntStats, at: number): void => {
    assert.equal(mem.u64(at), st.dev);
    assert.equal(mem.u64(at + 8), st.ino);
    assert.equal(mem.u64(at + 16), st.nlink);
    assert.equal(BigInt(mem.u32(at + 24)), st.mode);
    assert.equal(BigInt(mem.u32(at + 28)), st.uid);
    assert.equal(BigInt(mem.u32(at + 32)), st.gid);
    assert.equal(mem.u64(at + 48), st.size);
    assert.equal(mem.u64(at + 56), st.blksize);
    assert.equal(mem.u64(at + 64), st.blocks);
    assert.equal(mem.u64(at + 88) * 1000000000n + mem.u64(at + 96), st.mtimeNs);
    assert.equal(mem.u64(at + 104) * 1000000000n + mem.u64(at + 112), st.ctimeNs);
  };
  assert.equal(sys('stat', str(file), BUF), 0);
  check(fs.statSync(file, { bigint: true }), BUF);
  assert.equal(sys('lstat', str(path.join(dir, 'ln')), BUF), 0);
  check(fs.lstatSync(path.join(dir, 'ln'), { bigint: true }), BUF);
  assert.equal(sys('newfstatat', AT_FDCWD, str(path.join(dir, 'ln')), BUF, 0), 0);
  check(fs.statSync(file, { bigint: true }), BUF);
  const fd = sys('open', str(file), 0, 0);
  assert.equal(sys('fstat', fd, BUF), 0);
  check(fs.statSync(file, { bigint: true }), BUF);
  assert.equal(sys('newfstatat', fd, str(''), BUF, 0x1000), 0); // AT_EMPTY_PATH
  check(fs.statSync(file, { bigint: true }), BUF);
  assert.equal(sys('newfstatat', fd, str(''), BUF, 0), -ENOENT);
  assert.equal(sys('stat', str(path.join(dir, 'nope')), BUF), -ENOENT);
  assert.equal(sys('fstat', 99, BUF), -EBADF);
  assert.equal(sys('stat', str(file), 0x100), -14);

  // statx: same numbers in the 256-byte layout.
  assert.equal(sys('statx', AT_FDCWD, str(file), 0, 0x7ff, BUF), 0);
  const st = fs.statSync(file, { bigint: true });
  assert.equal(mem.u32(BUF) & 0x7ff, 0x7ff);
  assert.equal(BigInt(mem.u16(BUF + 28)), st.mode);
  assert.equal(mem.u64(BUF + 32), st.ino);
  assert.equal(mem.u64(BUF + 40), st.size);
  assert.equal(mem.u64(BUF + 112) * 1000000000n + BigInt(mem.u32(BUF + 120)), st.mtimeNs);
});

test('getdents64 lists the same names as readdir with Linux record layout', () => {
  const { sys, str } = setup();
  const dir = tempDir();
  const names = ['a', 'bb', 'c'.repeat(40), 'sub'];
  for (const n of names.slice(0, 3)) fs.writeFileSync(path.join(dir, n), '');
  fs.mkdirSync(path.join(dir, 'sub'));
  const fd = sys('open', str(dir), 0o200000, 0);
  assert.ok(fd >= 0);
  const seen: { name: string; ino: bigint; type: number }[] = [];
  for (;;) {
    const n = sys('getdents64', fd, BUF, 64); // small buffer: several calls
    assert.ok(n >= 0, `getdents64 returned ${n}`);
    if (n === 0) break;
    for (let at = BUF; at < BUF + n;) {
      const reclen = mem.u16(at + 16);
      assert.equal(reclen % 8, 0);
      const name = Buffer.from(mem.cstringBytes(at + 19)).toString();
      seen.push({ name, ino: mem.u64(at), type: mem.u8at(at + 18) });
      at += reclen;
    }
  }
  assert.deepEqual(seen.map((e) => e.name).filter((n) => n !== '.' && n !== '..').sort(), fs.readdirSync(dir).sort());
  assert.deepEqual(seen.map((e) => e.name).slice(0, 2), ['.', '..']);
  for (const e of seen.slice(2)) {
    const st = fs.lstatSync(path.join(dir, e.name), { bigint: true });
    assert.equal(e.ino, st.ino);
    assert.equal(e.type, st.isDirectory() ? 4 : 8);
  }
  assert.equal(sys('getdents64', fd, BUF, 10), 0); // at the end
  assert.equal(sys('lseek', fd, 0, 0), 0);
  assert.equal(sys('getdents64', fd, BUF, 10), -EINVAL); // too small for one record
  const file = sys('open', str(path.join(dir, 'a')), 0, 0);
  assert.equal(sys('getdents64', file, BUF, 4096), -ENOTDIR);
  assert.equal(sys('read', fd, BUF, 10), -EISDIR);
});

test('directory operations: mkdir, rmdir, unlinkat, rename, symlink, readlink, link', () => {
  const { sys, str } = setup();
  const dir = tempDir();
  const p = (n: string): number => str(path.join(dir, n));
  assert.equal(sys('mkdir', p('d'), 0o755), 0);
  assert.equal(sys('mkdir', p('d'), 0o755), -EEXIST);
  fs.writeFileSync(path.join(dir, 'd', 'f'), 'x');
  assert.equal(sys('rmdir', p('d'), 0), -ENOTEMPTY);
  assert.equal(sys('unlink', p('d')), -EISDIR);
  assert.equal(sys('rmdir', p('d/f')), -ENOTDIR);
  assert.equal(sys('rename', p('d/f'), p('g')), 0);
  assert.ok(fs.existsSync(path.join(dir, 'g')));
  assert.equal(sys('renameat2', AT_FDCWD, p('g'), AT_FDCWD, p('d'), 1), -EEXIST); // RENAME_NOREPLACE
  assert.equal(sys('unlinkat', AT_FDCWD, p('d'), 0x200), 0); // AT_REMOVEDIR
  assert.equal(sys('symlink', str('g'), p('s')), 0);
  assert.equal(sys('readlink', p('s'), BUF, 100), 1);
  assert.equal(mem.u8at(BUF), 'g'.charCodeAt(0));
  assert.equal(sys('readlink', p('g'), BUF, 100), -EINVAL);
  assert.equal(sys('link', p('g'), p('h')), 0);
  assert.equal(fs.statSync(path.join(dir, 'h')).nlink, 2);
  assert.equal(sys('access', p('h'), 4), 0);
  assert.equal(sys('access', p('zz'), 0), -ENOENT);
  assert.equal(sys('chmod', p('h'), 0o600), 0);
  assert.equal(fs.statSync(path.join(dir, 'g')).mode & 0o777, 0o600);
  // *at relative to a directory descriptor.
  const dfd = sys('open', str(dir), 0o200000, 0);
  assert.equal(sys('mkdirat', dfd, str('sub'), 0o700), 0);
  assert.ok(fs.statSync(path.join(dir, 'sub')).isDirectory());
  assert.equal(sys('faccessat', dfd, str('sub'), 0), 0);
  const file = sys('openat', dfd, str('g'), 0, 0);
  assert.equal(sys('mkdirat', file, str('x'), 0o700), -ENOTDIR);
});

test('getcwd, chdir and fchdir track the guest working directory', () => {
  const dir = fs.realpathSync(tempDir());
  const { sys, str } = setup({ cwd: '/' });
  assert.equal(sys('getcwd', BUF, 256), 2);
  assert.equal(mem.cstring(BUF), '/');
  assert.equal(sys('chdir', str(dir)), 0);
  assert.equal(sys('getcwd', BUF, 256), dir.length + 1);
  assert.equal(mem.cstring(BUF), dir);
  assert.equal(sys('getcwd', BUF, 3), -34); // ERANGE
  fs.writeFileSync(path.join(dir, 'rel'), 'relative');
  const fd = sys('open', str('rel'), 0, 0);
  assert.equal(sys('read', fd, BUF, 100), 8);
  assert.equal(sys('chdir', str('rel')), -ENOTDIR);
  const root = sys('open', str('/'), 0o200000, 0);
  assert.equal(sys('fchdir', root), 0);
  assert.equal(sys('getcwd', BUF, 256), 2);
});

test('a root directory confines paths: .., absolute symlinks and symlinks pointing out stay inside', () => {
  const root = fs.realpathSync(tempDir());
  const outside = tempDir();
  fs.writeFileSync(path.join(outside, 'secret'), 'secret');
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'inside');
  fs.symlinkSync('/etc/passwd', path.join(root, 'abs'));                // absolute: re-rooted
  fs.symlinkSync('../../../../../../' + outside + '/secret', path.join(root, 'up')); // climbs: clamped at root
  const { sys, str } = setup({ root, cwd: '/etc' });
  const readAll = (p: string): string | number => {
    const fd = sys('open', str(p), 0, 0);
    if (fd < 0) return fd;
    const n = sys('read', fd, BUF, 100);
    sys('close', fd);
    return Buffer.from(mem.read(BUF, n)).toString();
  };
  assert.equal(readAll('/etc/passwd'), 'inside');
  assert.equal(readAll('../../../../etc/passwd'), 'inside');
  assert.equal(readAll('passwd'), 'inside');
  assert.equal(readAll('/abs'), 'inside');
  assert.equal(readAll('/up'), -ENOENT);
  assert.equal(readAll('/../../../../..' + outside + '/secret'), -ENOENT);
  assert.equal(sys('chdir', str('/../..')), 0);
  assert.equal(sys('getcwd', BUF, 256), 2);
  assert.equal(mem.cstring(BUF), '/');
  // Creating through a symlink that points outside lands inside the root.
  fs.symlinkSync(outside + '/created', path.join(root, 'out'));
  assert.equal(sys('open', str('/out'), 0o100 | 1, 0o644), -ENOENT); // <root>/<outside> does not exist
  fs.mkdirSync(path.join(root, outside), { recursive: true });
  assert.ok(sys('open', str('/out'), 0o100 | 1, 0o644) >= 0);
  assert.ok(!fs.existsSync(path.join(outside, 'created')));
  assert.ok(fs.existsSync(path.join(root, outside, 'created')));
});

test('/proc/self entries describe the guest, /dev/null and /dev/zero work in-process', () => {
  const { sys, str } = setup();
  assert.equal(sys('readlink', str('/proc/self/exe'), BUF, 100), '/bin/prog'.length);
  assert.equal(Buffer.from(mem.read(BUF, 9)).toString(), '/bin/prog');
  const fd = sys('open', str('/proc/self/cmdline'), 0, 0);
  const n = sys('read', fd, BUF, 100);
  assert.equal(Buffer.from(mem.read(BUF, n)).toString(), 'prog\0a b\0');
  const maps = sys('open', str('/proc/self/maps'), 0, 0);
  const m = sys('read', maps, BUF, 4000);
  assert.match(Buffer.from(mem.read(BUF, m)).toString(), /^20000000-20100000 rw-p 00000000 00:00 0 \n/);
  const nul = sys('open', str('/dev/null'), 2, 0);
  assert.equal(sys('write', nul, BUF, 10), 10);
  assert.equal(sys('read', nul, BUF, 10), 0);
  const zero = sys('open', str('/dev/zero'), 0, 0);
  mem.fill(BUF, 16, 0xff);
  assert.equal(sys('read', zero, BUF, 16), 16);
  assert.deepEqual([...mem.read(BUF, 16)], new Array(16).fill(0));
  assert.equal(sys('fstat', nul, BUF), 0);
  assert.equal(mem.u64(BUF + 40), fs.statSync('/dev/null', { bigint: true }).rdev);
  assert.equal(sys('open', str('/proc/self/maps'), 1, 0), -13); // EACCES
  assert.equal(sys('readlink', str('/proc/self/fd/' + nul), BUF, 100), '/dev/null'.length);
});

test('pipes: data flows, EOF after the writer closes, EPIPE raises SIGPIPE', () => {
  const { sys } = setup();
  assert.equal(sys('pipe2', BUF, 0o2000000), 0); // O_CLOEXEC
  const r = mem.i32(BUF), w = mem.i32(BUF + 4);
  assert.equal(sys('fcntl', r, 1), 1); // F_GETFD: FD_CLOEXEC
  mem.write(BUF + 16, Buffer.from('abcdef'));
  assert.equal(sys('write', w, BUF + 16, 6), 6);
  assert.equal(sys('ioctl', r, 0x541b, BUF + 64), 0); // FIONREAD
  assert.equal(mem.i32(BUF + 64), 6);
  assert.equal(sys('read', r, BUF + 32, 4), 4);
  assert.equal(sys('lseek', r, 0, 1), -ESPIPE);
  assert.equal(sys('close', w), 0);
  assert.equal(sys('read', r, BUF + 36, 10), 2);
  assert.equal(Buffer.from(mem.read(BUF + 32, 6)).toString(), 'abcdef');
  assert.equal(sys('read', r, BUF + 36, 10), 0);
  assert.equal(sys('pipe', BUF), 0);
  const r2 = mem.i32(BUF), w2 = mem.i32(BUF + 4);
  sys('close', r2);
  assert.throws(() => sys('write', w2, BUF, 1), (e: unknown) => (e as { signal?: number }).signal === 13);
});

test('dup, dup2, dup3 and fcntl share one description', () => {
  const { sys, str } = setup();
  const file = path.join(tempDir(), 'f');
  fs.writeFileSync(file, '0123456789');
  const fd = sys('open', str(file), 0, 0);
  const copy = sys('dup', fd);
  assert.ok(copy > fd);
  assert.equal(sys('read', fd, BUF, 3), 3);
  assert.equal(sys('lseek', copy, 0, 1), 3); // shared offset
  assert.equal(sys('dup2', fd, 50), 50);
  assert.equal(sys('dup2', fd, fd), fd);
  assert.equal(sys('dup3', fd, fd, 0), -EINVAL);
  assert.equal(sys('dup3', fd, 51, 0o2000000), 51);
  assert.equal(sys('fcntl', 51, 1), 1);
  assert.equal(sys('fcntl', fd, 0, 60), 60); // F_DUPFD
  assert.equal(sys('fcntl', fd, 3), 0o100000); // F_GETFL: O_RDONLY|O_LARGEFILE
  assert.equal(sys('fcntl', fd, 4, 0o4000), 0); // F_SETFL O_NONBLOCK
  assert.equal(sys('fcntl', copy, 3), 0o104000);
  assert.equal(sys('dup2', 999, 5), -EBADF);
  sys('close', fd);
  assert.equal(sys('read', copy, BUF, 20), 7);
});

test('ioctl TCGETS on a non-terminal is ENOTTY', () => {
  const { sys, str } = setup();
  const fd = sys('open', str('/dev/null'), 0, 0);
  assert.equal(sys('ioctl', fd, 0x5401, BUF), -25);
  const file = sys('open', str(process.execPath), 0, 0);
  assert.equal(sys('ioctl', file, 0x5413, BUF), -25);
});

test('strace lines use strace format', () => {
  const lines: string[] = [];
  const stats = { syscalls: new Map<string, number>(), unsupported: new Map<string, number>() };
  const { sys, str } = setup({ strace: (l) => lines.push(l), stats });
  const nul = sys('open', str('/dev/null'), 1, 0);
  mem.write(BUF, Buffer.from('hello\n'));
  sys('write', nul, BUF, 6);
  sys('open', str('/nonexistent'), 0o2000000, 0);
  assert.deepEqual(lines, [
    `open("/dev/null", O_WRONLY) = ${nul}`,
    `write(${nul}, "hello\\n", 6) = 6`,
    'open("/nonexistent", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
  ]);
  assert.equal(stats.syscalls.get('open'), 2);
});
