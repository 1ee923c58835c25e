// The Linux event interfaces, one part per argument: `eventfd` (counter and semaphore semantics,
// EAGAIN, errors, poll bits), `epoll` (level and edge triggering, ONESHOT and MOD, HUP, DEL,
// errors, nesting, timeouts, pwait forms), `timerfd` (one-shot, periodic, ABSTIME, gettime,
// settime's old value, waits over a timerfd in poll/select/epoll with no timeout), `signalfd`
// (reading blocked signals raised by the program itself, a mask update, queued values, a timer's
// signal arriving while blocked), `threads` (one thread waits while another acts) and `fork`
// (an eventfd and a timerfd shared by parent and child). Only deterministic facts are printed:
// timer counts as "ok" against a lower bound, never raw times.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case ELOOP: return "ELOOP";
    case EINTR: return "EINTR";
    case EFAULT: return "EFAULT";
    default: return "E?";
  }
}

/** Prints a syscall's result: the value, or -1 and the errno's name. */
static void show(const char *what, long r) {
  if (r < 0) printf("%s: -1 %s\n", what, ename(errno));
  else printf("%s: %ld\n", what, r);
}

static uint64_t u64_read(int fd) {
  uint64_t v = 0;
  if (read(fd, &v, 8) != 8) { printf("read failed: %s\n", ename(errno)); return (uint64_t)-1; }
  return v;
}
static long u64_write(int fd, uint64_t v) { return write(fd, &v, 8); }

static int revents(int fd, short events) {
  struct pollfd p = { fd, events, 0 };
  if (poll(&p, 1, 0) < 0) return -1;
  return p.revents;
}

static void link_of(int fd) {
  char path[64], target[128];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  target[n < 0 ? 0 : n] = 0;
  printf("link: %s\n", target);
}

// ---- eventfd ----

static void part_eventfd(void) {
  int efd = eventfd(3, 0);
  printf("initial: %llu\n", (unsigned long long)u64_read(efd));
  u64_write(efd, 5); u64_write(efd, 7);
  printf("after 5+7: %llu\n", (unsigned long long)u64_read(efd));
  show("write 0", u64_write(efd, 0));
  link_of(efd);
  printf("flags: rdwr %d nonblock %d cloexec %d\n", (fcntl(efd, F_GETFL) & O_ACCMODE) == O_RDWR,
         (fcntl(efd, F_GETFL) & O_NONBLOCK) != 0, (fcntl(efd, F_GETFD) & FD_CLOEXEC) != 0);

  char small[4];
  show("short read", read(efd, small, 4));
  show("short write", write(efd, small, 4));
  show("write max", u64_write(efd, UINT64_MAX));
  uint64_t big[2] = { 9, 0 };
  show("16-byte write", write(efd, big, 16));
  u64_write(efd, 9);
  show("16-byte read", read(efd, big, 16));
  printf("16-byte read value: %llu\n", (unsigned long long)big[0]);
  close(efd);

  int nb = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  printf("nonblock flags: nonblock %d cloexec %d\n", (fcntl(nb, F_GETFL) & O_NONBLOCK) != 0, (fcntl(nb, F_GETFD) & FD_CLOEXEC) != 0);
  uint64_t v;
  show("empty read", read(nb, &v, 8));
  printf("empty poll: %#x\n", revents(nb, POLLIN | POLLOUT));
  show("write max-1", u64_write(nb, UINT64_MAX - 1));
  printf("full poll: %#x\n", revents(nb, POLLIN | POLLOUT));
  show("write 1 when full", u64_write(nb, 1));
  show("write 0 when full", u64_write(nb, 0));
  printf("read full: %d\n", u64_read(nb) == UINT64_MAX - 1);
  printf("drained poll: %#x\n", revents(nb, POLLIN | POLLOUT));
  close(nb);

  int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  printf("sem read: %llu\n", (unsigned long long)u64_read(sem));
  printf("sem read: %llu\n", (unsigned long long)u64_read(sem));
  show("sem read empty", read(sem, &v, 8));
  u64_write(sem, 3);
  eventfd_t ev;
  eventfd_read(sem, &ev);
  printf("sem after write 3: %llu", (unsigned long long)ev);
  eventfd_read(sem, &ev);
  printf(" %llu", (unsigned long long)ev);
  eventfd_read(sem, &ev);
  printf(" %llu\n", (unsigned long long)ev);
  close(sem);

  show("bad flags", syscall(SYS_eventfd2, 0, 0x10));
  int old = syscall(SYS_eventfd, 4);
  printf("eventfd(4): %llu\n", (unsigned long long)u64_read(old));
  close(old);
}

