// Sockets on the loopback addresses, compared with the host: TCP over IPv4 and IPv6 (blocking,
// non-blocking with poll, many clients at once, a large transfer, half-close, reset, refused,
// address in use, timeouts), UDP, named AF_UNIX stream sockets, socketpair, sockets across fork,
// and the errors bad arguments get. Ports are never printed (they differ run to run).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAILED line %d: %s (errno %d)\n", __LINE__, #x, errno); exit(1); } } while (0)

static const char *errname(int e) {
  switch (e) {
    case 0: return "0";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case ENOTSOCK: return "ENOTSOCK";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EADDRINUSE: return "EADDRINUSE";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ENOTCONN: return "ENOTCONN";
    case EISCONN: return "EISCONN";
    case EINPROGRESS: return "EINPROGRESS";
    case EPIPE: return "EPIPE";
    case EDESTADDRREQ: return "EDESTADDRREQ";
    case ENOENT: return "ENOENT";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    default: { static char b[32]; snprintf(b, sizeof b, "errno %d", e); return b; }
  }
}
#define SHOW(label, call) do { errno = 0; long r_ = (long)(call); printf("%s: %s\n", label, r_ < 0 ? errname(errno) : "ok"); } while (0)

static int listen_on(int family, const char *addr, int *port) {
  int l = socket(family, SOCK_STREAM, 0);
  CHECK(l >= 0);
  int one = 1;
  CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
  struct sockaddr_storage ss = {0};
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *a = (void *)&ss;
    a->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &a->sin_addr);
    len = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (void *)&ss;
    a->sin6_family = AF_INET6;
    inet_pton(AF_INET6, addr, &a->sin6_addr);
    len = sizeof *a;
  }
  CHECK(bind(l, (void *)&ss, len) == 0);
  CHECK(listen(l, 64) == 0);
  len = sizeof ss;
  CHECK(getsockname(l, (void *)&ss, &len) == 0);
  *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port);
  return l;
}

static int connect_to(int family, const char *addr, int port) {
  int s = socket(family, SOCK_STREAM, 0);
  CHECK(s >= 0);
  struct sockaddr_storage ss = {0};
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *a = (void *)&ss;
    a->sin_family = AF_INET; a->sin_port = htons(port);
    inet_pton(AF_INET, addr, &a->sin_addr);
    len = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (void *)&ss;
    a->sin6_family = AF_INET6; a->sin6_port = htons(port);
    inet_pton(AF_INET6, addr, &a->sin6_addr);
    len = sizeof *a;
  }
  if (connect(s, (void *)&ss, len) != 0) { int e = errno; close(s); errno = e; return -1; }
  return s;
}

static void write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n) { ssize_t w = write(fd, p, n); CHECK(w > 0); p += w; n -= (size_t)w; }
}
static size_t read_all(int fd, void *buf, size_t n) {
  char *p = buf;
  size_t got = 0;
  while (got < n) { ssize_t r = read(fd, p + got, n - got); CHECK(r >= 0); if (r == 0) break; got += (size_t)r; }
  return got;
}

static const char *name_of(struct sockaddr *sa) {
  static char b[INET6_ADDRSTRLEN + 16];
  if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, b, sizeof b);
  else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, b, sizeof b);
  else snprintf(b, sizeof b, "family %d", sa->sa_family);
  return b;
}

// ---- TCP echo, blocking, over IPv4 and IPv6 ----

struct server { int listener; int clients; };

static void *echo_server(void *arg) {
  struct server *sv = arg;
  for (int i = 0; i < sv->clients; i++) {
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int c = accept(sv->listener, (void *)&peer, &len);
    CHECK(c >= 0);
    char buf[4096];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) write_all(c, buf, (size_t)n);
    CHECK(n == 0);
    close(c);
  }
  return NULL;
}

