/* The turn gate of paired windows (turn_gate.c). */
#ifndef MT3620_TURN_GATE_H
#define MT3620_TURN_GATE_H
#include <stdint.h>

typedef struct {
    int32_t closed;       /* 1: io0's turn is on; io1 waits at its first access to shared memory */
    int32_t pad;
    uint64_t waits;       /* accesses that waited (statistics) */
} turn_gate_t;

void gate_wait(turn_gate_t *g);
#endif
