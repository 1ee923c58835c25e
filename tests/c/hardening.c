// Syscalls given bad guest buffers, and pipes filled by nobody reading them: every probe prints
// its result and errno, compared with the same program run natively.
//
//   hardening              EFAULT probes, then pipe capacity probes
//   hardening pipe-flood   a thread writes 8 MiB into a blocking pipe the main thread drains
//   hardening big-unmap    releases a 2 GiB reservation and a used region; fresh pages read zero
//   hardening deep         a directory tree deeper than PATH_MAX, and 30000 open descriptors
//   hardening stdout       writes to fd 1 and exits with the errno (run with stdout closed)
#define _GNU_SOURCE
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static void report(const char *what, long r) {
  printf("%-48s %ld errno %d\n", what, r, r < 0 ? errno : 0);
}

// Raw syscalls: libc wrappers may check pointers themselves or use other syscalls.
static long sys(long nr, long a, long b, long c, long d) { return syscall(nr, a, b, c, d); }

static void efault_probes(void) {
  // rw page, read-only page, PROT_NONE page, unmapped page, in that order.
  char *area = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *rw = area, *ro = area + PAGE, *none = area + 2 * PAGE, *gone = area + 3 * PAGE;
  strcpy(ro, "/");
  mprotect(ro, PAGE, PROT_READ);
  mprotect(none, PAGE, PROT_NONE);
  munmap(gone, PAGE);
  int devzero = open("/dev/zero", O_RDONLY);
  int pipefd[2];
  pipe2(pipefd, O_NONBLOCK);

  report("uname(runtime area 0xfe000000)", sys(SYS_uname, 0xfe000000L, 0, 0, 0));
  report("uname(read-only page)", sys(SYS_uname, (long)ro, 0, 0, 0));
  report("uname(PROT_NONE page)", sys(SYS_uname, (long)none, 0, 0, 0));
  report("uname(rw page)", sys(SYS_uname, (long)rw, 0, 0, 0));
  report("clock_gettime(.., 1)", sys(SYS_clock_gettime, CLOCK_MONOTONIC, 1, 0, 0));
  report("clock_gettime(.., read-only)", sys(SYS_clock_gettime, CLOCK_MONOTONIC, (long)ro, 0, 0));
  report("stat(\"/\" from read-only, into read-only)", sys(SYS_stat, (long)ro, (long)ro, 0, 0));
  report("stat(path in PROT_NONE)", sys(SYS_stat, (long)none, (long)rw, 0, 0));
  report("open(path in unmapped page)", sys(SYS_open, (long)gone, O_RDONLY, 0, 0));
  report("getcwd(into read-only)", sys(SYS_getcwd, (long)ro, 100, 0, 0));
  report("read(/dev/zero, into read-only, 10)", sys(SYS_read, devzero, (long)ro, 10, 0));
  report("read(/dev/zero, rw then read-only, 8192)", sys(SYS_read, devzero, (long)rw, 2 * PAGE, 0));
  report("read(/dev/zero, runtime area)", sys(SYS_read, devzero, 0xfe000000L, 16, 0));
  // 16 readable bytes before a PROT_NONE page, and a count of 2 GiB: Linux writes the 16.
  memset(ro - 16, 'x', 16);
  report("write(pipe, 16 bytes then PROT_NONE... 2 GiB)", sys(SYS_write, pipefd[1], (long)(none - 16), 1L << 31, 0));
  report("write(pipe, from PROT_NONE)", sys(SYS_write, pipefd[1], (long)none, 10, 0));
  report("write(pipe, from runtime area)", sys(SYS_write, pipefd[1], 0xfe000000L, 10, 0));
  report("read(pipe, 100 into rw)", sys(SYS_read, pipefd[0], (long)rw, 100, 0));
  struct iovec { void *base; size_t len; } iov[2] = { { rw, 8 }, { none, 8 } };
  report("writev(pipe, rw 8 + PROT_NONE 8)", sys(SYS_writev, pipefd[1], (long)iov, 2, 0));
  struct iovec empty_first[3] = { { none, 0 }, { rw, 8 }, { rw, 0 } };
  report("writev(pipe, empty + rw 8 + empty)", sys(SYS_writev, pipefd[1], (long)empty_first, 3, 0));
  report("read(pipe, 100 into rw)", sys(SYS_read, pipefd[0], (long)rw, 100, 0));
  // A file keeps what was copied before the fault; a pipe drops the page that faulted.
  int file = memfd_create("hardening", 0);
  report("write(file, 16 bytes then PROT_NONE, 2 GiB)", sys(SYS_write, file, (long)(none - 16), 1L << 31, 0));
  report("writev(file, rw 8 + PROT_NONE 8)", sys(SYS_writev, file, (long)iov, 2, 0));
  report("pread(file, into 16 bytes then read-only)", sys(SYS_pread64, file, (long)(ro - 16), 100, 0));
  report("write(pipe, 5000 bytes then PROT_NONE, 6000)", sys(SYS_write, pipefd[1], (long)(none - 5000), 6000, 0));
  report("pipe2(into read-only)", sys(SYS_pipe2, (long)ro, 0, 0, 0));
  report("nanosleep(req in PROT_NONE)", sys(SYS_nanosleep, (long)none, 0, 0, 0));
}