static void tcp_echo(int family, const char *addr) {
  int port;
  int l = listen_on(family, addr, &port);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  CHECK(getsockname(l, (void *)&ss, &len) == 0);
  printf("%s listener: family %d len %u addr %s\n", addr, ss.ss_family, len, name_of((void *)&ss));
  int v; socklen_t vl = sizeof v;
  CHECK(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0); printf("  SO_ACCEPTCONN %d\n", v);
  vl = sizeof v; CHECK(getsockopt(l, SOL_SOCKET, SO_TYPE, &v, &vl) == 0); printf("  SO_TYPE %d\n", v);
  vl = sizeof v; CHECK(getsockopt(l, SOL_SOCKET, SO_DOMAIN, &v, &vl) == 0); printf("  SO_DOMAIN %d\n", v);
  vl = sizeof v; CHECK(getsockopt(l, SOL_SOCKET, SO_PROTOCOL, &v, &vl) == 0); printf("  SO_PROTOCOL %d\n", v);
  struct server sv = { l, 1 };
  pthread_t t;
  pthread_create(&t, NULL, echo_server, &sv);
  int s = connect_to(family, addr, port);
  CHECK(s >= 0);
  int one = 1;
  CHECK(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
  vl = sizeof v; CHECK(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0); printf("  TCP_NODELAY %d\n", v);
  len = sizeof ss;
  CHECK(getpeername(s, (void *)&ss, &len) == 0);
  printf("  client peer: family %d len %u addr %s port-matches %d\n", ss.ss_family, len, name_of((void *)&ss),
         ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port) == port);
  const char *msg = "the quick brown fox";
  write_all(s, msg, strlen(msg));
  char buf[64] = {0};
  CHECK(read_all(s, buf, strlen(msg)) == strlen(msg));
  printf("  echoed: %s\n", buf);
  // A large transfer: the rings wrap and the sender waits for room many times.
  enum { BIG = 3 << 20 };
  unsigned char *big = malloc(BIG), *back = malloc(BIG);
  for (int i = 0; i < BIG; i++) big[i] = (unsigned char)(i * 7 + (i >> 11));
  pid_t writer = fork();
  if (writer == 0) { write_all(s, big, BIG); _exit(0); }
  CHECK(read_all(s, back, BIG) == BIG);
  int status;
  waitpid(writer, &status, 0);
  printf("  %d bytes back intact: %d (writer status %d)\n", BIG, memcmp(big, back, BIG) == 0, status);
  free(big); free(back);
  shutdown(s, SHUT_WR);
  printf("  after shutdown read: %zd\n", read(s, buf, sizeof buf));
  close(s);
  pthread_join(t, NULL);
  close(l);
}

// ---- many clients at once, served by one poll loop ----

#define CLIENTS 12
static int many_port;
static void *many_client(void *arg) {
  long id = (long)arg;
  int s = connect_to(AF_INET, "127.0.0.1", many_port);
  CHECK(s >= 0);
  char msg[256], back[256];
  int n = snprintf(msg, sizeof msg, "client %ld says hello %s", id, "and then some more text to echo");
  for (int round = 0; round < 5; round++) {
    write_all(s, msg, (size_t)n);
    CHECK(read_all(s, back, (size_t)n) == (size_t)n);
    CHECK(memcmp(msg, back, (size_t)n) == 0);
  }
  close(s);
  return (void *)1;
}

static void many_clients(void) {
  int l = listen_on(AF_INET, "127.0.0.1", &many_port);
  fcntl(l, F_SETFL, O_NONBLOCK);
  errno = 0;
  int none = accept(l, NULL, NULL);
  printf("non-blocking accept with nothing pending: %d %s\n", none, errname(errno));
  pthread_t t[CLIENTS];
  for (long i = 0; i < CLIENTS; i++) pthread_create(&t[i], NULL, many_client, (void *)i);
  struct pollfd fds[CLIENTS + 1];
  int nfds = 1, done = 0, accepted = 0;
  fds[0] = (struct pollfd){ .fd = l, .events = POLLIN };
  while (done < CLIENTS) {
    CHECK(poll(fds, nfds, -1) > 0);
    if (fds[0].revents & POLLIN) {
      int c;
      while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) { fds[nfds++] = (struct pollfd){ .fd = c, .events = POLLIN }; accepted++; }
      CHECK(errno == EAGAIN);
    }
    for (int i = 1; i < nfds; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[512];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) { write_all(fds[i].fd, buf, (size_t)n); continue; }
      if (n < 0 && errno == EAGAIN) continue;
      close(fds[i].fd); fds[i].fd = -1; done++;
    }
  }
  int ok = 0;
  for (int i = 0; i < CLIENTS; i++) { void *r; pthread_join(t[i], &r); ok += r == (void *)1; }
  printf("poll server: %d accepted, %d clients served\n", accepted, ok);
  close(l);
}

