/* uart_dma: ISU0's UART driven by the DMA's half-size channels, as MediaTek's OS_HAL does for
 * mtk_os_hal_uart_dma_send_data / get_data with vff_mode 0 (os_hal_uart.c uart_half_dma_chan: channel 0 TX,
 * channel 1 RX; hdl_uart.c: VFIFO_EN = 1, then the channel starts, then EXTEND_ADD's handshake bit). A 40-byte line
 * goes out through channel 0; then channel 1 takes 4 bytes from the line. Each transfer ends with the DMA's
 * completion interrupt; RLCT and what arrived are printed on the debug UART. */
#include "periph.h"

#define ISU0_UART        0x38070500u
#define UART_EXTEND_ADD  0x64u      /* bit0 RX_DMA_HSK_EN, bit1 TX_DMA_HSK_EN (MediaTek hdl_uart.c) */
#define DMA_CLR_DREQ     (DMA_BASE + 0x4058u)
#define TX_CH            0u
#define RX_CH            1u

static __attribute__((section(".sysram"))) char tx_buf[] = "uart_dma: this line went out by DMA ch0\n";
static __attribute__((section(".sysram"))) char rx_buf[4];
static volatile unsigned done_mask;

void irq_m4dma(void)
{
    for (unsigned ch = TX_CH; ch <= RX_CH; ch++) {
        if (rd32(DMA_GLBSTA0) & (2u << (2u * ch))) {
            wr32(DMA_CH(ch) + DMA_ACKINT, DMA_INT);
            done_mask |= 1u << ch;
        }
    }
}

static void half_start(unsigned ch, void *buf, unsigned bytes, bool rx)
{
    wr32(DMA_CH_EN_SET, 1u << ch);
    wr32(DMA_CH(ch) + DMA_START, 0);
    wr32(DMA_CH(ch) + DMA_PGMADDR, (uint32_t)(uintptr_t)buf);
    wr32(DMA_CH(ch) + DMA_FIXADDR, ISU0_UART);
    wr32(DMA_CH(ch) + DMA_COUNT, bytes);
    wr32(DMA_CH(ch) + DMA_CON, DMA_CON_SIZE_BYTE | DMA_CON_DREQ | DMA_CON_ITEN |
                                (rx ? (DMA_CON_DIR | DMA_CON_DINC) : DMA_CON_SINC));
    wr32(DMA_CLR_DREQ, 1u << ch);
    wr32(DMA_CH(ch) + DMA_START, DMA_STR);
}

static void wait_for(unsigned ch)
{
    cpu_irq_disable();
    while (!(done_mask & (1u << ch))) {
        cpu_wfi();
        cpu_irq_enable();
        cpu_irq_disable();
    }
    cpu_irq_enable();
}

int main(void)
{
    print("uart_dma: start\r\n");
    wr32(ISU0_UART + UART_FCR, 0x07u);                      /* FIFOs on, both cleared */
    wr32(ISU0_UART + UART_VFIFO_EN, 1u);
    nvic_enable_irq(IRQ_M4DMA, 2);

    half_start(TX_CH, tx_buf, sizeof tx_buf - 1u, false);
    wr32(ISU0_UART + UART_EXTEND_ADD, 0x2u);
    wait_for(TX_CH);
    print("uart_dma: tx done, RLCT %u, TX_OFFSET %u\r\n", (unsigned)rd32(DMA_CH(TX_CH) + DMA_RLCT),
          (unsigned)rd32(ISU0_UART + UART_TX_OFFSET));

    half_start(RX_CH, rx_buf, sizeof rx_buf, true);
    wr32(ISU0_UART + UART_EXTEND_ADD, 0x1u);
    print("uart_dma: rx ready\r\n");
    wait_for(RX_CH);
    wr32(ISU0_UART + UART_EXTEND_ADD, 0u);
    wr32(ISU0_UART + UART_VFIFO_EN, 0u);
    print("uart_dma: rx done, RLCT %u: %c%c%c%c\r\n", (unsigned)rd32(DMA_CH(RX_CH) + DMA_RLCT), rx_buf[0], rx_buf[1],
          rx_buf[2], rx_buf[3]);
    return 0;
}
