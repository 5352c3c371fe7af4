/* crc32: the compute-bound benchmark. Runs at 197.6 MHz; fills a 4 KB buffer from a linear congruential
 * generator, then computes the standard CRC-32 (reflected, polynomial 0xEDB88320, as zlib.crc32) of it
 * once, and of 1024 back-to-back copies of it (4 MB), table-driven. GPT3 measures the run in
 * microseconds of (virtual) chip time. */
#include "rt.h"

#define BUF_SIZE 4096u
#define ROUNDS 1024u

static uint8_t buffer[BUF_SIZE];
static uint32_t table[256];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
        }
        table[i] = c;
    }
}

/* Continues a CRC: pass 0 to start, the previous result to go on (zlib.crc32(data, value) semantics). */
__attribute__((noinline)) static uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint32_t n)
{
    crc = ~crc;
    while (n--) {
        crc = table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    }
    return ~crc;
}

int main(void)
{
    uint32_t hz = clock_select(HCLK_SRC_PLL);
    print("crc32: start at %u Hz\r\n", hz);
    uint32_t x = 12345u;
    for (uint32_t i = 0; i < BUF_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        buffer[i] = (uint8_t)(x >> 16);
    }
    make_table();
    print("crc32: buffer crc=0x%08x\r\n", crc32_update(0, buffer, BUF_SIZE));

    wr32(GPT3_INIT, 0);
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT_CTRL_EN);
    uint32_t crc = 0;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        crc = crc32_update(crc, buffer, BUF_SIZE);
    }
    uint32_t us = rd32(GPT3_CNT);
    wr32(GPT3_CTRL, 0);
    print("crc32: rounds=%u crc=0x%08x\r\n", ROUNDS, crc);
    print("crc32: elapsed_us=%u\r\n", us);
    print("crc32: done\r\n");
    return 0;
}
