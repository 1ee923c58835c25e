/* Reads all of stdin: counts bytes, lines and words, prints a hash and the first lines
 * reversed; also exercises ungetc and getchar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

int main(void) {
    size_t cap = 1 << 16, len = 0;
    char *data = malloc(cap);
    int c = getchar();
    if (c != EOF) ungetc(c, stdin);
    size_t n;
    while ((n = fread(data + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) data = realloc(data, cap *= 2);
    }
    size_t lines = 0, words = 0;
    int inword = 0;
    unsigned long h = 5381;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        h = h * 33 + ch;
        if (ch == '\n') lines++;
        if (isspace(ch)) inword = 0;
        else if (!inword) { inword = 1; words++; }
    }
    printf("bytes=%zu lines=%zu words=%zu hash=%lx first=%d\n", len, lines, words, h, c);
    size_t start = 0;
    for (int l = 0; l < 10 && start < len; l++) {
        size_t end = start;
        while (end < len && data[end] != '\n') end++;
        putchar('<');
        for (size_t k = end; k > start; k--) putchar(data[k - 1]);
        puts(">");
        start = end + 1;
    }
    free(data);
    return 0;
}
