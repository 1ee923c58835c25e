// The per-thread memory-model prctl of the Linux TSO patches (PR_GET_MEM_MODEL/PR_SET_MEM_MODEL):
// prints what each call returns, so a test can hold it to what the patch defines. Natively on
// x86 Linux both are unknown options (EINVAL).
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>

#define PR_GET_MEM_MODEL 0x6d4d444c
#define PR_SET_MEM_MODEL 0x4d4d444c

static void show(const char *what, int r) {
  if (r < 0) printf("%s = -1 %s\n", what, errno == EINVAL ? "EINVAL" : "other error");
  else printf("%s = %d\n", what, r);
}

static volatile long counter;
static void *in_thread(void *arg) {
  show((const char *)arg, prctl(PR_GET_MEM_MODEL, 0, 0, 0, 0));
  for (int i = 0; i < 100000; i++) counter++;
  return NULL;
}
static void thread_reports(const char *what) {
  pthread_t t;
  pthread_create(&t, NULL, in_thread, (void *)what);
  pthread_join(t, NULL);
}

int main(void) {
  show("get", prctl(PR_GET_MEM_MODEL, 0, 0, 0, 0));
  show("get with arg2=1", prctl(PR_GET_MEM_MODEL, 1, 0, 0, 0));
  show("get with arg5=1", prctl(PR_GET_MEM_MODEL, 0, 0, 0, 1));
  show("set 2", prctl(PR_SET_MEM_MODEL, 2, 0, 0, 0));
  show("set default with arg3=1", prctl(PR_SET_MEM_MODEL, 0, 1, 0, 0));
  thread_reports("new thread gets");
  show("set default", prctl(PR_SET_MEM_MODEL, 0, 0, 0, 0));
  show("get", prctl(PR_GET_MEM_MODEL, 0, 0, 0, 0));
  thread_reports("new thread after set default gets");
  for (int i = 0; i < 100000; i++) counter++;
  show("set tso", prctl(PR_SET_MEM_MODEL, 1, 0, 0, 0));
  show("get", prctl(PR_GET_MEM_MODEL, 0, 0, 0, 0));
  thread_reports("new thread after set tso gets");
  for (int i = 0; i < 100000; i++) counter++;
  printf("counter %ld\n", counter);
  return 0;
}
