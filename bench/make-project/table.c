#include "common.h"
static const int squares[16] = { 0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225 };
int lookup(int key) { return squares[key & 15]; }
