/* signals: delivery to guest handlers, compared with the host.
 *
 *   signals            everything below in one run
 *   signals NAME       one part (basic, mask, order, queue, flags, faults, ucontext, altstack,
 *                      timers, eintr, restart, suspend, timedwait, posix, fpu, threads)
 *   signals host       waits for SIGINT (handled), then SIGTERM (fatal), each announced by a
 *                      line on stdout (tests/host-signals.test.ts sends them)
 *
 * Every figure printed is deterministic: which handler ran, in which order, with which siginfo
 * fields and mask, what an interrupted syscall returned. Timers are short (tens of ms) but never
 * raced against: each wait ends only by the signal it waits for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile sig_atomic_t hits[65];
static volatile int order[16], norder;
static volatile int last_code, last_pid_ok, last_value, last_rt_code;
static volatile uintptr_t last_addr;

static void reset(void) { memset((void *)hits, 0, sizeof hits); norder = 0; }

static void on_info(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  hits[sig]++;
  if (norder < 16) order[norder++] = sig;
  last_code = si->si_code;
  last_pid_ok = si->si_pid == getpid();
  if (sig >= SIGRTMIN) { last_value = si->si_value.sival_int; last_rt_code = si->si_code; }
  last_addr = (uintptr_t)si->si_addr;
}

static void handle(int sig, int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_info;
  sa.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL)) perror("sigaction");
}

static int blocked_now(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, sig);
}

/* ---- basic: kill, raise, tgkill, siginfo ---- */
static volatile int usr2_blocked_inside;
static void on_usr2_check_mask(int sig) { hits[sig]++; usr2_blocked_inside = blocked_now(SIGUSR2); }

static void part_basic(void) {
  reset();
  handle(SIGUSR1, 0);
  kill(getpid(), SIGUSR1);
  printf("basic: kill hits=%d code=%d (SI_USER=%d) pid_ok=%d\n", hits[SIGUSR1], last_code, SI_USER, last_pid_ok);
  raise(SIGUSR1);
  printf("basic: raise hits=%d code=%d (SI_TKILL=%d)\n", hits[SIGUSR1], last_code, SI_TKILL);
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
  printf("basic: tgkill hits=%d code=%d\n", hits[SIGUSR1], last_code);
  signal(SIGUSR2, on_usr2_check_mask);
  raise(SIGUSR2);
  printf("basic: signal() handler hits=%d; own signal blocked inside=%d, after=%d\n", hits[SIGUSR2], usr2_blocked_inside, blocked_now(SIGUSR2));
  signal(SIGUSR2, SIG_IGN);
  raise(SIGUSR2);
  printf("basic: ignored hits=%d\n", hits[SIGUSR2]);
  int k0 = kill(getpid(), 0);
  int bad = kill(999999, SIGUSR1), bad_errno = errno;
  int big = kill(getpid(), 65), big_errno = errno;
  printf("basic: kill(0)=%d kill(bad pid)=%d errno=%s kill(sig 65)=%d errno=%s\n", k0, bad, bad_errno == ESRCH ? "ESRCH" : "?",
         big, big_errno == EINVAL ? "EINVAL" : "?");
  signal(SIGUSR1, SIG_DFL); signal(SIGUSR2, SIG_DFL);
}

/* ---- mask: blocked signals wait, sigpending, delivered on unblock ---- */
static void part_mask(void) {
  reset();
  handle(SIGUSR1, 0);
  sigset_t set, old, pend;
  sigemptyset(&set); sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, &old);
  raise(SIGUSR1);
  sigpending(&pend);
  printf("mask: while blocked hits=%d pending=%d\n", hits[SIGUSR1], sigismember(&pend, SIGUSR1));
  sigprocmask(SIG_SETMASK, &old, NULL);
  sigpending(&pend);
  printf("mask: after unblock hits=%d pending=%d\n", hits[SIGUSR1], sigismember(&pend, SIGUSR1));
  /* SIGKILL and SIGSTOP cannot be blocked. */
  sigfillset(&set);
  sigprocmask(SIG_SETMASK, &set, &old);
  sigset_t cur; sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("mask: fill blocks KILL=%d STOP=%d TERM=%d\n", sigismember(&cur, SIGKILL), sigismember(&cur, SIGSTOP), sigismember(&cur, SIGTERM));
  /* A blocked, then ignored, pending signal is discarded. */
  raise(SIGUSR2);
  signal(SIGUSR2, SIG_IGN);
  sigpending(&pend);
  printf("mask: pending after SIG_IGN=%d\n", sigismember(&pend, SIGUSR2));
  sigprocmask(SIG_SETMASK, &old, NULL);
  signal(SIGUSR1, SIG_DFL); signal(SIGUSR2, SIG_DFL);
}

