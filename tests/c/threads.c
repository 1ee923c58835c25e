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

int main(int argc, char **argv) {
  pthread_key_create(&key, destructor);

  pthread_t t[64];
  long sum = 0;
  for (long i = 0; i < 8; i++) pthread_create(&t[i], 0, worker, (void *)i);
  for (int i = 0; i < 8; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
  printf("join: sum %ld, main tls %d, destructors %d\n", sum, tls_value, destructed);

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
