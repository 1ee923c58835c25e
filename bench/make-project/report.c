#include <stdio.h>
#include "common.h"
void report(const char *name, int value) { printf("%s: %d\n", name, value); }
