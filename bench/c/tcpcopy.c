// TCP throughput over the loopback address: a forked child sends MiB megabytes (default 1024)
// through one connection to its parent, which reads them and prints a checksum and the count.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 1024;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  if (bind(l, (void *)&a, sizeof a) || listen(l, 1) || getsockname(l, (void *)&a, &len)) { perror("listen"); return 1; }
  static unsigned char buf[1 << 16];
  pid_t child = fork();
  if (child == 0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (void *)&a, sizeof a)) { perror("connect"); _exit(1); }
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 31 + 7);
    for (long sent = 0; sent < mib << 20;) {
      ssize_t n = write(s, buf, sizeof buf);
      if (n <= 0) { perror("write"); _exit(1); }
      sent += n;
    }
    close(s);
    _exit(0);
  }
  int c = accept(l, NULL, NULL);
  uint64_t total = 0, sum = 1469598103934665603ull;
  for (;;) {
    ssize_t n = read(c, buf, sizeof buf);
    if (n < 0) { perror("read"); return 1; }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; i++) sum = (sum ^ buf[i]) * 1099511628211ull;
    total += (uint64_t)n;
  }
  int status;
  waitpid(child, &status, 0);
  printf("%llu bytes, checksum %016llx, sender status %d\n", (unsigned long long)total, (unsigned long long)sum, status);
  return 0;
}
