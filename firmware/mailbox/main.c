/* mailbox: echoes what the A7 sends through the IO core's A7 mailbox (0x21050000) back to it.
 *
 * Two kinds of traffic, both handled by one loop:
 *  - raw FIFO entries (command, data): printed and pushed back unchanged, DATA before CMD;
 *  - the intercore protocol of Azure Sphere high-level <-> real-time apps (Azure/azure-sphere-samples
 *    IntercoreComms_RTApp_MT3620_BareMetal): commands 0xBA5E0001/0xBA5E0002 give the outbound/inbound shared
 *    buffers (address | log2(size)), 0xBA5E0003 ends the setup, 0xBA5E0004 stops the connection. Each buffer starts with a 64-byte header
 *    {writePosition, readPosition, reserved[14]} followed by the ring; a message block is
 *    u32 length, 16-byte component ID, u32 reserved, payload, padded to 16 bytes. Our read position in
 *    the inbound ring lives in the outbound header, and the A7's read position of the outbound ring in
 *    the inbound header. Every message received is printed and sent back to its sender.
 * Wake-ups: the FIFO "A7 wrote" interrupt (IRQ 8), the A7-to-M4 software interrupt (IRQ 11) and, so that
 * nothing is missed, a 10 ms SysTick. The FIFO "A7 read" interrupt (IRQ 6) counts the echoed entries the A7 has
 * popped. INT_EN/INT_STS bits: MediaTek's layout (firmware/common/mt3620.h). */
#include "rt.h"

#define CMD_OUTBOUND 0xBA5E0001u
#define CMD_INBOUND  0xBA5E0002u
#define CMD_SETUP_END 0xBA5E0003u
#define CMD_STOP     0xBA5E0004u
#define SW_INT_HL_SENT 0x2u        /* SW_RX_INT_STS bit 1: the A7 put a message in the inbound ring */
#define SW_TX_SENT     0x1u        /* SW_TX_INT_PORT: we put a message in the outbound ring */
#define SW_TX_RECEIVED 0x2u        /* SW_TX_INT_PORT: we consumed a message from the inbound ring */
#define HEADER_SIZE 64u
#define ALIGN 16u
#define MAX_PAYLOAD 1040u

struct header {
    volatile uint32_t write_pos;
    volatile uint32_t read_pos;
    uint32_t reserved[14];
};

struct ring {
    struct header *hdr;
    uint8_t *data;
    uint32_t size;  /* bytes after the header */
};

static struct ring inbound, outbound;
static bool have_in, have_out, ready;
static volatile uint32_t wakeups, popped_by_a7;
static uint8_t payload[MAX_PAYLOAD];

static inline uint32_t mbox_r(uint32_t off) { return rd32(MBOX_A7_BASE + off); }
static inline void mbox_w(uint32_t off, uint32_t v) { wr32(MBOX_A7_BASE + off, v); }

void irq_mbox_a7_wr(void)
{
    mbox_w(MBOX_INT_STS, MBOX_INT_WR);  /* write-one-to-clear */
    wakeups++;
}

void irq_mbox_a7_rd(void)
{
    mbox_w(MBOX_INT_STS, MBOX_INT_RD);
    popped_by_a7++;
    wakeups++;
}

void irq_mbox_a7_sw(void)
{
    mbox_w(MBOX_SW_RX_INT_STS, SW_INT_HL_SENT);
    wakeups++;
}

void SysTick_Handler(void)
{
    wakeups++;
}

static bool ring_from(uint32_t word, struct ring *r)
{
    uint32_t total = 1u << (word & 0x1Fu);
    if ((word & 0x1Fu) > 20u || total <= HEADER_SIZE) {
        return false;
    }
    r->hdr = (struct header *)(uintptr_t)(word & ~0x1Fu);
    r->data = (uint8_t *)r->hdr + HEADER_SIZE;
    r->size = total - HEADER_SIZE;
    return true;
}

