/* How rtos_pingpong ends. The MT3620 builds run the ping-pong for ever: the check after each round trip is empty
 * (no code, their ELF unchanged). A build with PINGPONG_ROUND_TRIPS=N (rtos_pingpong_qemu, firmware/rtos_qemu/,
 * which scripts/bench times on qemu-system-arm) stops when ping has done N round trips: pingpong_stop() in main.c
 * prints the counts and calls halt(), which on that board is a semihosting exit. */
#ifndef RTOS_PINGPONG_STOP_H
#define RTOS_PINGPONG_STOP_H

#ifdef PINGPONG_ROUND_TRIPS
static _Noreturn void pingpong_stop(void);
#define PINGPONG_AFTER_ROUND_TRIP(trips)                                                                            \
    do {                                                                                                            \
        if ((trips) == (PINGPONG_ROUND_TRIPS)) {                                                                    \
            pingpong_stop();                                                                                        \
        }                                                                                                           \
    } while (0)
#else
#define PINGPONG_AFTER_ROUND_TRIP(trips) do { } while (0)
#endif

#endif
