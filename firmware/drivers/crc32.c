/* Standard CRC-32 (reflected, polynomial 0xEDB88320, as zlib.crc32), table-driven, over a buffer filled from a
 * linear congruential generator. No I/O: see crc32.h. */
#include "crc32.h"

uint8_t crc32_buffer[CRC32_BUF_SIZE];
static uint32_t table[256];

void crc32_prepare(void)
{
    uint32_t x = 12345u;
    for (uint32_t i = 0; i < CRC32_BUF_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        crc32_buffer[i] = (uint8_t)(x >> 16);
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
        }
        table[i] = c;
    }
}

__attribute__((noinline)) uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint32_t n)
{
    crc = ~crc;
    while (n--) {
        crc = table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    }
    return ~crc;
}
