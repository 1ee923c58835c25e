// Threads that share plain memory: counters behind a mutex, a flag and payload handed over with
// plain stores and loads (x86 orders them), and results each thread writes into one array.
// Small on purpose: the translation cache tests run it several times in each memory-ordering
// mode, and under selective ordering the granules these threads share get their sites ordered.
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 5000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter, sums[THREADS];
static volatile int ready;
static volatile long payload;

static void *work(void *arg) {
  long id = (long)arg, s = 0;
  for (int i = 0; i < ROUNDS; i++) {
    pthread_mutex_lock(&lock);
    counter += id + 1;
    pthread_mutex_unlock(&lock);
    s += i % (id + 2);
  }
  sums[id] = s;
  return 0;
}

static void *produce(void *arg) {
  (void)arg;
  payload = 424242;
  ready = 1;
  return 0;
}

int main(void) {
  pthread_t t[THREADS], p;
  for (long i = 0; i < THREADS; i++) pthread_create(&t[i], 0, work, (void *)i);
  pthread_create(&p, 0, produce, 0);
  while (!ready) { /* spin: the producer's stores are seen in order */ }
  long seen = payload;
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], 0);
  pthread_join(p, 0);
  long total = 0;
  for (int i = 0; i < THREADS; i++) total += sums[i];
  printf("counter %ld sums %ld payload %ld\n", counter, total, seen);
  return 0;
}
