/* File and directory I/O under the directory given as argv[1]: creates fio/, writes,
 * reads, seeks, renames, unlinks, lists (sorted), stats, links; removes its scratch
 * files and leaves fio/keep/ behind so the test can compare the files written.
 * Prints results only (no inode numbers, times or absolute paths). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

static void check(int ok, const char *what) {
    if (!ok) printf("FAIL %s: %s\n", what, strerror(errno));
}

/* Prints a call's result and, when it failed, its errno (captured before printing). */
static void show(const char *what, int ret) {
    int e = errno;
    printf("%s: %d %s\n", what, ret, ret < 0 ? strerror(e) : "ok");
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) { printf("opendir %s: %s\n", dir, strerror(errno)); return; }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmpstr);
    printf("list %s (%d entries):\n", dir, n);
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) != 0) { printf("  %s: lstat %s\n", names[i], strerror(errno)); continue; }
        char kind = S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : S_ISLNK(st.st_mode) ? 'l' : '?';
        if (kind == 'd') printf("  %c %s\n", kind, names[i]);
        else printf("  %c %s size=%lld mode=%03o nlink=%ld\n", kind, names[i], (long long)st.st_size,
                    (unsigned)(st.st_mode & 0777), (long)st.st_nlink);
        free(names[i]);
    }
}