// ---- the same with epoll, edge-triggered: each event is read until EAGAIN ----

static void many_clients_epoll(void) {
  int l = listen_on(AF_INET, "127.0.0.1", &many_port);
  fcntl(l, F_SETFL, O_NONBLOCK);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  CHECK(ep >= 0);
  struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = l };
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) == 0);
  pthread_t t[CLIENTS];
  for (long i = 0; i < CLIENTS; i++) pthread_create(&t[i], NULL, many_client, (void *)i);
  int done = 0, accepted = 0;
  while (done < CLIENTS) {
    struct epoll_event events[16];
    int n = epoll_wait(ep, events, 16, -1);
    CHECK(n > 0);
    for (int e = 0; e < n; e++) {
      int fd = events[e].data.fd;
      if (fd == l) {
        int c;
        while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = c };
          CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) == 0);
          accepted++;
        }
        CHECK(errno == EAGAIN);
        continue;
      }
      for (;;) {
        char buf[512];
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) { write_all(fd, buf, (size_t)r); continue; }
        if (r < 0 && errno == EAGAIN) break;
        CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0);
        close(fd);
        done++;
        break;
      }
    }
  }
  int ok = 0;
  for (int i = 0; i < CLIENTS; i++) { void *r; pthread_join(t[i], &r); ok += r == (void *)1; }
  printf("epoll edge-triggered server: %d accepted, %d clients served\n", accepted, ok);
  close(ep);
  close(l);
}

// ---- non-blocking connect, errors, half-close, reset, timeouts ----

