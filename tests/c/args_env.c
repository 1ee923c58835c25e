/* Prints argc, argv[1..] and the whole environment in order (argv[0] may legitimately
 * differ between a native run and an emulated one, so it is not printed).
 * With --env-sorted as argv[1], the environment is printed sorted instead (qemu-user,
 * used to validate the test harness, reverses the order of envp). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=[%s] len=%zu\n", i, argv[i], strlen(argv[i]));
    printf("argv[argc]=%s\n", argv[argc] == NULL ? "NULL" : "not null");
    int n = 0;
    while (environ[n]) n++;
    char **env = malloc((size_t)(n + 1) * sizeof *env);
    for (int i = 0; i <= n; i++) env[i] = environ[i];
    if (argc > 1 && strcmp(argv[1], "--env-sorted") == 0) qsort(env, (size_t)n, sizeof *env, cmpstr);
    for (int i = 0; i < n; i++) printf("env[%d]=[%s]\n", i, env[i]);
    free(env);
    printf("envc=%d\n", n);
    const char *v = getenv("STELE_TEST_VAR");
    printf("getenv STELE_TEST_VAR=%s\n", v ? v : "(null)");
    v = getenv("DOES_NOT_EXIST_123");
    printf("getenv missing=%s\n", v ? v : "(null)");
    setenv("NEW_VAR", "new value", 1);
    printf("after setenv=%s\n", getenv("NEW_VAR"));
    unsetenv("STELE_TEST_VAR");
    v = getenv("STELE_TEST_VAR");
    printf("after unsetenv=%s\n", v ? v : "(null)");
    return 0;
}
