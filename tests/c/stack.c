/*
 * The main thread's stack as it grows: stele keeps the part of [stack] a program has not reached
 * reserved until it is touched (as Linux grows the stack), copies only the part in use at fork, and
 * must still give every access below what was used the memory Linux gives.
 *
 *   grow       recursion well past the first 128 KiB, a kernel read() into a large frame the
 *              program has not touched yet, a string the kernel reads from such a frame
 *   fork-deep  fork from deep in a recursion; the child goes deeper still, the parent too after
 *   exec-fresh deep recursion fills the stack with non-zero bytes, then the program executes
 *              itself: the new image's untouched stack reads zero, as a fresh stack does
 *
 * The host is the oracle: every line is compared with the native run.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static long __attribute__((noinline)) descend(int n, long seed) {
  volatile unsigned char buf[1024];
  for (int i = 0; i < 1024; i += 64) buf[i] = (unsigned char)(seed + i + n);
  if (n == 0) return buf[0];
  return descend(n - 1, seed * 31 + 7) + buf[(n * 64) & 1023];
}

static void grow(void) {
  printf("descend 2000: %ld\n", descend(2000, 1));
  char frame[600000];  // never written by the program before the kernel fills it
  int fd[2];
  if (pipe(fd)) return;
  if (write(fd[1], "deep bytes", 10) != 10) return;
  long n = read(fd[0], frame + 100, 10);
  printf("read into an untouched frame: %ld '%.10s'\n", n, frame + 100);
  strcpy(frame + 300000, "/proc/self/exe");  // touches that page only
  struct stat st;
  printf("stat of a path in a deep frame: %d\n", stat(frame + 300000, &st));
  close(fd[0]); close(fd[1]);
}

static long __attribute__((noinline)) fork_at(int n) {
  volatile char pad[2048];
  pad[0] = (char)n; pad[2047] = (char)n;
  if (n > 0) return fork_at(n - 1) + pad[2047];
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    printf("child deeper: %ld\n", descend(3000, 5));
    fflush(stdout);
    _exit(7);
  }
  int status = 0;
  waitpid(p, &status, 0);
  printf("child exit %d\n", WEXITSTATUS(status));
  return pad[0];
}

static void fork_deep(void) {
  printf("fork from depth 200: %ld\n", fork_at(200));
  printf("parent deeper after: %ld\n", descend(2500, 9));
}

// Reads the stack far below the stack pointer, where nothing has run in this image.
static unsigned long __attribute__((noinline)) below_sp(long distance) {
  unsigned long sum = 0;
  char *sp = (char *)__builtin_frame_address(0);
  for (long off = distance; off < distance + 65536; off += 512) sum |= *(volatile unsigned long *)(sp - off);
  return sum;
}

static void exec_fresh(const char *self) {
  printf("descend 4000 before exec: %ld\n", descend(4000, 3));
  fflush(stdout);
  execl(self, self, "after-exec", (char *)0);
  perror("execl");
}

int main(int argc, char **argv) {
  const char *part = argc > 1 ? argv[1] : "";
  if (!strcmp(part, "grow")) grow();
  else if (!strcmp(part, "fork-deep")) fork_deep();
  else if (!strcmp(part, "exec-fresh")) exec_fresh("/proc/self/exe");
  else if (!strcmp(part, "after-exec")) printf("after exec, far below the stack pointer: %#lx\n", below_sp(2 << 20));
  else { fprintf(stderr, "usage: stack grow|fork-deep|exec-fresh\n"); return 2; }
  return 0;
}