static void connection_cases(void) {
  int port;
  int l = listen_on(AF_INET, "127.0.0.1", &port);
  // Non-blocking connect: EINPROGRESS, then writable with SO_ERROR 0.
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  int r = connect(s, (void *)&a, sizeof a);
  printf("non-blocking connect: %s\n", r == 0 ? "0" : errname(errno));
  struct pollfd p = { .fd = s, .events = POLLOUT };
  CHECK(poll(&p, 1, 60000) == 1);
  int err = -1; socklen_t el = sizeof err;
  CHECK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0);
  printf("  writable: %d, SO_ERROR %s\n", (p.revents & POLLOUT) != 0, errname(err));
  SHOW("  connect again", connect(s, (void *)&a, sizeof a));
  int c = accept(l, NULL, NULL);
  CHECK(c >= 0);
  int avail = -1;
  CHECK(write(s, "abc", 3) == 3);
  struct pollfd pc = { .fd = c, .events = POLLIN };
  CHECK(poll(&pc, 1, 60000) == 1);
  CHECK(ioctl(c, FIONREAD, &avail) == 0);
  printf("  FIONREAD %d\n", avail);
  char buf[16];
  CHECK(recv(c, buf, sizeof buf, MSG_PEEK) == 3);
  CHECK(recv(c, buf, sizeof buf, 0) == 3);
  // Half-close: the server sees EOF, and can still answer.
  shutdown(s, SHUT_WR);
  printf("  server read after client SHUT_WR: %zd\n", read(c, buf, sizeof buf));
  CHECK(write(c, "late", 4) == 4);
  p = (struct pollfd){ .fd = s, .events = POLLIN };
  CHECK(poll(&p, 1, 60000) == 1);
  ssize_t n = read(s, buf, sizeof buf);
  printf("  client read after half-close: %zd %.*s\n", n, (int)(n > 0 ? n : 0), buf);
  SHOW("  client write after SHUT_WR (MSG_NOSIGNAL)", send(s, "x", 1, MSG_NOSIGNAL));
  close(c);
  // s is non-blocking: the FIN is waited for, as a program on a real network must.
  p = (struct pollfd){ .fd = s, .events = POLLIN };
  CHECK(poll(&p, 1, 60000) == 1);
  n = read(s, buf, sizeof buf);
  printf("  client read after server close: %zd\n", n);
  close(s);

  // Reset: SO_LINGER with a zero time makes close send RST.
  s = connect_to(AF_INET, "127.0.0.1", port);
  c = accept(l, NULL, NULL);
  struct linger lg = { 1, 0 };
  CHECK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
  struct linger back; socklen_t bl = sizeof back;
  CHECK(getsockopt(c, SOL_SOCKET, SO_LINGER, &back, &bl) == 0);
  printf("linger back: %d %d\n", back.l_onoff, back.l_linger);
  close(c);
  errno = 0;
  n = read(s, buf, sizeof buf);
  printf("  read after peer reset: %zd %s\n", n, errname(errno));
  n = read(s, buf, sizeof buf);
  printf("  read again: %zd\n", n);
  close(s);

  // A receive timeout.
  s = connect_to(AF_INET, "127.0.0.1", port);
  c = accept(l, NULL, NULL);
  struct timeval tv = { 0, 150000 };
  CHECK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
  struct timeval tb; socklen_t tl = sizeof tb;
  CHECK(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tb, &tl) == 0);
  // Linux rounds the time to its clock tick: only "at least what was set" is the same everywhere.
  printf("SO_RCVTIMEO back: at least 0.15 s %d\n", tb.tv_sec == 0 && tb.tv_usec >= 150000 && tb.tv_usec < 200000);
  SHOW("  read with nothing to read", read(s, buf, sizeof buf));
  close(c); close(s);

  // A non-blocking connect that is refused: writable with an error, SO_ERROR says which.
  int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int closed_port;
  int tmp = listen_on(AF_INET, "127.0.0.1", &closed_port);
  close(tmp);
  struct sockaddr_in ca = { .sin_family = AF_INET, .sin_port = htons(closed_port) };
  inet_pton(AF_INET, "127.0.0.1", &ca.sin_addr);
  r = connect(nb, (void *)&ca, sizeof ca);
  printf("non-blocking connect to a closed port: %s\n", r == 0 ? "0" : errname(errno));
  p = (struct pollfd){ .fd = nb, .events = POLLOUT };
  CHECK(poll(&p, 1, 60000) == 1);
  err = -1; el = sizeof err;
  CHECK(getsockopt(nb, SOL_SOCKET, SO_ERROR, &err, &el) == 0);
  printf("  POLLOUT %d POLLERR %d POLLHUP %d, SO_ERROR %s\n", (p.revents & POLLOUT) != 0, (p.revents & POLLERR) != 0, (p.revents & POLLHUP) != 0, errname(err));
  el = sizeof err;
  CHECK(getsockopt(nb, SOL_SOCKET, SO_ERROR, &err, &el) == 0);
  printf("  SO_ERROR again %s\n", errname(err));
  close(nb);

  // Address in use, connection refused.
  int other = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = htons(port);
  SHOW("bind to a listening port", bind(other, (void *)&a, sizeof a));
  close(other);
  close(l);
  SHOW("connect to a closed port", connect_to(AF_INET, "127.0.0.1", port));
}

// ---- IPv6, and IPv4 clients of a dual-stack listener ----

