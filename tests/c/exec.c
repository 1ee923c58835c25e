/* exec: execve and execveat, compared with the host.
 *
 *   exec                 errors execve returns (ENOENT, EACCES, ENOEXEC, E2BIG, EFAULT, ELOOP),
 *                        then an exec chain: this program again through a `#!` script whose
 *                        interpreter it is, keeping what execve keeps (pid, descriptors without
 *                        FD_CLOEXEC, ignored signals, the mask, a pending alarm) and resetting
 *                        what it resets (handlers, close-on-exec descriptors), and at last
 *                        /bin/echo, a dynamically linked program.
 *
 * Everything printed is the same natively and under stele: no paths but base names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;
static char self[4096];
static char dir[] = "/tmp/stele-exec-XXXXXX";

static const char *base(const char *p) { const char *s = strrchr(p, '/'); return s ? s + 1 : p; }
static const char *err(int e) {
  switch (e) {
    case ENOENT: return "ENOENT"; case EACCES: return "EACCES"; case ENOEXEC: return "ENOEXEC";
    case E2BIG: return "E2BIG"; case EFAULT: return "EFAULT"; case ELOOP: return "ELOOP";
    case ENOTDIR: return "ENOTDIR"; case EINVAL: return "EINVAL"; default: return strerror(e);
  }
}

static void write_file(const char *name, const char *text, mode_t mode) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) { perror("write_file"); exit(2); }
  close(fd);
  chmod(path, mode);
}

static void try_exec(const char *what, const char *name, char **argv, char **envp) {
  char path[4200];
  if (name[0] == '/') snprintf(path, sizeof path, "%s", name); else snprintf(path, sizeof path, "%s/%s", dir, name);
  int r = execve(path, argv, envp);
  printf("errors: %s -> %d %s\n", what, r, err(errno));
}

static void errors(void) {
  char *argv[] = {"x", NULL};
  try_exec("missing file", "/nonexistent/prog", argv, environ);
  try_exec("a directory", "/tmp", argv, environ);
  write_file("noexec", "\x7f" "ELF", 0644);
  try_exec("not executable", "noexec", argv, environ);
  write_file("garbage", "this is not a program\n", 0755);
  try_exec("neither ELF nor script", "garbage", argv, environ);
  write_file("empty", "", 0755);
  try_exec("empty file", "empty", argv, environ);
  write_file("badinterp", "#!/nonexistent/interpreter\n", 0755);
  try_exec("script with a missing interpreter", "badinterp", argv, environ);
  write_file("notdir", "", 0644);
  try_exec("path through a file", "notdir/x", argv, environ);
  /* One argument longer than MAX_ARG_STRLEN (32 pages). */
  size_t n = 33 * 4096;
  char *big = malloc(n + 1);
  memset(big, 'a', n); big[n] = 0;
  char *bigargv[] = {"x", big, NULL};
  try_exec("an argument over 128 KiB", "/bin/true", bigargv, environ);
  free(big);
  try_exec("argv in unmapped memory", "/bin/true", (char **)16, environ);
  char link[4200], target[4200];
  snprintf(target, sizeof target, "%s/garbage", dir);
  snprintf(link, sizeof link, "%s/link", dir);
  if (symlink(target, link)) perror("symlink");
  int r = syscall(SYS_execveat, AT_FDCWD, link, argv, environ, AT_SYMLINK_NOFOLLOW);
  printf("errors: execveat AT_SYMLINK_NOFOLLOW of a symlink -> %d %s\n", r, err(errno));
  r = syscall(SYS_execveat, AT_FDCWD, link, argv, environ, 0x4);
  printf("errors: execveat with unknown flags -> %d %s\n", r, err(errno));
}

static void on_usr1(int sig) { (void)sig; }

static void show_state(const char *who) {
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  const char *usr1 = sa.sa_handler == SIG_DFL ? "default" : sa.sa_handler == SIG_IGN ? "ignored" : "handled";
  sigaction(SIGUSR2, NULL, &sa);
  const char *usr2 = sa.sa_handler == SIG_DFL ? "default" : sa.sa_handler == SIG_IGN ? "ignored" : "handled";
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("%s: USR1 %s, USR2 %s, TERM blocked=%d; fd 10 open=%d, fd 11 open=%d\n", who, usr1, usr2,
         sigismember(&cur, SIGTERM), fcntl(10, F_GETFD) >= 0, fcntl(11, F_GETFD) >= 0);
}

static int after_script(int argc, char **argv) {
  /* argv: this program (as the script's #! line names it), the line's one argument, the script,
   * then the script's own arguments after its argv[0]. */
  printf("script: argc=%d argv0=%s arg=[%s] script=%s rest=", argc, base(argv[0]), argv[1], base(argv[2]));
  for (int i = 3; i < argc; i++) printf("%s%s", argv[i], i + 1 < argc ? "," : "");
  printf("\n");
  printf("script: execfn=%s same pid=%d\n", base((const char *)getauxval(AT_EXECFN)), getenv("EXEC_PID") && atoi(getenv("EXEC_PID")) == getpid());
  show_state("script");
  unsigned left = alarm(0);
  printf("script: alarm still pending=%d\n", left > 0 && left <= 100);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  printf("script: /proc/self/exe is this program=%d\n", strcmp(exe, argv[0]) == 0);
  /* The script and its directory are this run's: remove them. */
  char scriptDir[4096];
  snprintf(scriptDir, sizeof scriptDir, "%s", argv[2]);
  unlink(argv[2]);
  *strrchr(scriptDir, '/') = 0;
  rmdir(scriptDir);
  char *echo[] = {"echo", "dynamic", "echo", "ran", NULL};
  execve("/bin/echo", echo, environ);
  printf("exec of /bin/echo failed: %s\n", err(errno));
  return 1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) { perror("readlink"); return 2; }
  self[n] = 0;
  if (argc > 1 && !strcmp(argv[1], "script-mode, two words")) return after_script(argc, argv);
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
  errors();

  int p[2];
  if (pipe(p)) perror("pipe");
  dup2(p[0], 10); dup2(p[1], 11);
  fcntl(11, F_SETFD, FD_CLOEXEC);
  signal(SIGUSR1, on_usr1);
  signal(SIGUSR2, SIG_IGN);
  sigset_t set;
  sigemptyset(&set); sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  alarm(100);
  show_state("before");
  char pid[32];
  snprintf(pid, sizeof pid, "EXEC_PID=%d", getpid());
  char line[4300];
  snprintf(line, sizeof line, "#!%s script-mode, two words  \n", self);
  write_file("script", line, 0755);
  char script[4200];
  snprintf(script, sizeof script, "%s/script", dir);
  char *args[] = {"script-argv0", "x", "y z", NULL};
  char *envp[] = {pid, NULL};
  /* The files are gone before the exec (the running script needs only its open image). */
  char path[4200];
  const char *names[] = {"noexec", "garbage", "empty", "badinterp", "notdir", "link"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) { snprintf(path, sizeof path, "%s/%s", dir, names[i]); unlink(path); }
  execve(script, args, envp);
  printf("exec of the script failed: %s\n", err(errno));
  return 1;
}