static uint32_t ring_read(const struct ring *r, uint32_t pos, void *dst, uint32_t n)
{
    uint8_t *d = dst;
    for (uint32_t i = 0; i < n; i++) {
        d[i] = r->data[pos];
        pos = (pos + 1u == r->size) ? 0u : pos + 1u;
    }
    return pos;
}

static uint32_t ring_write(const struct ring *r, uint32_t pos, const void *src, uint32_t n)
{
    const uint8_t *s = src;
    for (uint32_t i = 0; i < n; i++) {
        r->data[pos] = s[i];
        pos = (pos + 1u == r->size) ? 0u : pos + 1u;
    }
    return pos;
}

static uint32_t align_pos(const struct ring *r, uint32_t pos)
{
    pos = (pos + ALIGN - 1u) & ~(ALIGN - 1u);
    return pos >= r->size ? pos - r->size : pos;
}

static void print_guid(const uint8_t id[16])
{
    /* data1 (LE u32) - data2 (LE u16) - data3 (LE u16) - data4[0..1] - data4[2..7] */
    print("%08x-%04x-%04x-%02x%02x-", (uint32_t)id[0] | (uint32_t)id[1] << 8 | (uint32_t)id[2] << 16 |
          (uint32_t)id[3] << 24, (uint32_t)id[4] | (uint32_t)id[5] << 8, (uint32_t)id[6] | (uint32_t)id[7] << 8,
          id[8], id[9]);
    for (int i = 10; i < 16; i++) {
        print("%02x", id[i]);
    }
}

static bool send(const uint8_t id[16], const uint8_t *data, uint32_t n)
{
    uint32_t remote_read = inbound.hdr->read_pos;  /* the A7's progress in the outbound ring */
    uint32_t pos = outbound.hdr->write_pos;
    if (remote_read >= outbound.size || pos >= outbound.size || (pos % ALIGN) || (remote_read % ALIGN)) {
        print("mailbox: bad outbound positions w=%u r=%u\r\n", pos, remote_read);
        return false;
    }
    uint32_t space = remote_read > pos ? remote_read - pos : remote_read + outbound.size - pos;
    uint32_t need = 4u + 16u + 4u + n;
    if (space < need + ALIGN) {
        print("mailbox: outbound ring full\r\n");
        return false;
    }
    uint32_t len = need - 4u, reserved = 0;
    pos = ring_write(&outbound, pos, &len, 4);
    pos = ring_write(&outbound, pos, id, 16);
    pos = ring_write(&outbound, pos, &reserved, 4);
    pos = ring_write(&outbound, pos, data, n);
    cpu_dsb();
    outbound.hdr->write_pos = align_pos(&outbound, pos);
    cpu_dsb();
    mbox_w(MBOX_SW_TX_INT_PORT, SW_TX_SENT);
    return true;
}

/* Takes every complete message from the inbound ring; returns how many. */
static uint32_t receive_all(void)
{
    uint32_t count = 0;
    for (;;) {
        uint32_t remote_write = inbound.hdr->write_pos;
        uint32_t pos = outbound.hdr->read_pos;
        if (remote_write >= inbound.size || pos >= inbound.size || (remote_write % ALIGN) || (pos % ALIGN)) {
            print("mailbox: bad inbound positions w=%u r=%u\r\n", remote_write, pos);
            ready = false;
            return count;
        }
        uint32_t avail = remote_write >= pos ? remote_write - pos : remote_write + inbound.size - pos;
        if (avail < 4u) {
            return count;
        }
        uint32_t len;
        pos = ring_read(&inbound, pos, &len, 4);
        if (len < 20u || len + 4u > avail || len - 20u > MAX_PAYLOAD) {
            print("mailbox: bad message length %u\r\n", len);
            ready = false;
            return count;
        }
        uint8_t id[16];
        uint32_t reserved, n = len - 20u;
        pos = ring_read(&inbound, pos, id, 16);
        pos = ring_read(&inbound, pos, &reserved, 4);
        pos = ring_read(&inbound, pos, payload, n);
        cpu_dsb();
        outbound.hdr->read_pos = align_pos(&inbound, pos);
        cpu_dsb();
        mbox_w(MBOX_SW_TX_INT_PORT, SW_TX_RECEIVED);
        count++;

        print("mailbox: message of %u bytes from ", n);
        print_guid(id);
        print(": ");
        for (uint32_t i = 0; i < n; i++) {
            uint8_t c = payload[i];
            uart_putc(c >= 0x20 && c < 0x7F ? (char)c : '.');
        }
        print("\r\n");
        if (send(id, payload, n)) {
            print("mailbox: echoed %u bytes\r\n", n);
        }
    }
}