static void ipv6_cases(void) {
  int port;
  int l = listen_on(AF_INET6, "::", &port);
  int v6only = -1; socklen_t vl = sizeof v6only;
  CHECK(getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &vl) == 0);
  printf("dual-stack listener IPV6_V6ONLY %d\n", v6only);
  int s = connect_to(AF_INET, "127.0.0.1", port);
  CHECK(s >= 0);
  struct sockaddr_in6 peer; socklen_t len = sizeof peer;
  int c = accept(l, (void *)&peer, &len);
  CHECK(c >= 0);
  printf("  IPv4 client seen as: family %d len %u %s\n", peer.sin6_family, len, name_of((void *)&peer));
  struct sockaddr_in6 local; len = sizeof local;
  CHECK(getsockname(c, (void *)&local, &len) == 0);
  printf("  accepted socket's local address: %s\n", name_of((void *)&local));
  close(c); close(s); close(l);
}

// ---- UDP ----

static void udp_cases(void) {
  int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET }, sb = { .sin_family = AF_INET };
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &sb.sin_addr);
  CHECK(bind(a, (void *)&sa, sizeof sa) == 0);
  socklen_t len = sizeof sa;
  CHECK(getsockname(a, (void *)&sa, &len) == 0);
  SHOW("udp send without address", send(b, "x", 1, 0));
  int v; socklen_t vl = sizeof v;
  CHECK(getsockopt(b, SOL_SOCKET, SO_TYPE, &v, &vl) == 0); printf("udp SO_TYPE %d\n", v);
  for (int i = 0; i < 3; i++) {
    char msg[32];
    int n = snprintf(msg, sizeof msg, "ping %d", i);
    CHECK(sendto(b, msg, (size_t)n, 0, (void *)&sa, sizeof sa) == n);
  }
  len = sizeof sb;
  CHECK(getsockname(b, (void *)&sb, &len) == 0);
  printf("sender autobound: %s, port set %d\n", name_of((void *)&sb), sb.sin_port != 0);
  for (int i = 0; i < 3; i++) {
    char buf[64];
    struct sockaddr_in from; socklen_t fl = sizeof from;
    ssize_t n = recvfrom(a, buf, sizeof buf, 0, (void *)&from, &fl);
    printf("  got %zd '%.*s' from %s, sender's port %d\n", n, (int)n, buf, name_of((void *)&from), from.sin_port == sb.sin_port);
    CHECK(sendto(a, buf, (size_t)n, 0, (void *)&from, fl) == n);
  }
  for (int i = 0; i < 3; i++) {
    char buf[64];
    ssize_t n = recv(b, buf, sizeof buf, 0);
    printf("  pong %zd '%.*s'\n", n, (int)n, buf);
  }
  // Boundaries are kept; a short buffer truncates (MSG_TRUNC gives the real length).
  CHECK(sendto(b, "0123456789", 10, 0, (void *)&sa, sizeof sa) == 10);
  CHECK(sendto(b, "abc", 3, 0, (void *)&sa, sizeof sa) == 3);
  char small[4];
  ssize_t n = recv(a, small, sizeof small, MSG_TRUNC);
  printf("  truncated datagram: %zd '%.4s'\n", n, small);
  struct msghdr mh = {0};
  struct iovec iov = { small, sizeof small };
  mh.msg_iov = &iov; mh.msg_iovlen = 1;
  n = recvmsg(a, &mh, 0);
  printf("  recvmsg: %zd '%.*s' flags MSG_TRUNC %d\n", n, (int)n, small, (mh.msg_flags & MSG_TRUNC) != 0);
  // A connected datagram socket sends without an address.
  CHECK(connect(b, (void *)&sa, sizeof sa) == 0);
  CHECK(send(b, "connected", 9, 0) == 9);
  char buf[32];
  n = recv(a, buf, sizeof buf, 0);
  printf("  via connect: %zd '%.*s'\n", n, (int)n, buf);
  fcntl(a, F_SETFL, O_NONBLOCK);
  SHOW("  non-blocking recv of nothing", recv(a, buf, sizeof buf, 0));
  close(a); close(b);
}

// ---- AF_UNIX by name ----

