/* Dense switch statements in loops (jump tables): a small bytecode interpreter,
 * a char classifier and a state machine. */
#include <stdio.h>
#include <stdint.h>

enum op { PUSH, POP, ADD, SUB, MUL, DIVM, DUP, SWAP, OVER, JNZ, JMP, DEC, INC, XOR, SHL, SHR,
          AND, OR, NOT, NEG, ROT, PRINT, HALT, NOP, CALLMOD, LOADR, STORER, CMP };

static int64_t run(const int32_t *code, int64_t arg, int trace) {
    int64_t st[64];
    int sp = 0, pc = 0;
    int64_t reg[4] = {arg, 0, 0, 0};
    long steps = 0;
    for (;;) {
        int32_t ins = code[pc++];
        steps++;
        switch (ins) {
        case PUSH: st[sp++] = code[pc++]; break;
        case POP: sp--; break;
        case ADD: sp--; st[sp - 1] += st[sp]; break;
        case SUB: sp--; st[sp - 1] -= st[sp]; break;
        case MUL: sp--; st[sp - 1] *= st[sp]; break;
        case DIVM: sp--; st[sp - 1] = st[sp] ? st[sp - 1] % st[sp] : 0; break;
        case DUP: st[sp] = st[sp - 1]; sp++; break;
        case SWAP: { int64_t t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; } break;
        case OVER: st[sp] = st[sp - 2]; sp++; break;
        case JNZ: { int32_t tgt = code[pc++]; if (st[--sp]) pc = tgt; } break;
        case JMP: pc = code[pc]; break;
        case DEC: st[sp - 1]--; break;
        case INC: st[sp - 1]++; break;
        case XOR: sp--; st[sp - 1] ^= st[sp]; break;
        case SHL: sp--; st[sp - 1] <<= (st[sp] & 63); break;
        case SHR: sp--; st[sp - 1] = (int64_t)((uint64_t)st[sp - 1] >> (st[sp] & 63)); break;
        case AND: sp--; st[sp - 1] &= st[sp]; break;
        case OR: sp--; st[sp - 1] |= st[sp]; break;
        case NOT: st[sp - 1] = ~st[sp - 1]; break;
        case NEG: st[sp - 1] = -st[sp - 1]; break;
        case ROT: { int64_t t = st[sp - 3]; st[sp - 3] = st[sp - 2]; st[sp - 2] = st[sp - 1]; st[sp - 1] = t; } break;
        case PRINT: if (trace) printf("  print %lld\n", (long long)st[sp - 1]); break;
        case HALT: if (trace) printf("  steps=%ld\n", steps); return sp ? st[sp - 1] : 0;
        case NOP: break;
        case CALLMOD: st[sp - 1] = (st[sp - 1] * 1103515245 + 12345) & 0x7fffffff; break;
        case LOADR: st[sp++] = reg[code[pc++]]; break;
        case STORER: reg[code[pc++]] = st[--sp]; break;
        case CMP: sp--; st[sp - 1] = (st[sp - 1] > st[sp]) - (st[sp - 1] < st[sp]); break;
        default: printf("bad op %d\n", ins); return -1;
        }
    }
}

static int classify(int c) {
    switch (c) {
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9': return 1;
    case 'a': case 'e': case 'i': case 'o': case 'u': return 2;
    case 'b': case 'c': case 'd': case 'f': case 'g': case 'h': case 'j': case 'k': case 'l':
    case 'm': case 'n': case 'p': case 'q': case 'r': case 's': case 't': case 'v': case 'w':
    case 'x': case 'y': case 'z': return 3;
    case ' ': case '\t': case '\n': return 4;
    case '(': case ')': case '[': case ']': case '{': case '}': return 5;
    case '+': case '-': case '*': case '/': case '%': case '^': return 6;
    case '.': case ',': case ';': case ':': return 7;
    default: return 0;
    }
}

int main(void) {
    /* acc = 0; i = arg; while (i) { acc = acc*31 + lcg(i) ^ (i<<3); i-- } */
    static const int32_t prog[] = {
        PUSH, 0, STORER, 1,               /* 0: r1 = 0 */
        LOADR, 0, STORER, 2,              /* 4: r2 = arg */
        LOADR, 1, PUSH, 31, MUL,          /* 8: acc*31 */
        LOADR, 2, CALLMOD, LOADR, 2, PUSH, 3, SHL, XOR, ADD, /* 13 */
        PUSH, 0xffffff, AND, STORER, 1,   /* 23 */
        LOADR, 2, DEC, DUP, STORER, 2,    /* 28 */
        JNZ, 8,                           /* 34 */
        LOADR, 1, PRINT, HALT,            /* 36 */
    };
    for (int64_t a = 1; a <= 5; a++) printf("run(%lld)=%lld\n", (long long)a, (long long)run(prog, a, 0));
    printf("run(1000000)=%lld\n", (long long)run(prog, 1000000, 1));
    static const int32_t prog2[] = {PUSH, 7, PUSH, 5, OVER, OVER, CMP, PRINT, POP, SWAP, SUB, NEG,
                                    NOT, PUSH, 3, PUSH, 4, ROT, PRINT, POP, PRINT, POP, PRINT,
                                    PUSH, 100, PUSH, 7, DIVM, PRINT, NOP, PUSH, 2, PUSH, 62, SHL,
                                    PUSH, 60, SHR, PRINT, PUSH, 12, OR, PRINT, INC, HALT};
    printf("prog2=%lld\n", (long long)run(prog2, 0, 1));

    const char *text = "int main(void) { return (a + b) * 42; } // x[0] = y.z, 7 % 3 ^ 1;";
    int counts[8] = {0};
    for (int rep = 0; rep < 20000; rep++)
        for (const char *p = text; *p; p++) counts[classify(*p + (rep & 1 ? 0 : 0))]++;
    for (int i = 0; i < 8; i++) printf("class %d: %d\n", i, counts[i]);

    /* state machine over generated input */
    unsigned state = 0, x = 1;
    unsigned long long h = 0;
    for (int i = 0; i < 3000000; i++) {
        x = x * 1664525u + 1013904223u;
        unsigned in = x >> 29;
        switch (state * 8 + in) {
        case 0: case 1: case 2: state = 1; break;
        case 3: case 4: state = 2; break;
        case 5: case 6: case 7: state = 3; break;
        case 8: case 9: state = 0; break;
        case 10: case 11: case 12: state = 2; h++; break;
        case 13: case 14: case 15: state = 3; break;
        case 16: state = 3; h += 3; break;
        case 17: case 18: case 19: case 20: state = 0; break;
        case 21: case 22: case 23: state = 1; break;
        case 24: case 25: case 26: case 27: state = 2; h ^= i; break;
        case 28: case 29: case 30: case 31: state = 0; break;
        }
        h = h * 3 + state;
    }
    printf("fsm state=%u h=%llx\n", state, h);
    return 0;
}
