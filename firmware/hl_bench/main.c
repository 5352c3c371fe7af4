/* Benchmark app for the A7 (scripts/bench): `crc32 ROUNDS` computes a table-driven CRC-32 over a 4 KB buffer
 * ROUNDS times (compute-bound, like the IO cores' crc32 firmware); `syscalls COUNT` makes COUNT getppid() calls
 * (the syscall round trip through the emulated kernel). Prints one Log_Debug line when done. */
#include <applibs/log.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint32_t table[256];
static uint8_t buffer[4096];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *data, size_t length, uint32_t crc)
{
    crc = ~crc;
    for (size_t i = 0; i < length; i++) {
        crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    }
    return ~crc;
}

int main(int argc, char *argv[])
{
    const char *mode = argc > 1 ? argv[1] : "crc32";
    long count = argc > 2 ? atol(argv[2]) : 256;
    Log_Debug("hl_bench: start %s %ld\n", mode, count);
    if (strcmp(mode, "syscalls") == 0) {
        long sum = 0;
        for (long i = 0; i < count; i++) {
            sum += syscall(SYS_getppid);
        }
        Log_Debug("hl_bench: done syscalls=%ld sum=%ld\n", count, sum);
        return 0;
    }
    make_table();
    for (size_t i = 0; i < sizeof buffer; i++) {
        buffer[i] = (uint8_t)(i * 7 + 3);
    }
    uint32_t crc = 0;
    for (long r = 0; r < count; r++) {
        crc = crc32(buffer, sizeof buffer, crc);
    }
    Log_Debug("hl_bench: done crc32 rounds=%ld crc=%08x\n", count, (unsigned)crc);
    return 0;
}