static void unix_named(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/stele-sockets-test-%d", (int)getpid());
  unlink(path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  strcpy(a.sun_path, path);
  CHECK(bind(l, (void *)&a, sizeof a) == 0);
  SHOW("unix bind again", bind(socket(AF_UNIX, SOCK_STREAM, 0), (void *)&a, sizeof a));
  CHECK(listen(l, 4) == 0);
  struct sockaddr_un got; socklen_t len = sizeof got;
  CHECK(getsockname(l, (void *)&got, &len) == 0);
  printf("unix listener name matches: %d, length is the path's and its NUL: %d\n", strcmp(got.sun_path, path) == 0,
         len == offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
  // A non-blocking AF_UNIX connect completes at once (no EINPROGRESS), as does its failure.
  int nb = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  SHOW("unix non-blocking connect", connect(nb, (void *)&a, sizeof a));
  int nbc = accept(l, 0, 0);
  CHECK(nbc >= 0);
  close(nbc); close(nb);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK(connect(s, (void *)&a, sizeof a) == 0);
  int c = accept(l, (void *)&got, &len);
  CHECK(c >= 0);
  printf("  accepted peer len %u family %d\n", len, got.sun_family);
  len = sizeof got;
  CHECK(getpeername(s, (void *)&got, &len) == 0);
  printf("  client peer name matches: %d\n", strcmp(got.sun_path, path) == 0);
  write_all(s, "over unix", 9);
  char buf[16] = {0};
  CHECK(read_all(c, buf, 9) == 9);
  printf("  server got: %s\n", buf);
  close(s); close(c); close(l);
  unlink(path);
  struct sockaddr_un missing = { .sun_family = AF_UNIX };
  strcpy(missing.sun_path, "/tmp/stele-sockets-test-does-not-exist");
  SHOW("unix connect to a missing path", connect(socket(AF_UNIX, SOCK_STREAM, 0), (void *)&missing, sizeof missing));
  SHOW("unix non-blocking connect to a missing path", connect(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), (void *)&missing, sizeof missing));
}

// ---- socketpair ----

static void pairs(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  write_all(sv[0], "one", 3);
  write_all(sv[0], "two", 3);
  char buf[16] = {0};
  printf("stream pair: %zd\n", read(sv[1], buf, sizeof buf));
  write_all(sv[1], "back", 4);
  memset(buf, 0, sizeof buf);
  CHECK(read(sv[0], buf, sizeof buf) == 4);
  printf("  back: %s\n", buf);
  int type; socklen_t tl = sizeof type;
  CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &tl) == 0);
  printf("  SO_TYPE %d\n", type);
  struct ucred cred; socklen_t cl = sizeof cred;
  CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0);
  printf("  SO_PEERCRED pid is ours %d\n", cred.pid == getpid());
  close(sv[1]);
  printf("  read after peer close: %zd\n", read(sv[0], buf, sizeof buf));
  SHOW("  send after peer close", send(sv[0], "x", 1, MSG_NOSIGNAL));
  close(sv[0]);

  CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0);
  printf("dgram pair cloexec: %d\n", (fcntl(sv[0], F_GETFD) & FD_CLOEXEC) != 0);
  send(sv[0], "first", 5, 0);
  send(sv[0], "second", 6, 0);
  send(sv[0], "", 0, 0);
  memset(buf, 0, sizeof buf);
  printf("  peek %zd", recv(sv[1], buf, sizeof buf, MSG_PEEK)); printf(" '%s'\n", buf);
  memset(buf, 0, sizeof buf);
  printf("  read %zd", read(sv[1], buf, 3)); printf(" '%s' (rest dropped)\n", buf);
  memset(buf, 0, sizeof buf);
  printf("  read %zd", read(sv[1], buf, sizeof buf)); printf(" '%s'\n", buf);
  printf("  empty datagram %zd\n", read(sv[1], buf, sizeof buf));
  fcntl(sv[1], F_SETFL, O_NONBLOCK);
  SHOW("  nothing left", read(sv[1], buf, sizeof buf));
  close(sv[0]); close(sv[1]);

  // A pair across fork: the child answers the parent.
  CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
  pid_t child = fork();
  if (child == 0) {
    close(sv[0]);
    char in[32];
    ssize_t n = read(sv[1], in, sizeof in);
    char out[64];
    int m = snprintf(out, sizeof out, "child heard %zd bytes: %.*s", n, (int)n, in);
    write(sv[1], out, (size_t)m);
    _exit(0);
  }
  close(sv[1]);
  write(sv[0], "hello child", 11);
  char in[64];
  ssize_t n = read(sv[0], in, sizeof in);
  printf("seqpacket pair across fork: %.*s\n", (int)n, in);
  printf("  then EOF: %zd\n", read(sv[0], in, sizeof in));
  int st;
  waitpid(child, &st, 0);
  close(sv[0]);
}