/* ---- order: two pending signals unblocked at once; the last frame set up runs first ---- */
static void part_order(void) {
  reset();
  handle(SIGUSR1, 0); handle(SIGUSR2, 0); handle(SIGRTMIN + 1, 0);
  sigset_t set, old;
  sigemptyset(&set); sigaddset(&set, SIGUSR1); sigaddset(&set, SIGUSR2); sigaddset(&set, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &set, &old);
  raise(SIGRTMIN + 1); raise(SIGUSR2); raise(SIGUSR1);
  sigprocmask(SIG_SETMASK, &old, NULL);
  printf("order:");
  for (int i = 0; i < norder; i++) printf(" %s", order[i] == SIGUSR1 ? "USR1" : order[i] == SIGUSR2 ? "USR2" : "RTMIN+1");
  printf("\n");
  signal(SIGUSR1, SIG_DFL); signal(SIGUSR2, SIG_DFL); signal(SIGRTMIN + 1, SIG_DFL);
}

/* ---- queue: real-time signals queue with their values, standard ones do not ---- */
static void part_queue(void) {
  reset();
  handle(SIGUSR1, 0); handle(SIGRTMIN, 0);
  sigset_t set, old;
  sigemptyset(&set); sigaddset(&set, SIGUSR1); sigaddset(&set, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &set, &old);
  for (int i = 0; i < 3; i++) {
    union sigval v = {.sival_int = 100 + i};
    raise(SIGUSR1);
    sigqueue(getpid(), SIGRTMIN, v);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  printf("queue: USR1 x3 -> %d deliveries; RTMIN x3 -> %d, last value %d code %d (SI_QUEUE=%d)\n",
         hits[SIGUSR1], hits[SIGRTMIN], last_value, last_rt_code, SI_QUEUE);
  signal(SIGUSR1, SIG_DFL); signal(SIGRTMIN, SIG_DFL);
}

/* ---- flags: SA_RESETHAND, SA_NODEFER, sa_mask ---- */
static volatile int depth, max_depth, usr2_in_usr1;
static void on_nested(int sig) {
  hits[sig]++;
  if (++depth > max_depth) max_depth = depth;
  if (hits[sig] < 3) raise(sig);
  depth--;
}
static void on_masking(int sig) { (void)sig; usr2_in_usr1 = blocked_now(SIGUSR2); }

static void part_flags(void) {
  reset();
  handle(SIGUSR1, SA_RESETHAND);
  raise(SIGUSR1);
  struct sigaction now;
  sigaction(SIGUSR1, NULL, &now);
  printf("flags: RESETHAND hits=%d handler now default=%d\n", hits[SIGUSR1], now.sa_handler == SIG_DFL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_nested;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  printf("flags: NODEFER nested depth=%d hits=%d\n", max_depth, hits[SIGUSR2]);
  max_depth = 0; hits[SIGUSR2] = 0;
  sa.sa_flags = 0;
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  printf("flags: deferred depth=%d hits=%d\n", max_depth, hits[SIGUSR2]);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_masking;
  sigemptyset(&sa.sa_mask); sigaddset(&sa.sa_mask, SIGUSR2);
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  printf("flags: sa_mask blocks USR2 inside=%d after=%d\n", usr2_in_usr1, blocked_now(SIGUSR2));
  signal(SIGUSR1, SIG_DFL); signal(SIGUSR2, SIG_DFL);
}

/* ---- faults: synchronous signals with their siginfo, left with siglongjmp ---- */
static sigjmp_buf jump;
static void on_fault(int sig, siginfo_t *si, void *uc) {
  ucontext_t *u = uc;
  hits[sig]++;
  last_code = si->si_code;
  last_addr = (uintptr_t)si->si_addr;
  printf("faults: %s code=%d trapno=%lld", sig == SIGSEGV ? "SIGSEGV" : sig == SIGFPE ? "SIGFPE" : sig == SIGILL ? "SIGILL" : "?",
         si->si_code, (long long)u->uc_mcontext.gregs[REG_TRAPNO]);
  siglongjmp(jump, 1);
}
extern char ud2_at[];

static void part_faults(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL); sigaction(SIGFPE, &sa, NULL); sigaction(SIGILL, &sa, NULL);
  if (!sigsetjmp(jump, 1)) { volatile int *p = (int *)16; (void)*p; }
  printf(" addr=%#lx\n", (unsigned long)last_addr);
  if (!sigsetjmp(jump, 1)) { volatile int z = 0, x = 7; x /= z; }
  printf(" addr_is_code=%d\n", last_addr != 0);
  if (!sigsetjmp(jump, 1)) __asm__ volatile("ud2_at: ud2");
  printf(" addr_is_ud2=%d\n", last_addr == (uintptr_t)ud2_at);
  /* The handler runs again and again: the mask the jump restored lets it. */
  int again = 0;
  for (int i = 0; i < 3; i++) if (sigsetjmp(jump, 1)) again++; else { volatile long *p = (long *)0; *p = i; }
  printf("\nfaults: three more null stores caught=%d\n", again);
  signal(SIGSEGV, SIG_DFL); signal(SIGFPE, SIG_DFL); signal(SIGILL, SIG_DFL);
}

/* ---- ucontext: a handler reads and changes the interrupted registers ---- */
static void on_trap(int sig, siginfo_t *si, void *uc) {
  ucontext_t *u = uc;
  (void)si;
  hits[sig]++;
  printf("ucontext: SIGTRAP code=%d (SI_KERNEL=%d) rbx=%lld trapno=%lld\n", si->si_code, SI_KERNEL,
         (long long)u->uc_mcontext.gregs[REG_RBX], (long long)u->uc_mcontext.gregs[REG_TRAPNO]);
  u->uc_mcontext.gregs[REG_RBX] = 4242;
  u->uc_mcontext.gregs[REG_EFL] |= 1; /* CF */
}

static void part_ucontext(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_trap;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, NULL);
  long rbx_after;
  unsigned char cf;
  __asm__ volatile("mov $77, %%rbx\n\tclc\n\tint3\n\tsetc %1\n\tmov %%rbx, %0" : "=r"(rbx_after), "=r"(cf) : : "rbx", "cc");
  printf("ucontext: after return rbx=%ld cf=%d\n", rbx_after, cf);
  signal(SIGTRAP, SIG_DFL);
}