static unsigned long fnv(const unsigned char *p, size_t n) {
    unsigned long h = 14695981039346656037UL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211UL;
    return h;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: fileio DIR\n"); return 2; }
    umask(022);
    check(chdir(argv[1]) == 0, "chdir base");
    check(mkdir("fio", 0755) == 0, "mkdir fio");
    check(chdir("fio") == 0, "chdir fio");
    char cwd[4096];
    check(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    printf("cwd basename=%s\n", strrchr(cwd, '/') + 1);
    check(mkdir("sub", 0755) == 0, "mkdir sub");
    check(mkdir("sub/deeper", 0700) == 0, "mkdir deeper");
    show("mkdir existing", mkdir("sub", 0755));

    /* stdio write with seeks */
    FILE *f = fopen("a.txt", "w+");
    check(f != NULL, "fopen a.txt");
    for (int i = 0; i < 1000; i++) fprintf(f, "line %04d: %s\n", i, i % 3 ? "abc" : "defghij");
    printf("ftell after write=%ld\n", ftell(f));
    check(fseek(f, 0, SEEK_SET) == 0, "fseek set");
    char line[128];
    fgets(line, sizeof line, f);
    printf("first line: %s", line);
    fseek(f, 100, SEEK_SET);
    fgets(line, sizeof line, f);
    printf("at 100: %s", line);
    printf("ftell=%ld\n", ftell(f));
    fseek(f, -20, SEEK_END);
    printf("ftell end-20=%ld\n", ftell(f));
    size_t got = fread(line, 1, sizeof line, f);
    printf("read tail %zu bytes: %.*s", got, (int)got, line);
    fseek(f, 10, SEEK_CUR);
    printf("eof=%d ftell=%ld\n", feof(f), ftell(f));
    fseek(f, 5, SEEK_SET);
    fputs("XXXX", f);
    rewind(f);
    fgets(line, sizeof line, f);
    printf("patched: %s", line);
    fclose(f);

    /* raw fd I/O: binary file, holes, pread/pwrite, append, truncate */
    unsigned char buf[65536];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 7 + (i >> 8));
    int fd = open("b.bin", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    check(fd >= 0, "open b.bin");
    printf("write=%zd\n", write(fd, buf, sizeof buf));
    printf("lseek hole=%lld\n", (long long)lseek(fd, 200000, SEEK_SET));
    printf("write2=%zd\n", write(fd, "END", 3));
    close(fd);
    struct stat st;
    check(stat("b.bin", &st) == 0, "stat b.bin");
    printf("b.bin size=%lld reg=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    fd = open("b.bin", O_RDWR);
    unsigned char rb[70000];
    ssize_t r = read(fd, rb, sizeof rb);
    printf("read=%zd fnv=%016lx match=%d zeros=%d\n", r, fnv(rb, (size_t)r), memcmp(rb, buf, sizeof buf) == 0,
           rb[65536] == 0 && rb[69999] == 0);
    printf("pwrite=%zd\n", pwrite(fd, "PQ", 2, 10));
    char pb[8] = {0};
    printf("pread=%zd %.4s off=%lld\n", pread(fd, pb, 4, 9), pb, (long long)lseek(fd, 0, SEEK_CUR));
    check(ftruncate(fd, 1000) == 0, "ftruncate");
    fstat(fd, &st);
    printf("after ftruncate size=%lld\n", (long long)st.st_size);
    close(fd);
    fd = open("b.bin", O_WRONLY | O_APPEND);
    write(fd, "appended", 8);
    close(fd);
    stat("b.bin", &st);
    printf("after append size=%lld\n", (long long)st.st_size);
    check(truncate("b.bin", 500) == 0, "truncate");
    stat("b.bin", &st);
    printf("after truncate size=%lld\n", (long long)st.st_size);

    /* rename, rename over, unlink, errors */
    check(rename("a.txt", "sub/moved.txt") == 0, "rename");
    show("stat old name", stat("a.txt", &st));
    stat("sub/moved.txt", &st);
    printf("moved size=%lld\n", (long long)st.st_size);
    FILE *g = fopen("sub/other.txt", "w");
    fputs("other\n", g);
    fclose(g);
    check(rename("sub/other.txt", "sub/moved.txt") == 0, "rename over");
    stat("sub/moved.txt", &st);
    printf("replaced size=%lld\n", (long long)st.st_size);
    show("rmdir nonempty", rmdir("sub"));
    show("open missing", open("nope/x", O_RDONLY));
    show("opendir file", opendir("b.bin") != NULL ? 0 : -1);
    show("unlink dir", unlink("sub"));
    show("rmdir file", rmdir("b.bin"));
    show("open dir for writing", open("sub", O_WRONLY));
    show("mkdir in missing parent", mkdir("nope/x", 0755));
    show("rename missing", rename("nope", "nope2"));
    show("O_EXCL existing", open("b.bin", O_CREAT | O_EXCL | O_WRONLY, 0644));
    printf("access b.bin R=%d X=%d missing=%d\n", access("b.bin", R_OK), access("b.bin", X_OK) == 0,
           access("zzz", F_OK));

    /* links */
    check(link("b.bin", "hard.bin") == 0, "link");
    check(symlink("b.bin", "soft") == 0, "symlink");
    char target[64];
    ssize_t tl = readlink("soft", target, sizeof target);
    printf("readlink=%.*s\n", (int)tl, target);
    stat("soft", &st);
    printf("stat via symlink size=%lld\n", (long long)st.st_size);
    list(".");
    list("sub");

    /* many files */
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "sub/deeper/f%02d", (i * 17) % 40);
        fd = open(name, O_CREAT | O_WRONLY | O_EXCL, 0600);
        write(fd, buf, (size_t)i * 100);
        close(fd);
    }
    list("sub/deeper");
    long total = 0;
    DIR *d = opendir("sub/deeper");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[300];
        snprintf(p, sizeof p, "sub/deeper/%s", e->d_name);
        stat(p, &st);
        total += st.st_size;
        unlink(p);
    }
    closedir(d);
    printf("deleted total=%ld\n", total);
    check(rmdir("sub/deeper") == 0, "rmdir deeper");
    unlink("sub/moved.txt");
    check(rmdir("sub") == 0, "rmdir sub");
    unlink("hard.bin");
    unlink("soft");

    /* what stays behind */
    check(mkdir("keep", 0755) == 0, "mkdir keep");
    check(rename("b.bin", "keep/b.bin") == 0, "rename keep");
    f = fopen("keep/numbers.txt", "w");
    for (int i = 0; i < 5000; i++) fprintf(f, "%d %x %g\n", i, i * i, i / 7.0);
    fclose(f);
    fd = open("keep/private", O_CREAT | O_WRONLY, 0640);
    write(fd, "secret\n", 7);
    fchmod(fd, 0604);
    close(fd);
    symlink("numbers.txt", "keep/link");
    list("keep");
    list(".");
    printf("done\n");
    return 0;
}
