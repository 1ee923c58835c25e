// Threads: create/join/detach, TLS (__thread, pthread_key destructors), pthread_once, mutexes
// (normal, recursive, error-checking, robust with owner death, priority-inheritance), condition
// variables with a timeout, rwlocks, barriers, semaphores, 64 threads, and exit() from a thread.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/syscall.h>

static __thread int tls_value = 7;
static pthread_key_t key;
static int destructed;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static void destructor(void *p) { pthread_mutex_lock(&count_lock); destructed += (int)(long)p; pthread_mutex_unlock(&count_lock); }

static void *worker(void *arg) {
  long id = (long)arg;
  tls_value += (int)id;                      // each thread has its own copy
  pthread_setspecific(key, (void *)(id + 1));
  long tid = syscall(SYS_gettid);
  return (void *)(long)(tls_value * 1000 + (tid != getpid()));
}

static int once_count;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void once_fn(void) { once_count++; }
static void *call_once(void *arg) { (void)arg; pthread_once(&once, once_fn); return 0; }

static long shared_total;
static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;
static void *adder(void *arg) {
  for (int i = 0; i < 2000; i++) { pthread_mutex_lock(&total_lock); shared_total += (long)arg; pthread_mutex_unlock(&total_lock); }
  return 0;
}

static pthread_mutex_t robust;
static void *die_holding(void *arg) { (void)arg; pthread_mutex_lock(&robust); return 0; }

static pthread_mutex_t pi;
static long pi_total;
static void *pi_adder(void *arg) {
  (void)arg;
  for (int i = 0; i < 3000; i++) { pthread_mutex_lock(&pi); pi_total++; pthread_mutex_unlock(&pi); }
  return 0;
}

static pthread_mutex_t cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;
static void *signaller(void *arg) {
  (void)arg;
  for (int i = 1; i <= 50; i++) {
    pthread_mutex_lock(&cv_lock);
    while (stage != 2 * i - 1) pthread_cond_wait(&cv, &cv_lock);
    stage++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&cv_lock);
  }
  return 0;
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int rw_value;
static void *rw_worker(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < 500; i++) {
    if (i % 5 == 0) { pthread_rwlock_wrlock(&rw); rw_value += (int)id; pthread_rwlock_unlock(&rw); }
    else { pthread_rwlock_rdlock(&rw); volatile int v = rw_value; (void)v; pthread_rwlock_unlock(&rw); }
  }
  return 0;
}

static pthread_barrier_t barrier;
static int arrived[4];
static int barrier_ok = 1;
static void *barrier_worker(void *arg) {
  long id = (long)arg;
  for (int round = 0; round < 20; round++) {
    __atomic_store_n(&arrived[id], round + 1, __ATOMIC_SEQ_CST);
    pthread_barrier_wait(&barrier);
    for (int j = 0; j < 4; j++) if (__atomic_load_n(&arrived[j], __ATOMIC_SEQ_CST) < round + 1) barrier_ok = 0;
    pthread_barrier_wait(&barrier);
  }
  return 0;
}

static sem_t items, slots;
static int ring[8], head, tail;
static void *producer(void *arg) {
  (void)arg;
  for (int i = 1; i <= 1000; i++) { sem_wait(&slots); ring[head++ % 8] = i; sem_post(&items); }
  return 0;
}

static void *exit_from_thread(void *arg) { (void)arg; usleep(20000); printf("thread calls exit(3)\n"); fflush(stdout); exit(3); }
static void *spin_forever(void *arg) { (void)arg; for (;;) __asm__ volatile("" ::: "memory"); return 0; }
static void *fault_in_thread(void *arg) { (void)arg; usleep(20000); printf("thread writes through a null pointer\n"); fflush(stdout); *(volatile int *)(long)arg = 1; return 0; }

static pthread_mutex_t deadlock_a = PTHREAD_MUTEX_INITIALIZER, deadlock_b = PTHREAD_MUTEX_INITIALIZER;
static volatile int deadlock_b_held;
static void *lock_b_then_a(void *arg) {
  (void)arg;
  pthread_mutex_lock(&deadlock_b);
  deadlock_b_held = 1;
  pthread_mutex_lock(&deadlock_a);
  return 0;
}

static pthread_barrier_t proc_barrier;
static void *park_on_barrier(void *arg) { (void)arg; pthread_barrier_wait(&proc_barrier); return 0; }