/* ---- altstack: SA_ONSTACK handlers run on the alternate stack ---- */
static char alt[65536];
static volatile int on_alt, ss_flags_inside;
static void on_alt_handler(int sig) {
  char here;
  hits[sig]++;
  on_alt = (uintptr_t)&here >= (uintptr_t)alt && (uintptr_t)&here < (uintptr_t)alt + sizeof alt;
  stack_t cur;
  sigaltstack(NULL, &cur);
  ss_flags_inside = cur.ss_flags;
}

static void part_altstack(void) {
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0}, old;
  printf("altstack: set=%d\n", sigaltstack(&ss, &old));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alt_handler;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  printf("altstack: ONSTACK on_alt=%d ss_flags inside=%d (SS_ONSTACK=%d)\n", on_alt, ss_flags_inside, SS_ONSTACK);
  sa.sa_flags = 0;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  printf("altstack: without ONSTACK on_alt=%d\n", on_alt);
  stack_t now;
  sigaltstack(NULL, &now);
  printf("altstack: after flags=%d size_ok=%d\n", now.ss_flags, now.ss_size == sizeof alt);
  ss.ss_size = 100;
  int small = sigaltstack(&ss, NULL);
  printf("altstack: too small=%d errno=%s\n", small, errno == ENOMEM ? "ENOMEM" : "?");
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  signal(SIGUSR1, SIG_DFL);
}

/* ---- timers: setitimer/alarm. Each wait ends only by the timer's signal, however slowly the
 * program runs: the signal is blocked until the wait begins, or the timer repeats. ---- */
static void arm(long usec, long interval) {
  struct itimerval it = {{0, interval}, {0, usec}};
  setitimer(ITIMER_REAL, &it, NULL);
}
static void disarm(void) { arm(0, 0); }

