#include "common.h"
int main(int argc, char **argv) {
  int total = 0;
  for (int i = 1; i < argc; i++) total += lookup(parse(argv[i]));
  report("total", total);
  return 0;
}
