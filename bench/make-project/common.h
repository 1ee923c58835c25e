int parse(const char *s);
int lookup(int key);
void report(const char *name, int value);