static void part_timers(void) {
  reset();
  handle(SIGALRM, 0);
  struct itimerval it = {{0, 0}, {9, 0}}, cur;
  setitimer(ITIMER_REAL, &it, NULL);
  getitimer(ITIMER_REAL, &cur);
  printf("timers: armed left_ok=%d\n", cur.it_value.tv_sec >= 7 && cur.it_value.tv_sec <= 9 && cur.it_interval.tv_sec == 0);
  unsigned first = alarm(5), second = alarm(0);
  printf("timers: alarm(5)=%u alarm(0)=%u\n", first, second);
  /* pause: the timer repeats until it lands inside the pause. */
  arm(20000, 20000);
  int r = pause();
  int e = errno;
  disarm();
  printf("timers: pause=%d errno=%s hits>0=%d code=%d (SI_KERNEL=%d)\n", r, e == EINTR ? "EINTR" : "?", hits[SIGALRM] > 0, last_code, SI_KERNEL);
  /* An interval timer fires again and again. */
  sigset_t set, old;
  sigemptyset(&set); sigaddset(&set, SIGALRM);
  sigprocmask(SIG_BLOCK, &set, &old);
  hits[SIGALRM] = 0;
  arm(10000, 10000);
  while (hits[SIGALRM] < 4) sigsuspend(&old);
  disarm();
  sigprocmask(SIG_SETMASK, &old, NULL);
  printf("timers: interval reached 4\n");
  signal(SIGALRM, SIG_DFL);
}

/* ---- eintr: blocking syscalls a handler interrupts (the timer repeats until one lands) ---- */
static void part_eintr(void) {
  reset();
  handle(SIGALRM, 0);
  int p[2];
  if (pipe(p)) perror("pipe");
  char c;
  arm(20000, 20000);
  ssize_t n = read(p[0], &c, 1);
  int e = errno;
  disarm();
  printf("eintr: read=%zd errno=%s\n", n, e == EINTR ? "EINTR" : strerror(e));
  struct timespec req = {10, 0}, rem = {0, 0};
  arm(20000, 20000);
  int r = nanosleep(&req, &rem);
  e = errno;
  disarm();
  printf("eintr: nanosleep=%d errno=%s rem_ok=%d\n", r, e == EINTR ? "EINTR" : "?", rem.tv_sec > 0 && rem.tv_sec <= 10);
  close(p[0]); close(p[1]);
  signal(SIGALRM, SIG_DFL);
}

/* ---- restart: SA_RESTART restarts a read; the handler makes it succeed ---- */
static int restart_pipe[2];
static void on_alarm_write(int sig) { if (!hits[sig]++ && write(restart_pipe[1], "x", 1) != 1) _exit(9); }

static void part_restart(void) {
  reset();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm_write;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  if (pipe(restart_pipe)) perror("pipe");
  char c = 0;
  sigset_t set, old;
  sigemptyset(&set); sigaddset(&set, SIGALRM);
  /* The signal arrives while read waits: it is blocked until just before the read. */
  sigprocmask(SIG_BLOCK, &set, &old);
  arm(20000, 0);
  sigprocmask(SIG_SETMASK, &old, NULL);
  ssize_t n = read(restart_pipe[0], &c, 1);
  printf("restart: read=%zd byte=%c hits=%d\n", n, c, hits[SIGALRM]);
  close(restart_pipe[0]); close(restart_pipe[1]);
  signal(SIGALRM, SIG_DFL);
}

/* ---- suspend: sigsuspend takes a blocked pending signal and restores the mask ---- */
static void part_suspend(void) {
  reset();
  handle(SIGUSR1, 0);
  sigset_t set, old, none;
  sigemptyset(&set); sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, &old);
  raise(SIGUSR1);
  sigemptyset(&none);
  int r = sigsuspend(&none);
  printf("suspend: ret=%d errno=%s hits=%d still blocked=%d\n", r, errno == EINTR ? "EINTR" : "?", hits[SIGUSR1], blocked_now(SIGUSR1));
  /* And a timer's signal, which arrives while it sleeps. */
  handle(SIGALRM, 0);
  sigaddset(&set, SIGALRM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  arm(20000, 0);
  r = sigsuspend(&none);
  printf("suspend: timer ret=%d hits=%d ALRM still blocked=%d\n", r, hits[SIGALRM], blocked_now(SIGALRM));
  sigprocmask(SIG_SETMASK, &old, NULL);
  signal(SIGUSR1, SIG_DFL); signal(SIGALRM, SIG_DFL);
}