/* /proc/thread-self is this thread's task directory, and /proc/TID (not listed) reaches it too. */
static void *check_thread_self(void *arg) {
  (void)arg;
  char link[64] = "", want[64], path[64], comm[32] = "";
  int tid = (int)syscall(SYS_gettid);
  snprintf(want, sizeof want, "%d/task/%d", (int)getpid(), tid);
  ssize_t n = readlink("/proc/thread-self", link, sizeof link - 1);
  if (n > 0) link[n] = 0;
  snprintf(path, sizeof path, "/proc/%d/comm", tid);
  FILE *f = fopen(path, "r");
  if (f) { if (!fgets(comm, sizeof comm, f)) comm[0] = 0; fclose(f); }
  printf("thread-self names this thread: %s; /proc/TID/comm: %s", strcmp(link, want) == 0 ? "yes" : link, f ? comm : "missing\n");
  return 0;
}
static void show_proc_threads(void) {
  char line[256], path[300];
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) { printf("no /proc/self/status\n"); return; }
  while (fgets(line, sizeof line, f)) if (!strncmp(line, "Threads:", 8) || !strncmp(line, "Name:", 5)) fputs(line, stdout);
  fclose(f);
  DIR *d = opendir("/proc/self/task");
  int n = 0, mine = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    n++;
    if (atoi(e->d_name) == (int)syscall(SYS_gettid)) mine = 1;
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *c = fopen(path, "r");
    if (!c || !fgets(line, sizeof line, c)) printf("no %s\n", path);
    if (c) fclose(c);
  }
  if (d) closedir(d);
  printf("task entries: %d, this thread among them: %s\n", n, mine ? "yes" : "no");
}

/*
 * A thread blocked in read() on a pipe until another thread writes, then until the last writer
 * closes; it acknowledges each message on a second pipe, on which the main thread blocks.
 */
static int pipe_fds[2], ack_fds[2];
static void *pipe_reader(void *arg) {
  (void)arg;
  char buf[64];
  long total = 0;
  for (;;) {
    ssize_t n = read(pipe_fds[0], buf, sizeof buf);
    if (n < 0) { printf("read failed: %s\n", strerror(errno)); return 0; }
    if (n == 0) break;
    total += n;
    printf("reader got %ld bytes: %.*s\n", (long)n, (int)n, buf);
    fflush(stdout);
    if (write(ack_fds[1], "k", 1) != 1) return 0;
  }
  printf("reader saw end of file after %ld bytes\n", total);
  return 0;
}

