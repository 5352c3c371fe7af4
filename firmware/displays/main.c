/* displays: an SSD1306 on ISU1's I2C (at 1 MHz, the 1 KB frame buffer in one DMA transfer) and an SSD1331 on
 * ISU0's SPI (CSA, D/C# on GPIO 0, RES# on GPIO 1, as the CodethinkLabs SSD1331 sample wires its Pmod) draw test
 * patterns that tests/firmware/test_firmware_devices.py reads back from the panels. */
#include "i2c.h"
#include "sleep.h"
#include "spi.h"

#define OLED 0x3Cu
#define PIN_DC 0u
#define PIN_RES 1u

static __attribute__((section(".sysram"))) uint8_t frame[1 + 1024];

static int oled_cmds(const uint8_t *cmds, unsigned n)
{
    uint8_t buf[1 + 8];
    buf[0] = 0x00;                                   /* Co = 0, D/C# = 0: commands follow */
    for (unsigned i = 0; i < n; i++) {
        buf[1 + i] = cmds[i];
    }
    return i2c_transfer(1, OLED, buf, 1 + n, 0, 0);
}

static void ssd1306(void)
{
    i2c_open(1, 1000000);
    static const uint8_t init1[] = {0xAE, 0xD5, 0x80, 0xA8, 0x3F, 0xD3, 0x00};
    static const uint8_t init2[] = {0x40, 0x8D, 0x14, 0x20, 0x00, 0xA0, 0xC0};
    static const uint8_t init3[] = {0xDA, 0x12, 0x81, 0xCF, 0xA4, 0xA6, 0xAF};
    static const uint8_t window[] = {0x21, 0, 127, 0x22, 0, 7};
    int rc = oled_cmds(init1, sizeof init1) | oled_cmds(init2, sizeof init2) | oled_cmds(init3, sizeof init3) |
             oled_cmds(window, sizeof window);
    frame[0] = 0x40;                                 /* Co = 0, D/C# = 1: display data follow */
    for (unsigned page = 0; page < 8; page++) {
        for (unsigned x = 0; x < 128; x++) {
            uint8_t bits = 0;
            for (unsigned b = 0; b < 8; b++) {
                unsigned y = page * 8u + b;
                bool lit = x == 0 || x == 127 || y == 0 || y == 63 || x == y * 2u;
                bits |= (uint8_t)(lit << b);
            }
            frame[1 + page * 128u + x] = bits;
        }
    }
    int drc = i2c_transfer(1, OLED, frame, sizeof frame, 0, 0);
    print("displays: ssd1306 commands rc=%d frame rc=%d\r\n", rc, drc);
}

static void rgb_cmd(const uint8_t *cmd, unsigned n)
{
    gpio_write(PIN_DC, false);
    spi_transfer(0, 0, cmd, n > 4 ? 4 : n, n > 4 ? cmd + 4 : 0, n > 4 ? n - 4 : 0, 0, 0);
}

static void ssd1331(void)
{
    gpio_output(PIN_DC, false);
    gpio_output(PIN_RES, true);
    spi_open(0, 10000000, 3);
    gpio_write(PIN_RES, false);
    sleep_us(10);
    gpio_write(PIN_RES, true);
    sleep_us(10);
    static const uint8_t unlock[] = {0xFD, 0x12}, off[] = {0xAE}, remap[] = {0xA0, 0x72}, start[] = {0xA1, 0x00};
    static const uint8_t offset[] = {0xA2, 0x00}, normal[] = {0xA4}, mux[] = {0xA8, 0x3F}, on[] = {0xAF};
    static const uint8_t window[] = {0x15, 0, 95, 0x75, 0, 63};
    rgb_cmd(unlock, 2);
    rgb_cmd(off, 1);
    rgb_cmd(remap, 2);
    rgb_cmd(start, 2);
    rgb_cmd(offset, 2);
    rgb_cmd(normal, 1);
    rgb_cmd(mux, 2);
    rgb_cmd(window, 6);
    /* Three bands, red / green / blue, as RGB565 data (D/C# high). */
    gpio_write(PIN_DC, true);
    uint8_t chunk[32];
    for (unsigned row = 0; row < 64; row++) {
        uint16_t color = row < 21 ? 0xF800u : row < 42 ? 0x07E0u : 0x001Fu;
        for (unsigned x = 0; x < 96; x += 16) {
            for (unsigned i = 0; i < 16; i++) {
                chunk[2 * i] = (uint8_t)(color >> 8);
                chunk[2 * i + 1] = (uint8_t)color;
            }
            spi_transfer(0, 0, chunk, 4, chunk + 4, 28, 0, 0);
        }
    }
    /* A white filled rectangle drawn by the controller in the top left corner. */
    static const uint8_t fill[] = {0x26, 0x01};
    static const uint8_t rect[] = {0x22, 2, 2, 9, 9, 0x1F, 0x3F, 0x1F, 0x1F, 0x3F, 0x1F};
    rgb_cmd(fill, 2);
    rgb_cmd(rect, sizeof rect);
    rgb_cmd(on, 1);
    print("displays: ssd1331 drawn\r\n");
}

int main(void)
{
    print("displays: start\r\n");
    ssd1306();
    ssd1331();
    print("displays: done\r\n");
    return 0;
}