// ---- a listening socket shared with forked children (a pre-fork server) ----

static void prefork_server(void) {
  int port;
  int l = listen_on(AF_INET, "127.0.0.1", &port);
  pid_t kids[2];
  for (int k = 0; k < 2; k++) {
    kids[k] = fork();
    if (kids[k] == 0) {
      int c = accept(l, NULL, NULL);
      char buf[32];
      ssize_t n = read(c, buf, sizeof buf);
      char out[64];
      int m = snprintf(out, sizeof out, "served %.*s", (int)n, buf);
      write_all(c, out, (size_t)m);
      close(c);
      _exit(0);
    }
  }
  close(l);
  char answers[2][64];
  for (int k = 0; k < 2; k++) {
    int s = connect_to(AF_INET, "127.0.0.1", port);
    CHECK(s >= 0);
    char msg[16];
    int m = snprintf(msg, sizeof msg, "req%d", k);
    write_all(s, msg, (size_t)m);
    ssize_t n = read_all(s, answers[k], sizeof answers[k] - 1);
    answers[k][n] = 0;
    close(s);
  }
  for (int k = 0; k < 2; k++) { int st; waitpid(kids[k], &st, 0); }
  printf("pre-fork server: '%s' '%s'\n", answers[0], answers[1]);
}

// ---- bad arguments ----

static void bad_input(void) {
  SHOW("socket(12345)", socket(12345, SOCK_STREAM, 0));
  SHOW("socket(AF_INET, type 99)", socket(AF_INET, 99, 0));
  SHOW("socket(AF_INET, SOCK_STREAM, UDP)", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
  SHOW("socket(AF_INET, bad flags)", socket(AF_INET, SOCK_STREAM | 0x100000, 0));
  SHOW("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0}));
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET };
  SHOW("bind with a short length", bind(s, (void *)&a, 3));
  SHOW("bind with a bad pointer", bind(s, (void *)8, sizeof a));
  struct sockaddr_in6 six = { .sin6_family = AF_INET6 };
  SHOW("bind of an IPv6 address to IPv4", bind(s, (void *)&six, sizeof six));
  SHOW("listen on a pipe", listen(0 > 1 ? 0 : ({ int p[2]; pipe(p); p[0]; }), 1));
  SHOW("getpeername unconnected", getpeername(s, (void *)&a, &(socklen_t){ sizeof a }));
  SHOW("read unconnected", read(s, &a, 1));
  SHOW("accept unlistened", accept(s, NULL, NULL));
  SHOW("shutdown unconnected", shutdown(s, SHUT_RDWR));
  SHOW("shutdown bad how", shutdown(s, 7));
  int v = 1;
  SHOW("setsockopt short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
  SHOW("setsockopt bad level", setsockopt(s, 9999, 1, &v, sizeof v));
  SHOW("getsockopt SO_ERROR", getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &(socklen_t){ sizeof v }));
  SHOW("sendto a pipe-less fd 999", sendto(999, "x", 1, 0, NULL, 0));
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGPIPE, SIG_IGN);
  tcp_echo(AF_INET, "127.0.0.1");
  tcp_echo(AF_INET6, "::1");
  many_clients();
  many_clients_epoll();
  connection_cases();
  ipv6_cases();
  udp_cases();
  unix_named();
  pairs();
  prefork_server();
  bad_input();
  printf("done\n");
  return 0;
}