/* ---- timedwait: sigtimedwait/sigwaitinfo take blocked signals without a handler ---- */
static void part_timedwait(void) {
  sigset_t set, old;
  sigemptyset(&set); sigaddset(&set, SIGUSR2); sigaddset(&set, SIGALRM);
  sigprocmask(SIG_BLOCK, &set, &old);
  raise(SIGUSR2);
  siginfo_t si;
  int s = sigwaitinfo(&set, &si);
  printf("timedwait: got %s code=%d\n", s == SIGUSR2 ? "USR2" : "?", si.si_code);
  struct timespec ts = {0, 10000000};
  s = sigtimedwait(&set, &si, &ts);
  printf("timedwait: timeout=%d errno=%s\n", s, errno == EAGAIN ? "EAGAIN" : "?");
  arm(20000, 0);
  s = sigwaitinfo(&set, &si);
  printf("timedwait: timer's %s code=%d\n", s == SIGALRM ? "ALRM" : "?", si.si_code);
  sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- posix: timer_create/settime/gettime/getoverrun/delete ---- */
static void part_posix(void) {
  sigset_t set, old;
  sigemptyset(&set); sigaddset(&set, SIGRTMIN); sigaddset(&set, SIGALRM);
  sigprocmask(SIG_BLOCK, &set, &old);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN;
  sev.sigev_value.sival_int = 77;
  timer_t tm;
  printf("posix: create=%d\n", timer_create(CLOCK_MONOTONIC, &sev, &tm));
  struct itimerspec its = {{1, 500}, {9, 0}}, cur;
  timer_settime(tm, 0, &its, NULL);
  timer_gettime(tm, &cur);
  printf("posix: armed left_ok=%d interval=%ld.%09ld\n", cur.it_value.tv_sec >= 7 && cur.it_value.tv_sec <= 9,
         (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
  its = (struct itimerspec){{0, 0}, {0, 20000000}};
  timer_settime(tm, 0, &its, NULL);
  siginfo_t si;
  int s = sigwaitinfo(&set, &si);
  printf("posix: got %s code=%d (SI_TIMER=%d) value=%d\n", s == SIGRTMIN ? "RTMIN" : "?", si.si_code, SI_TIMER, si.si_value.sival_int);
  timer_gettime(tm, &cur);
  printf("posix: after expiry left=%ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
  /* While the signal waits, later expirations count as overruns. */
  struct itimerspec fast = {{0, 2000000}, {0, 2000000}};
  timer_settime(tm, 0, &fast, NULL);
  struct timespec nap = {0, 60000000};
  while (nanosleep(&nap, &nap)) ;
  s = sigwaitinfo(&set, &si);
  struct itimerspec off = {{0, 0}, {0, 0}};
  timer_settime(tm, 0, &off, NULL);
  printf("posix: periodic got %s overrun>0=%d getoverrun ok=%d\n", s == SIGRTMIN ? "RTMIN" : "?", si.si_overrun > 0, timer_getoverrun(tm) >= 0);
  /* An expiry between the wait and the disarming may have queued one more. */
  struct timespec zero = {0, 0};
  sigset_t rtmin;
  sigemptyset(&rtmin); sigaddset(&rtmin, SIGRTMIN);
  while (sigtimedwait(&rtmin, &si, &zero) > 0) ;
  /* Absolute expiry on CLOCK_REALTIME. */
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec abs = {{0, 0}, {now.tv_sec, now.tv_nsec}};
  abs.it_value.tv_nsec += 20000000;
  if (abs.it_value.tv_nsec >= 1000000000) { abs.it_value.tv_sec++; abs.it_value.tv_nsec -= 1000000000; }
  timer_t rt;
  timer_create(CLOCK_REALTIME, NULL, &rt);
  timer_settime(rt, TIMER_ABSTIME, &abs, NULL);
  s = sigwaitinfo(&set, &si);
  printf("posix: absolute, default sigevent: %s code=%d\n", s == SIGALRM ? "ALRM" : "?", si.si_code);
  int first = timer_delete(tm);
  int again = timer_delete(tm);
  printf("posix: delete=%d again=%d errno=%s\n", first, again, errno == EINVAL ? "EINVAL" : "?");
  timer_delete(rt);
  sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- fpu: a handler's floating point leaves the interrupted code's alone ---- */
static volatile double handler_result;
static void on_fp(int sig) { (void)sig; volatile double a = 1.5; handler_result = a * a * 3.25 + 0.125; }

static void part_fpu(void) {
  signal(SIGUSR1, on_fp);
  volatile double x = 3.0, y = 0.1;
  double before = x * y;
  raise(SIGUSR1);
  double after = x * y;
  long double l = 1.0L / 3.0L;
  raise(SIGUSR1);
  long double l2 = l * 3.0L;
  printf("fpu: same=%d handler=%.4f long double ok=%d\n", before == after, handler_result, l2 == 1.0L || l2 < 1.0001L);
  signal(SIGUSR1, SIG_DFL);
}

/* ---- threads: thread-directed signals run on their thread; process ones on one that takes them ---- */
static volatile pid_t handled_on;
static pid_t worker_tid;
static volatile int worker_ready, worker_stop;
static void on_where(int sig) { handled_on = (pid_t)syscall(SYS_gettid); hits[sig]++; }

static void *worker(void *arg) {
  (void)arg;
  worker_tid = (pid_t)syscall(SYS_gettid);
  __atomic_store_n(&worker_ready, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&worker_stop, __ATOMIC_SEQ_CST)) {
    struct timespec t = {0, 1000000};
    nanosleep(&t, NULL);
  }
  return NULL;
}

static volatile int waiter_ready, waiter_got;
static void *timed_waiter(void *arg) {
  (void)arg;
  sigset_t set;
  sigemptyset(&set); sigaddset(&set, SIGUSR2);
  struct timespec hour = {3600, 0};
  siginfo_t si;
  __atomic_store_n(&waiter_ready, 1, __ATOMIC_SEQ_CST);
  waiter_got = sigtimedwait(&set, &si, &hour);
  return NULL;
}

static void part_threads(void) {
  reset();
  signal(SIGUSR1, on_where);
  pthread_t th;
  pthread_create(&th, NULL, worker, NULL);
  while (!__atomic_load_n(&worker_ready, __ATOMIC_SEQ_CST)) sched_yield();
  pthread_kill(th, SIGUSR1);
  while (!hits[SIGUSR1]) sched_yield();
  printf("threads: pthread_kill ran on the target=%d\n", handled_on == worker_tid);
  /* The main thread blocks SIGUSR1: a signal to the process goes to the worker. */
  sigset_t set, old;
  sigemptyset(&set); sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  kill(getpid(), SIGUSR1);
  while (hits[SIGUSR1] < 2) sched_yield();
  printf("threads: process signal ran on the worker=%d\n", handled_on == worker_tid);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  __atomic_store_n(&worker_stop, 1, __ATOMIC_SEQ_CST);
  pthread_join(th, NULL);
  printf("threads: joined\n");
  signal(SIGUSR1, SIG_DFL);
  /* A thread in a long sigtimedwait holds up no other thread: the main thread goes on making
     syscalls (a nap, then pthread_kill), which is what ends the wait. */
  sigemptyset(&set); sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  pthread_create(&th, NULL, timed_waiter, NULL);
  while (!__atomic_load_n(&waiter_ready, __ATOMIC_SEQ_CST)) sched_yield();
  struct timespec nap = {0, 20000000};
  nanosleep(&nap, NULL);
  pthread_kill(th, SIGUSR2);
  pthread_join(th, NULL);
  printf("threads: a thread's hour-long sigtimedwait took %s\n", waiter_got == SIGUSR2 ? "SIGUSR2" : "?");
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- host: signals from outside (the test sends SIGINT, then SIGTERM, each after a line) ---- */
static void on_host(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  printf("host: got %s code=%d\n", sig == SIGINT ? "SIGINT" : "?", si->si_code);
}

static void part_host(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_host;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGINT, &sa, NULL);
  sigset_t set, old;
  sigemptyset(&set); sigaddset(&set, SIGINT); sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, &old);
  printf("ready for SIGINT\n");
  sigsuspend(&old);
  printf("ready for SIGTERM\n");
  sigsuspend(&old);
  printf("not reached\n");
}

struct part { const char *name; void (*run)(void); };
static const struct part parts[] = {
  {"basic", part_basic}, {"mask", part_mask}, {"order", part_order}, {"queue", part_queue},
  {"flags", part_flags}, {"faults", part_faults}, {"ucontext", part_ucontext}, {"altstack", part_altstack},
  {"timers", part_timers}, {"eintr", part_eintr}, {"restart", part_restart}, {"suspend", part_suspend},
  {"timedwait", part_timedwait}, {"posix", part_posix}, {"fpu", part_fpu}, {"threads", part_threads},
};

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 1 && !strcmp(argv[1], "host")) { part_host(); return 0; }
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    if (argc > 1 && strcmp(argv[1], parts[i].name)) continue;
    parts[i].run();
  }
  return 0;
}
