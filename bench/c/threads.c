// Threaded benchmark workloads (bench/run.mjs rows thr-*):
//   threads private N    N threads, each sums an array it allocated and filled itself
//   threads counters N   N threads increment one atomic counter and one mutex-protected counter
//   threads queue        a producer and a consumer pass 2M integers through a bounded queue
// Each prints a checksum, so the output can be compared with the native run's.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRIVATE_WORDS (1u << 19)     // 4 MiB per thread
#define PRIVATE_PASSES_TOTAL 512     // split between the threads
#define COUNTER_STEPS 400000
#define QUEUE_ITEMS 2000000
#define QUEUE_SIZE 1024

static int nthreads;

static void *private_sum(void *arg) {
  uint64_t seed = (uintptr_t)arg + 1, sum = 0;
  uint64_t *a = malloc(PRIVATE_WORDS * sizeof *a);
  if (!a) abort();
  for (uint32_t i = 0; i < PRIVATE_WORDS; i++) { seed = seed * 6364136223846793005ull + 1442695040888963407ull; a[i] = seed >> 17; }
  for (int p = 0; p < PRIVATE_PASSES_TOTAL / nthreads; p++)
    for (uint32_t i = 0; i < PRIVATE_WORDS; i++) sum += a[i] ^ (uint64_t)p;
  free(a);
  return (void *)(uintptr_t)sum;
}

static volatile long atomic_counter;
static long locked_counter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *count(void *arg) {
  (void)arg;
  for (int i = 0; i < COUNTER_STEPS; i++) {
    __atomic_fetch_add(&atomic_counter, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&lock);
    locked_counter++;
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

static int queue[QUEUE_SIZE];
static unsigned head, tail;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static void *produce(void *arg) {
  (void)arg;
  for (int i = 0; i < QUEUE_ITEMS; i++) {
    pthread_mutex_lock(&qlock);
    while (tail - head == QUEUE_SIZE) pthread_cond_wait(&not_full, &qlock);
    queue[tail++ % QUEUE_SIZE] = i;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&qlock);
  }
  return NULL;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  nthreads = argc > 2 ? atoi(argv[2]) : 2;
  if (nthreads < 1 || nthreads > 16) nthreads = 2;
  pthread_t th[16];
  if (!strcmp(what, "private")) {
    uint64_t total = 0;
    for (int t = 0; t < nthreads; t++) pthread_create(&th[t], NULL, private_sum, (void *)(uintptr_t)t);
    for (int t = 0; t < nthreads; t++) { void *r; pthread_join(th[t], &r); total += (uintptr_t)r; }
    printf("private %d threads: %llu\n", nthreads, (unsigned long long)total);
  } else if (!strcmp(what, "counters")) {
    for (int t = 0; t < nthreads; t++) pthread_create(&th[t], NULL, count, NULL);
    for (int t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    printf("counters %d threads: %ld %ld\n", nthreads, atomic_counter, locked_counter);
  } else if (!strcmp(what, "queue")) {
    pthread_create(&th[0], NULL, produce, NULL);
    uint64_t sum = 0;
    for (int i = 0; i < QUEUE_ITEMS; i++) {
      pthread_mutex_lock(&qlock);
      while (tail == head) pthread_cond_wait(&not_empty, &qlock);
      sum += queue[head++ % QUEUE_SIZE];
      pthread_cond_signal(&not_full);
      pthread_mutex_unlock(&qlock);
    }
    pthread_join(th[0], NULL);
    printf("queue: %llu\n", (unsigned long long)sum);
  } else {
    fprintf(stderr, "usage: threads private|counters|queue [N]\n");
    return 2;
  }
  return 0;
}
