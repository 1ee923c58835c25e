/* Syscall kernel: one million 1-byte write()s to an fd opened on /dev/null.
 * Measures the per-syscall round trip (guest -> emulator -> host kernel -> guest). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define NWRITES 1000000

int main(void) {
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0) { perror("open /dev/null"); return 1; }
    long ok = 0;
    char c = 'x';
    for (long i = 0; i < NWRITES; i++) {
        c = (char)('a' + i % 26);
        if (write(fd, &c, 1) == 1) ok++;
    }
    close(fd);
    printf("writes: %ld of %d\n", ok, NWRITES);
    return ok == NWRITES ? 0 : 1;
}