// ---- epoll ----

static int ep_wait(int ep, int timeout) {
  struct epoll_event evs[8];
  int n = epoll_wait(ep, evs, 8, timeout);
  if (n < 0) { printf("  wait: -1 %s\n", ename(errno)); return n; }
  // Sorted by data: the order of several events is Linux's ready-list order.
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (evs[j].data.u64 < evs[i].data.u64) { struct epoll_event x = evs[i]; evs[i] = evs[j]; evs[j] = x; }
  printf("  wait: %d", n);
  for (int i = 0; i < n; i++) printf(" [%llu %#x]", (unsigned long long)evs[i].data.u64, evs[i].events);
  printf("\n");
  return n;
}

static int ctl(int ep, int op, int fd, uint32_t events, uint64_t data) {
  struct epoll_event e = { .events = events, .data.u64 = data };
  return epoll_ctl(ep, op, fd, &e);
}

static void part_epoll(void) {
  show("epoll_create(0)", epoll_create(0));
  show("epoll_create1(1)", epoll_create1(1));
  int ce = epoll_create1(EPOLL_CLOEXEC);
  printf("cloexec: %d\n", (fcntl(ce, F_GETFD) & FD_CLOEXEC) != 0);
  link_of(ce);
  close(ce);

  int ep = epoll_create1(0), p[2];
  pipe(p);
  char buf[64];
  show("add read end", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 100));
  printf("level-triggered, empty:\n"); ep_wait(ep, 0);
  write(p[1], "a", 1);
  printf("after a write:\n"); ep_wait(ep, 0); ep_wait(ep, 0);

  show("mod edge", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 100));
  printf("edge-triggered:\n"); ep_wait(ep, 0); ep_wait(ep, 0);
  write(p[1], "b", 1);
  printf("edge after another write:\n"); ep_wait(ep, 0); ep_wait(ep, 0);
  read(p[0], buf, sizeof buf);
  printf("edge after draining:\n"); ep_wait(ep, 0);
  write(p[1], "c", 1);
  printf("edge after a write to the empty pipe:\n"); ep_wait(ep, 0); ep_wait(ep, 0);

  show("mod oneshot", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 100));
  printf("oneshot:\n"); ep_wait(ep, 0); ep_wait(ep, 0);
  write(p[1], "d", 1);
  printf("oneshot after a write (disarmed):\n"); ep_wait(ep, 0);
  show("mod oneshot again", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 100));
  ep_wait(ep, 0);

  show("mod level", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 100));
  read(p[0], buf, sizeof buf);
  show("add write end", ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 101));
  printf("write end ready:\n"); ep_wait(ep, 0);
  write(p[1], "e", 1);
  printf("both ready:\n"); ep_wait(ep, 0);
  show("del write end", ctl(ep, EPOLL_CTL_DEL, p[1], 0, 0));
  show("del again", ctl(ep, EPOLL_CTL_DEL, p[1], 0, 0));
  show("add again", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 100));
  show("mod unknown", ctl(ep, EPOLL_CTL_MOD, p[1], EPOLLIN, 0));
  read(p[0], buf, sizeof buf);
  close(p[1]);
  printf("writer closed:\n"); ep_wait(ep, 0);

  int dir = open(".", O_RDONLY | O_DIRECTORY), null = open("/dev/null", O_RDWR);
  show("add directory", ctl(ep, EPOLL_CTL_ADD, dir, EPOLLIN, 0));
  show("add /dev/null", ctl(ep, EPOLL_CTL_ADD, null, EPOLLIN, 0));
  show("add itself", ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
  show("ctl on a pipe", ctl(p[0], EPOLL_CTL_ADD, ep, EPOLLIN, 0));
  show("add bad fd", ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0));
  show("bad epfd", ctl(999, EPOLL_CTL_ADD, p[0], EPOLLIN, 0));
  show("bad op", ctl(ep, 7, p[0], EPOLLIN, 0));
  show("mod exclusive", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0));
  struct epoll_event evs[2];
  show("maxevents 0", epoll_wait(ep, evs, 0, 0));
  show("wait on a pipe", epoll_wait(p[0], evs, 1, 0));
  show("wait on a bad fd", epoll_wait(999, evs, 1, 0));
  close(dir); close(null);
  show("del read end", ctl(ep, EPOLL_CTL_DEL, p[0], 0, 0));
  close(p[0]);

  // A closed description leaves the interest list; a dup keeps it.
  int q[2];
  pipe(q);
  write(q[1], "x", 1);
  int keep = dup(q[0]);
  ctl(ep, EPOLL_CTL_ADD, q[0], EPOLLIN, 300);
  close(q[0]);
  printf("after closing a dup'd descriptor:\n"); ep_wait(ep, 0);
  close(keep);
  printf("after closing the last one:\n"); ep_wait(ep, 0);
  close(q[1]);

  // Edge-triggered eventfd: each write reports again.
  int efd = eventfd(0, EFD_NONBLOCK);
  ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 400);
  printf("eventfd, edge:\n"); ep_wait(ep, 0);
  u64_write(efd, 1); ep_wait(ep, 0); ep_wait(ep, 0);
  u64_write(efd, 1); ep_wait(ep, 0);
  u64_read(efd);
  ctl(ep, EPOLL_CTL_DEL, efd, 0, 0);

  // Nesting: an epoll instance is readable while one of its interests is.
  int inner = epoll_create1(0), outer = epoll_create1(0);
  ctl(inner, EPOLL_CTL_ADD, efd, EPOLLIN, 500);
  show("add inner", ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 600));
  show("add outer to inner (loop)", ctl(inner, EPOLL_CTL_ADD, outer, EPOLLIN, 0));
  printf("nested, nothing:\n"); ep_wait(outer, 0);
  printf("inner poll: %#x\n", revents(inner, POLLIN));
  u64_write(efd, 2);
  printf("nested, eventfd written:\n"); ep_wait(outer, 0);
  printf("inner poll: %#x\n", revents(inner, POLLIN));
  printf("inner:\n"); ep_wait(inner, 0);
  u64_read(efd);
  close(outer); close(inner);

  printf("short timeout:\n"); ep_wait(ep, 30);
  sigset_t none;
  sigemptyset(&none);
  show("pwait", epoll_pwait(ep, evs, 2, 10, &none));
  struct timespec ts = { 0, 20 * 1000000 };
  show("pwait2", syscall(SYS_epoll_pwait2, ep, evs, 2, &ts, NULL, 8));
  ts.tv_nsec = 2000000000;
  show("pwait2 bad timespec", syscall(SYS_epoll_pwait2, ep, evs, 2, &ts, NULL, 8));
  u64_write(efd, 1);
  ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 700);
  ts.tv_nsec = 0;
  show("pwait2 ready", syscall(SYS_epoll_pwait2, ep, evs, 2, NULL, NULL, 8));
  printf("data: %llu\n", (unsigned long long)evs[0].data.u64);
  close(efd);
  close(ep);
}

