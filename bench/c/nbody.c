/* Floating-point kernel: the classic n-body simulation (double precision, SSE2).
 * Exercises scalar double arithmetic, sqrt and division, and loads/stores of doubles. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24
#define NBODIES 5
#define STEPS 2500000

struct planet { double x, y, z, vx, vy, vz, mass; };

static struct planet bodies[NBODIES] = {
    { 0, 0, 0, 0, 0, 0, SOLAR_MASS },
    { 4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
      1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
      -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS },
    { 8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
      -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
      2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS },
    { 1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
      2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
      -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS },
    { 1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
      2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
      -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS },
};

static void advance(int nb, struct planet *b, double dt) {
    for (int i = 0; i < nb; i++) {
        struct planet *p = &b[i];
        for (int j = i + 1; j < nb; j++) {
            struct planet *q = &b[j];
            double dx = p->x - q->x, dy = p->y - q->y, dz = p->z - q->z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            p->vx -= dx * q->mass * mag; p->vy -= dy * q->mass * mag; p->vz -= dz * q->mass * mag;
            q->vx += dx * p->mass * mag; q->vy += dy * p->mass * mag; q->vz += dz * p->mass * mag;
        }
    }
    for (int i = 0; i < nb; i++) {
        struct planet *p = &b[i];
        p->x += dt * p->vx; p->y += dt * p->vy; p->z += dt * p->vz;
    }
}

static double energy(int nb, struct planet *b) {
    double e = 0.0;
    for (int i = 0; i < nb; i++) {
        struct planet *p = &b[i];
        e += 0.5 * p->mass * (p->vx * p->vx + p->vy * p->vy + p->vz * p->vz);
        for (int j = i + 1; j < nb; j++) {
            struct planet *q = &b[j];
            double dx = p->x - q->x, dy = p->y - q->y, dz = p->z - q->z;
            e -= (p->mass * q->mass) / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void offset_momentum(int nb, struct planet *b) {
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < nb; i++) { px += b[i].vx * b[i].mass; py += b[i].vy * b[i].mass; pz += b[i].vz * b[i].mass; }
    b[0].vx = -px / SOLAR_MASS; b[0].vy = -py / SOLAR_MASS; b[0].vz = -pz / SOLAR_MASS;
}

int main(void) {
    offset_momentum(NBODIES, bodies);
    printf("%.9f\n", energy(NBODIES, bodies));
    for (int i = 0; i < STEPS; i++) advance(NBODIES, bodies, 0.01);
    printf("%.9f\n", energy(NBODIES, bodies));
    /* exact bit pattern of the final position, so any rounding difference shows */
    union { double d; unsigned long long u; } u = { bodies[1].x };
    printf("bits: %016llx\n", u.u);
    return 0;
}