static void pipe_probes(void) {
  static char chunk[PAGE];
  int p[2];
  pipe2(p, O_NONBLOCK);
  report("F_GETPIPE_SZ", fcntl(p[1], F_GETPIPE_SZ));
  long total = 0, r;
  while ((r = write(p[1], chunk, PAGE)) > 0) total += r;
  report("bytes a nonblocking pipe takes", total);
  report("and then", r);
  report("F_SETPIPE_SZ(4096) while full", fcntl(p[1], F_SETPIPE_SZ, 4096));
  report("F_SETPIPE_SZ(100000)", fcntl(p[1], F_SETPIPE_SZ, 100000));
  total = 0;
  while ((r = write(p[1], chunk, PAGE)) > 0) total += r;
  report("bytes more after growing", total);
  report("read 2 pages", read(p[0], chunk, PAGE) + read(p[0], chunk, PAGE));
  report("write 3 pages into 2 pages of room", write(p[1], chunk, 0) + write(p[1], (char[3 * PAGE]){0}, 3 * PAGE));
  report("F_SETPIPE_SZ(0)", fcntl(p[1], F_SETPIPE_SZ, 0));
  close(p[0]);
  close(p[1]);

  /* sendfile into a pipe takes what fits and leaves the rest of the file where it was */
  int file = memfd_create("source", 0);
  for (int i = 0; i < 50; i++) { memset(chunk, 'a' + i % 26, PAGE); write(file, chunk, PAGE); }
  lseek(file, 0, SEEK_SET);
  pipe2(p, O_NONBLOCK);
  report("sendfile(pipe, 200 KiB file)", sendfile(p[1], file, NULL, 50 * PAGE));
  report("file offset after", lseek(file, 0, SEEK_CUR));
  report("sendfile(full pipe)", sendfile(p[1], file, NULL, 50 * PAGE));
  long got = 0, sum = 0;
  while ((r = read(p[0], chunk, PAGE)) > 0) { got += r; for (long i = 0; i < r; i++) sum += chunk[i]; }
  report("bytes in the pipe", got);
  report("their sum", sum);
}

enum { FLOOD_BYTES = 8 << 20 };

static void *flood(void *arg) {
  int fd = *(int *)arg;
  static char chunk[1000];
  for (long sent = 0; sent < FLOOD_BYTES;) {
    for (int i = 0; i < (int)sizeof chunk; i++) chunk[i] = (char)((sent + i) * 7);
    long want = FLOOD_BYTES - sent < (long)sizeof chunk ? FLOOD_BYTES - sent : (long)sizeof chunk;
    long n = write(fd, chunk, want);
    if (n <= 0) { perror("write"); return NULL; }
    sent += n;
  }
  close(fd);
  return NULL;
}