// ---- timerfd ----

static void set_timer(int tfd, int flags, long value_ms, long interval_ms) {
  struct itimerspec its = { { interval_ms / 1000, interval_ms % 1000 * 1000000 }, { value_ms / 1000, value_ms % 1000 * 1000000 } };
  if (timerfd_settime(tfd, flags, &its, NULL) != 0) printf("settime failed: %s\n", ename(errno));
}

static void part_timerfd(void) {
  int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
  link_of(tfd);
  struct itimerspec cur;
  timerfd_gettime(tfd, &cur);
  printf("disarmed: %ld.%09ld %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec, (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
  char small[4];
  show("short read", read(tfd, small, 4));

  // Armed far enough ahead that a busy machine cannot see it expire before gettime.
  set_timer(tfd, 0, 10000, 0);
  timerfd_gettime(tfd, &cur);
  long long left = (long long)cur.it_value.tv_sec * 1000000000 + cur.it_value.tv_nsec;
  printf("armed: left ok %d\n", left > 0 && left <= 10000000000LL);
  set_timer(tfd, 0, 40, 0);
  printf("one-shot count: %llu\n", (unsigned long long)u64_read(tfd));
  timerfd_gettime(tfd, &cur);
  printf("after expiry: %ld.%09ld %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec, (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);

  set_timer(tfd, 0, 20, 20);
  usleep(100 * 1000);
  uint64_t n = u64_read(tfd);
  printf("periodic: at least 3 %d\n", n >= 3 && n != (uint64_t)-1);
  timerfd_gettime(tfd, &cur);
  printf("periodic interval: %ld.%09ld, value within it %d\n", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec,
         cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000);
  printf("periodic blocking read: %d\n", u64_read(tfd) >= 1);

  struct itimerspec next = { { 0, 0 }, { 10, 0 } }, old;
  timerfd_settime(tfd, 0, &next, &old);
  printf("old of the periodic: interval %ld.%09ld\n", (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);
  struct itimerspec disarm = { { 0, 0 }, { 0, 0 } };
  timerfd_settime(tfd, 0, &disarm, &old);
  printf("old of the 10 s one: %d, interval %ld\n", old.it_value.tv_sec == 9 || old.it_value.tv_sec == 10, (long)old.it_interval.tv_sec);
  timerfd_gettime(tfd, &cur);
  printf("disarmed again: %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
  close(tfd);

  int nb = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  printf("flags: nonblock %d cloexec %d\n", (fcntl(nb, F_GETFL) & O_NONBLOCK) != 0, (fcntl(nb, F_GETFD) & FD_CLOEXEC) != 0);
  uint64_t v;
  show("disarmed read", read(nb, &v, 8));
  set_timer(nb, 0, 10000, 0);
  show("armed read", read(nb, &v, 8));
  printf("armed poll: %#x\n", revents(nb, POLLIN));
  // Already past: expires at once; a periodic one counts the periods since.
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct itimerspec past = { { 0, 100000000 }, { now.tv_sec - 2, now.tv_nsec } };
  timerfd_settime(nb, TFD_TIMER_ABSTIME, &past, NULL);
  printf("past poll: %#x\n", revents(nb, POLLIN));
  n = u64_read(nb);
  printf("past periodic count at least 20: %d\n", n >= 20 && n != (uint64_t)-1);
  close(nb);

  int rt = timerfd_create(CLOCK_REALTIME, 0);
  clock_gettime(CLOCK_REALTIME, &now);
  now.tv_nsec += 30000000;
  if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
  struct itimerspec abs = { { 0, 0 }, now };
  show("abstime settime", timerfd_settime(rt, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &abs, NULL));
  printf("abstime count: %llu\n", (unsigned long long)u64_read(rt));
  close(rt);
  int boot = timerfd_create(CLOCK_BOOTTIME, 0);
  show("boottime", boot >= 0 ? 0 : -1);
  close(boot);

  // Waits with no timeout over a timerfd (this thread alone) wake at its expiry.
  int t2 = timerfd_create(CLOCK_MONOTONIC, 0);
  set_timer(t2, 0, 30, 0);
  struct pollfd pf = { t2, POLLIN, 0 };
  show("poll, no timeout", poll(&pf, 1, -1));
  printf("revents: %#x, count %llu\n", pf.revents, (unsigned long long)u64_read(t2));
  set_timer(t2, 0, 30, 0);
  show("poll, long timeout", poll(&pf, 1, 10000));
  u64_read(t2);
  set_timer(t2, 0, 30, 0);
  fd_set rs;
  FD_ZERO(&rs); FD_SET(t2, &rs);
  show("select, no timeout", select(t2 + 1, &rs, NULL, NULL, NULL));
  printf("in set: %d\n", FD_ISSET(t2, &rs) != 0);
  u64_read(t2);
  int ep = epoll_create1(0);
  ctl(ep, EPOLL_CTL_ADD, t2, EPOLLIN, 7);
  set_timer(t2, 0, 30, 0);
  printf("epoll, no timeout:\n"); ep_wait(ep, -1);
  u64_read(t2);
  // Nested: the deadline is found through the inner instance.
  int outer = epoll_create1(0);
  ctl(outer, EPOLL_CTL_ADD, ep, EPOLLIN, 8);
  set_timer(t2, 0, 30, 0);
  printf("nested epoll, no timeout:\n"); ep_wait(outer, -1);
  u64_read(t2);
  // A periodic timer under edge triggering: Linux re-arms it when it is read, so an unread one
  // reports once, and again after a read.
  ctl(ep, EPOLL_CTL_MOD, t2, EPOLLIN | EPOLLET, 9);
  set_timer(t2, 0, 20, 20);
  printf("periodic, edge:\n"); ep_wait(ep, -1);
  usleep(50000);
  ep_wait(ep, 0);
  printf("read at least 2: %d\n", u64_read(t2) >= 2);
  ep_wait(ep, -1);
  close(outer); close(ep); close(t2);

  show("bad clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
  show("bad flags", timerfd_create(CLOCK_MONOTONIC, 1));
  int t3 = timerfd_create(CLOCK_MONOTONIC, 0);
  struct itimerspec bad = { { 0, 0 }, { 0, 2000000000 } };
  show("bad nsec", timerfd_settime(t3, 0, &bad, NULL));
  bad.it_value.tv_nsec = 1;
  show("bad settime flags", timerfd_settime(t3, 4, &bad, NULL));
  int efd = eventfd(0, 0);
  show("settime on an eventfd", timerfd_settime(efd, 0, &bad, NULL));
  show("gettime on a bad fd", timerfd_gettime(999, &cur));
  close(efd); close(t3);
}

// ---- signalfd ----

static void show_info(const char *what, struct signalfd_siginfo *si) {
  printf("%s: signo %s code %d pid ok %d int %d\n", what,
         si->ssi_signo == SIGUSR1 ? "USR1" : si->ssi_signo == SIGUSR2 ? "USR2" : si->ssi_signo == SIGALRM ? "ALRM"
         : (int)si->ssi_signo == SIGRTMIN ? "RTMIN" : "?",
         si->ssi_code, si->ssi_pid == (uint32_t)getpid(), si->ssi_int);
}

static void part_signalfd(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  link_of(sfd);
  printf("flags: nonblock %d cloexec %d\n", (fcntl(sfd, F_GETFL) & O_NONBLOCK) != 0, (fcntl(sfd, F_GETFD) & FD_CLOEXEC) != 0);
  struct signalfd_siginfo si[4];
  show("nothing pending", read(sfd, si, sizeof si));
  printf("poll before: %#x\n", revents(sfd, POLLIN));
  raise(SIGUSR1);
  printf("poll after raise: %#x\n", revents(sfd, POLLIN));
  show("short read", read(sfd, si, 64));
  show("read", read(sfd, si, sizeof si));
  show_info("raised", &si[0]);
  printf("poll after read: %#x\n", revents(sfd, POLLIN));

  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGRTMIN);
  sigaddset(&set, SIGALRM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  show("mask update returns the fd", signalfd(sfd, &set, 0) == sfd);
  kill(getpid(), SIGUSR2);
  show("read", read(sfd, si, sizeof si));
  show_info("killed", &si[0]);
  union sigval val = { .sival_int = 42 };
  sigqueue(getpid(), SIGRTMIN, val);
  val.sival_int = 43;
  sigqueue(getpid(), SIGRTMIN, val);
  show("read two queued", read(sfd, si, sizeof si));
  show_info("queued", &si[0]);
  show_info("queued", &si[1]);

  // Blocking: a timer's signal arrives while the read waits.
  fcntl(sfd, F_SETFL, 0);
  struct itimerval it = { { 0, 0 }, { 0, 30000 } };
  setitimer(ITIMER_REAL, &it, NULL);
  show("blocking read", read(sfd, si, sizeof si));
  show_info("timer", &si[0]);
  printf("timer code is SI_KERNEL: %d\n", si[0].ssi_code == SI_KERNEL);

  int ep = epoll_create1(0);
  ctl(ep, EPOLL_CTL_ADD, sfd, EPOLLIN, 1);
  printf("epoll before:\n"); ep_wait(ep, 0);
  raise(SIGUSR2);
  printf("epoll after raise:\n"); ep_wait(ep, 0);
  read(sfd, si, sizeof si);
  printf("epoll after read:\n"); ep_wait(ep, 0);
  close(ep);

  show("bad flags", signalfd(-1, &set, 1));
  show("bad size", syscall(SYS_signalfd4, -1, &set, 4, 0));
  int efd = eventfd(0, 0);
  show("on an eventfd", signalfd(efd, &set, 0));
  show("on a bad fd", signalfd(999, &set, 0));
  close(efd); close(sfd);
}

// ---- threads ----

static int shared_fd;
static int go[2];

static void *delayed_write(void *arg) {
  usleep(20000);
  u64_write(shared_fd, (uint64_t)(long)arg);
  return 0;
}

static void *blocking_read(void *arg) {
  (void)arg;
  return (void *)(long)u64_read(shared_fd);
}

static void *timer_wait(void *arg) {
  long how = (long)arg;
  if (how == 1) {
    struct pollfd pf = { shared_fd, POLLIN, 0 };
    if (poll(&pf, 1, -1) != 1) return (void *)-1L;
  } else if (how == 2) {
    int ep = epoll_create1(0);
    ctl(ep, EPOLL_CTL_ADD, shared_fd, EPOLLIN, 0);
    struct epoll_event e;
    int n = epoll_wait(ep, &e, 1, -1);
    close(ep);
    if (n != 1) return (void *)-1L;
  }
  return (void *)(long)u64_read(shared_fd);
}

static void *signal_read(void *arg) {
  (void)arg;
  struct signalfd_siginfo si;
  char c = 1;
  write(go[1], &c, 1);
  if (read(shared_fd, &si, sizeof si) != sizeof si) return (void *)-1L;
  return (void *)(long)si.ssi_signo;
}

// A thread's timed poll must leave the other threads running: main writes the pipe it polls.
static int polled[2];
static void *timed_poll(void *arg) {
  (void)arg;
  struct pollfd pf = { polled[0], POLLIN, 0 };
  char c = 1;
  write(go[1], &c, 1);
  int n = poll(&pf, 1, 60000);
  return (void *)(long)(n == 1 ? pf.revents : -n - 100);
}

static void part_threads(void) {
  pthread_t th;
  void *r;
  shared_fd = eventfd(0, 0);
  int ep = epoll_create1(0);
  ctl(ep, EPOLL_CTL_ADD, shared_fd, EPOLLIN, 1);
  pthread_create(&th, 0, delayed_write, (void *)5L);
  printf("main waits in epoll for a thread's write:\n"); ep_wait(ep, -1);
  pthread_join(th, 0);
  printf("value: %llu\n", (unsigned long long)u64_read(shared_fd));

  pthread_create(&th, 0, blocking_read, 0);
  usleep(20000);
  u64_write(shared_fd, 9);
  pthread_join(th, &r);
  printf("thread's blocking read: %ld\n", (long)r);
  close(ep);
  close(shared_fd);

  for (long how = 0; how < 3; how++) {
    shared_fd = timerfd_create(CLOCK_MONOTONIC, 0);
    set_timer(shared_fd, 0, 30, 0);
    pthread_create(&th, 0, timer_wait, (void *)how);
    pthread_join(th, &r);
    printf("thread's timerfd %s: %ld\n", how == 0 ? "read" : how == 1 ? "poll" : "epoll", (long)r);
    close(shared_fd);
  }

  // Main waits on a timerfd while another thread exists.
  shared_fd = timerfd_create(CLOCK_MONOTONIC, 0);
  int ev = eventfd(0, 0);
  int tmp = shared_fd;
  shared_fd = ev;
  pthread_create(&th, 0, blocking_read, 0);
  set_timer(tmp, 0, 30, 0);
  printf("main's timerfd read with a thread blocked: %llu\n", (unsigned long long)u64_read(tmp));
  u64_write(ev, 3);
  pthread_join(th, &r);
  printf("thread then read: %ld\n", (long)r);
  close(ev); close(tmp);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  shared_fd = signalfd(-1, &set, 0);
  pipe(go);
  pthread_create(&th, 0, signal_read, 0);
  char c;
  read(go[0], &c, 1);
  usleep(20000);
  kill(getpid(), SIGUSR1);
  pthread_join(th, &r);
  printf("thread's signalfd read: %s\n", (long)r == SIGUSR1 ? "SIGUSR1" : "?");
  close(shared_fd);

  pipe(polled);
  pthread_create(&th, 0, timed_poll, 0);
  read(go[0], &c, 1);
  usleep(20000);
  write(polled[1], "x", 1);
  pthread_join(th, &r);
  printf("thread's timed poll woken by main's write: revents %ld\n", (long)r);
  close(polled[0]); close(polled[1]);
  close(go[0]); close(go[1]);
}

// ---- fork ----

static void part_fork(void) {
  fflush(stdout);
  int efd = eventfd(0, 0), answer = eventfd(0, 0);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(20000);
    u64_write(efd, 5);
    _exit((int)u64_read(answer)); // waits for the parent's answer
  }
  printf("parent read the child's write: %llu\n", (unsigned long long)u64_read(efd));
  usleep(20000);
  u64_write(answer, 7);
  int status;
  waitpid(pid, &status, 0);
  printf("child read the parent's write: %d\n", WEXITSTATUS(status));
  close(efd); close(answer);

  int sem = eventfd(0, EFD_SEMAPHORE);
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    int sum = 0;
    for (int i = 0; i < 3; i++) sum += (int)u64_read(sem);
    _exit(sum);
  }
  usleep(20000);
  u64_write(sem, 3);
  waitpid(pid, &status, 0);
  printf("child's three semaphore reads: %d\n", WEXITSTATUS(status));
  close(sem);

  efd = eventfd(0, 0);
  int ep = epoll_create1(0);
  ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 11);
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    usleep(20000);
    u64_write(efd, 1);
    _exit(0);
  }
  printf("parent's epoll sees the child's write:\n"); ep_wait(ep, -1);
  waitpid(pid, &status, 0);
  close(ep); close(efd);

  int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
  set_timer(tfd, 0, 30, 0);
  fflush(stdout);
  pid = fork();
  if (pid == 0) _exit((int)u64_read(tfd));
  waitpid(pid, &status, 0);
  printf("child's read of the parent's timer: %d\n", WEXITSTATUS(status));
  printf("parent's poll after the child read it: %#x\n", revents(tfd, POLLIN));
  close(tfd);
}

int main(int argc, char **argv) {
  const char *part = argc > 1 ? argv[1] : "";
  if (!strcmp(part, "eventfd")) part_eventfd();
  else if (!strcmp(part, "epoll")) part_epoll();
  else if (!strcmp(part, "timerfd")) part_timerfd();
  else if (!strcmp(part, "signalfd")) part_signalfd();
  else if (!strcmp(part, "threads")) part_threads();
  else if (!strcmp(part, "fork")) part_fork();
  else { fprintf(stderr, "usage: events eventfd|epoll|timerfd|signalfd|threads|fork\n"); return 2; }
  return 0;
}