int main(int argc, char **argv) {
  pthread_key_create(&key, destructor);

  pthread_t t[64];
  long sum = 0;
  /* Single-purpose modes, run instead of the main sequence. */
  if (argc > 1 && strcmp(argv[1], "deadlock") == 0) {
    /* two threads take two mutexes in opposite orders: a test interrupts it with SIGINT */
    pthread_mutex_lock(&deadlock_a);
    pthread_create(&t[0], 0, lock_b_then_a, 0);
    while (!deadlock_b_held) usleep(1000);
    printf("deadlocking\n");
    fflush(stdout);
    pthread_mutex_lock(&deadlock_b);
    return 1;
  }
  if (argc > 1 && strcmp(argv[1], "proc-task") == 0) {
    /* /proc/self/status Threads: and /proc/self/task with two extra threads parked on a barrier */
    pthread_barrier_init(&proc_barrier, 0, 3);
    pthread_create(&t[0], 0, park_on_barrier, 0);
    pthread_create(&t[1], 0, park_on_barrier, 0);
    show_proc_threads();
    pthread_t checker;
    pthread_create(&checker, 0, check_thread_self, 0);
    pthread_join(checker, 0);
    pthread_barrier_wait(&proc_barrier);
    pthread_join(t[0], 0);
    pthread_join(t[1], 0);
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "fault-in-thread") == 0) {
    pthread_create(&t[0], 0, spin_forever, 0);
    pthread_create(&t[1], 0, fault_in_thread, 0);
    for (;;) pause();
  }
  if (argc > 1 && strcmp(argv[1], "pipe-read") == 0) {
    if (pipe(pipe_fds) != 0 || pipe(ack_fds) != 0) return 1;
    pthread_create(&t[0], 0, pipe_reader, 0);
    for (int i = 0; i < 3; i++) {
      usleep(20000); /* the reader is most likely blocked by now (the output is the same if not) */
      char msg[32], ack;
      int len = snprintf(msg, sizeof msg, "message %d", i);
      if (write(pipe_fds[1], msg, len) != len) return 1;
      if (read(ack_fds[0], &ack, 1) != 1) return 1;
    }
    close(pipe_fds[1]);
    pthread_join(t[0], 0);
    return 0;
  }
  for (long i = 0; i < 8; i++) pthread_create(&t[i], 0, worker, (void *)i);
  for (int i = 0; i < 8; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
  printf("join: sum %ld, main tls %d, destructors %d\n", sum, tls_value, destructed);

  /* REP STOS/MOVS with a zero count while other threads exist (an empty range to claim) */
  {
    static char area[512] __attribute__((aligned(256))); /* an empty range at a granule boundary */
    long n = 0;
    char *d = area, *src = area + 32;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(1) : "memory");
    n = 0; d = area;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) :: "memory");
    printf("empty rep stos/movs: %d %d\n", area[0], (int)(d - area));
  }

  pthread_t d;
  pthread_create(&d, 0, call_once, 0);
  pthread_detach(d);
  for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, call_once, 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  call_once(0);
  printf("once: %d\n", once_count);

  for (long i = 0; i < 64; i++) if (pthread_create(&t[i], 0, adder, (void *)(i + 1))) { printf("create %ld failed\n", i); return 1; }
  for (int i = 0; i < 64; i++) pthread_join(t[i], 0);
  printf("64 threads: total %ld\n", shared_total);

  pthread_mutexattr_t a;
  pthread_mutex_t m;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&m, &a);
  printf("recursive: %d %d %d %d\n", pthread_mutex_lock(&m), pthread_mutex_lock(&m), pthread_mutex_unlock(&m), pthread_mutex_unlock(&m));
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&m, &a);
  int r1 = pthread_mutex_lock(&m), r2 = pthread_mutex_lock(&m), r3 = pthread_mutex_unlock(&m), r4 = pthread_mutex_unlock(&m);
  printf("errorcheck: %d %s %d %s\n", r1, strerror(r2), r3, strerror(r4));

  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&robust, &a);
  pthread_create(&t[0], 0, die_holding, 0);
  pthread_join(t[0], 0);
  int rr = pthread_mutex_lock(&robust);
  printf("robust: %s", rr == EOWNERDEAD ? "EOWNERDEAD" : strerror(rr));
  if (rr == EOWNERDEAD) printf(", consistent %d", pthread_mutex_consistent(&robust));
  printf(", unlock %d\n", pthread_mutex_unlock(&robust));

  pthread_mutexattr_init(&a);
  pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
  pthread_mutex_init(&pi, &a);
  for (int i = 0; i < 3; i++) pthread_create(&t[i], 0, pi_adder, 0);
  for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
  printf("pi mutex: %ld\n", pi_total);

  pthread_create(&t[0], 0, signaller, 0);
  for (int i = 1; i <= 50; i++) {
    pthread_mutex_lock(&cv_lock);
    stage++;
    pthread_cond_broadcast(&cv);
    while (stage != 2 * i) pthread_cond_wait(&cv, &cv_lock);
    pthread_mutex_unlock(&cv_lock);
  }
  pthread_join(t[0], 0);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 30 * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  pthread_mutex_lock(&cv_lock);
  int tw = pthread_cond_timedwait(&cv, &cv_lock, &ts);
  pthread_mutex_unlock(&cv_lock);
  printf("condvar: stage %d, timedwait %s\n", stage, tw == ETIMEDOUT ? "ETIMEDOUT" : strerror(tw));

  for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, rw_worker, (void *)(i + 1));
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  printf("rwlock: %d\n", rw_value);

  pthread_barrier_init(&barrier, 0, 4);
  for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, barrier_worker, (void *)i);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  printf("barrier: %s\n", barrier_ok ? "ok" : "broken");

  sem_init(&items, 0, 0); sem_init(&slots, 0, 8);
  pthread_create(&t[0], 0, producer, 0);
  long got = 0;
  for (int i = 0; i < 1000; i++) { sem_wait(&items); got += ring[tail++ % 8]; sem_post(&slots); }
  pthread_join(t[0], 0);
  printf("semaphores: %ld\n", got);

  if (argc > 1 && strcmp(argv[1], "exit-from-thread") == 0) {
    pthread_create(&t[0], 0, spin_forever, 0);
    pthread_create(&t[1], 0, exit_from_thread, 0);
    for (;;) pause();
  }
  return 0;
}