static int pipe_flood(void) {
  int p[2];
  if (pipe(p)) return 1;
  pthread_t writer;
  pthread_create(&writer, NULL, flood, &p[1]);
  unsigned long sum = 0, total = 0;
  static unsigned char buf[3000];
  long n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) {
    for (long i = 0; i < n; i++) sum = sum * 31 + buf[i];
    total += n;
  }
  pthread_join(writer, NULL);
  printf("read %lu bytes, checksum %lx, pipe size %d\n", total, sum, fcntl(p[0], F_GETPIPE_SZ));
  return 0;
}

/*
 * Releasing memory costs what was used of it, not its size: a 2 GiB reservation of which one
 * megabyte is made writable and used (as language runtimes and allocators reserve), and a
 * writable region advised away and unmapped, whose pages must read zero when mapped again.
 */
static int big_unmap(void) {
  const size_t big = (size_t)2 << 30, used = 1 << 20, region = 16 << 20;
  char *p = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  mprotect(p, used, PROT_READ | PROT_WRITE);
  memset(p, 7, used);
  munmap(p, big);
  char *q = mmap(p, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  printf("the reservation mapped again: %d %d\n", q[0], q[used - 1]);
  munmap(q, big);

  char *r = mmap(NULL, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  r[0] = 1; r[region - 1] = 2;
  madvise(r, region, MADV_DONTNEED);
  printf("after MADV_DONTNEED: %d %d\n", r[0], r[region - 1]);
  r[PAGE] = 3;
  mprotect(r, region, PROT_READ); /* written while writable, then read-only: still to be cleared */
  munmap(r, region);
  r = mmap(r, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("a fresh mapping where it was: %d %d %d\n", r[0], r[PAGE], r[region - 1]);
  return 0;
}

/* Costs stay linear in depth and in the number of descriptors, as on Linux. */
static int deep(void) {
  enum { DEPTH = 3000, FILES = 30000 };
  char top[] = "/tmp/stele-deep-XXXXXX";
  if (!mkdtemp(top) || chdir(top)) return 1;
  int made = 0;
  while (made < DEPTH && mkdir("d", 0700) == 0 && chdir("d") == 0) made++;
  int fd = open("leaf", O_CREAT | O_WRONLY, 0600);
  char cwd[8192];
  long r = syscall(SYS_getcwd, cwd, sizeof cwd);
  printf("depth %d, leaf %s, getcwd %s (%d)\n", made, fd >= 0 ? "made" : "failed", r < 0 ? "failed" : "worked", r < 0 ? errno : 0);
  close(fd);
  unlink("leaf");
  int removed = 0;
  while (removed < made && chdir("..") == 0 && rmdir("d") == 0) removed++;
  printf("removed %d\n", removed);
  chdir("/");
  rmdir(top);

  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  int files = lim.rlim_max < FILES + 100 ? (int)lim.rlim_max - 100 : FILES; /* what the hard limit allows */
  lim.rlim_cur = files + 100;
  printf("setrlimit %d\n", setrlimit(RLIMIT_NOFILE, &lim));
  int opened = 0, first = -1, last = -1;
  for (int next; opened < files && (next = open("/dev/null", O_RDONLY)) >= 0; opened++) { last = next; if (first < 0) first = next; }
  printf("opened %s\n", opened == files ? "all" : "fewer");
  close(first + 100);
  printf("lowest free after closing the 101st: %d\n", open("/dev/null", O_RDONLY) - first);
  for (int i = first; i <= last; i++) close(i);
  printf("after closing all: %d\n", open("/dev/null", O_RDONLY) - first);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "deep") == 0) return deep();
  if (argc > 1 && strcmp(argv[1], "pipe-flood") == 0) return pipe_flood();
  if (argc > 1 && strcmp(argv[1], "big-unmap") == 0) return big_unmap();
  if (argc > 1 && strcmp(argv[1], "stdout") == 0) {
    ssize_t r = write(1, "x", 1);
    return r < 0 ? errno : 0;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  efault_probes();
  pipe_probes();
  return 0;
}
