/* audio: a MAX98090 codec on ISU2's I2C (revision check, reset, clock and interface registers written in one
 * auto-incrementing transfer as the CodethinkLabs MAX98090 driver does, headphone and DAC outputs enabled, shutdown
 * released) playing a 1 kHz triangle wave at 48 kHz from I2S0 through a DMA ring for 100 ms; then I2S1 in internal
 * loopback: a counting pattern out and back in through two DMA rings, checked word by word. */
#include "i2c.h"
#include "i2s.h"
#include "sleep.h"

#define CODEC 0x10u

static __attribute__((section(".sysram"))) uint32_t out_ring[256];
static __attribute__((section(".sysram"))) uint32_t loop_out[128];
static __attribute__((section(".sysram"))) uint32_t loop_in[128];
static uint32_t phase;
static uint32_t next_out, next_in, matched, mismatched;

static int codec_write(uint8_t reg, const uint8_t *data, unsigned n)
{
    uint8_t buf[16];
    buf[0] = reg;
    for (unsigned i = 0; i < n; i++) {
        buf[1 + i] = data[i];
    }
    return i2c_transfer(2, CODEC, buf, 1 + n, 0, 0);
}

static void triangle(uint32_t *ring, unsigned first, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        /* 48 samples per period: up 24, down 24, +-12000 */
        uint32_t p = phase++ % 48u;
        int32_t v = p < 24u ? -12000 + (int32_t)p * 1000 : 12000 - (int32_t)(p - 24u) * 1000;
        uint16_t s = (uint16_t)(int16_t)v;
        ring[first + i] = (uint32_t)s | ((uint32_t)s << 16);
    }
}

static void pattern_out(uint32_t *ring, unsigned first, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        ring[first + i] = 0x00010000u * (next_out & 0x7FFFu) + 0x1000u + (next_out & 0x0FFFu);
        next_out++;
    }
}

static void pattern_in(uint32_t *ring, unsigned first, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        uint32_t w = ring[first + i];
        if (w == 0) {
            continue;                         /* silence before the first looped frame */
        }
        uint32_t n = next_in++;
        if (w == 0x00010000u * (n & 0x7FFFu) + 0x1000u + (n & 0x0FFFu)) {
            matched++;
        } else {
            mismatched++;
        }
    }
}

int main(void)
{
    print("audio: start\r\n");
    i2c_open(2, 400000);
    uint8_t rev = 0, reg = 0xFF;
    i2c_transfer(2, CODEC, &reg, 1, &rev, 1);
    uint8_t reset = 0x80, shdn = 0x00;
    codec_write(0x00, &reset, 1);
    sleep_us(20000);
    codec_write(0x45, &shdn, 1);
    static const uint8_t clocks[] = {0x10, 0xC1, 0x00, 0x01, 0x00, 0x01, 0x80, 0x04, 0x00, 0x00, 0x01};
    int rc = codec_write(0x1B, clocks, sizeof clocks);
    uint8_t outen = 0xC3, run = 0x80;
    rc |= codec_write(0x3F, &outen, 1);
    print("audio: codec revision 0x%02x, setup rc=%d\r\n", rev, rc);

    i2s_open(0, false);
    i2s_output(0, I2S_SR_48K, out_ring, 256, triangle);
    codec_write(0x45, &run, 1);
    sleep_us(100000);
    i2s_stop(0);
    print("audio: queued %u frames\r\n", phase);

    i2s_open(1, true);
    i2s_input(1, I2S_SR_16K, loop_in, 128, pattern_in);
    i2s_output(1, I2S_SR_16K, loop_out, 128, pattern_out);
    sleep_us(50000);
    i2s_stop(1);
    print("audio: loopback matched %u mismatched %u\r\n", matched, mismatched);
    print("audio: done\r\n");
    return 0;
}