static void handle_fifo_entry(uint32_t cmd, uint32_t data)
{
    switch (cmd) {
    case CMD_OUTBOUND:
        have_out = ring_from(data, &outbound);
        print("mailbox: outbound buffer 0x%08x, %u bytes%s\r\n", data & ~0x1Fu, 1u << (data & 0x1Fu),
              have_out ? "" : " (rejected)");
        break;
    case CMD_INBOUND:
        have_in = ring_from(data, &inbound);
        print("mailbox: inbound buffer 0x%08x, %u bytes%s\r\n", data & ~0x1Fu, 1u << (data & 0x1Fu),
              have_in ? "" : " (rejected)");
        break;
    case CMD_SETUP_END:
        ready = have_in && have_out;
        print("mailbox: setup %s\r\n", ready ? "done" : "incomplete");
        break;
    case CMD_STOP:
        ready = have_in = have_out = false;
        print("mailbox: stopped\r\n");
        break;
    default:
        print("mailbox: fifo cmd=0x%08x data=0x%08x\r\n", cmd, data);
        while (mbox_r(MBOX_FIFO_PUSH_CNT) >= MBOX_FIFO_DEPTH) {
        }
        mbox_w(MBOX_DATA_PUSH, data);
        mbox_w(MBOX_CMD_PUSH, cmd);
        print("mailbox: fifo echoed\r\n");
        break;
    }
}

int main(void)
{
    print("mailbox: waiting for the A7\r\n");
    mbox_w(MBOX_INT_STS, MBOX_INT_WR | MBOX_INT_RD);
    mbox_w(MBOX_INT_EN, mbox_r(MBOX_INT_EN) | MBOX_INT_WR | MBOX_INT_RD);
    mbox_w(MBOX_SW_RX_INT_EN, SW_INT_HL_SENT);
    mbox_w(MBOX_SW_RX_INT_STS, SW_INT_HL_SENT);
    nvic_clear_pending(IRQ_MBOX_A7_WR);
    nvic_enable_irq(IRQ_MBOX_A7_WR, 2);
    nvic_clear_pending(IRQ_MBOX_A7_RD);
    nvic_enable_irq(IRQ_MBOX_A7_RD, 2);
    nvic_clear_pending(IRQ_MBOX_A7_SW);
    nvic_enable_irq(IRQ_MBOX_A7_SW, 2);
    systick_start(100);

    uint32_t handled = 0, popped_reported = 0;
    for (;;) {
        if (popped_by_a7 != popped_reported) {
            popped_reported = popped_by_a7;
            print("mailbox: the A7 popped %u echoed entries\r\n", popped_reported);
        }
        while (mbox_r(MBOX_FIFO_POP_CNT)) {
            uint32_t data = mbox_r(MBOX_DATA_POP);  /* DATA first: reading CMD pops the entry */
            uint32_t cmd = mbox_r(MBOX_CMD_POP);
            handle_fifo_entry(cmd, data);
        }
        if (ready) {
            receive_all();
        }
        cpu_irq_disable();
        if (wakeups == handled && !mbox_r(MBOX_FIFO_POP_CNT)) {
            cpu_wfi();
        }
        handled = wakeups;
        cpu_irq_enable();
    }
}
