/* MT3620 IO-core (Cortex-M4F) register map used by the project's own firmware.
 *
 * Addresses and bit fields are public facts, collected in ../shared/MT3620-FACTS.md from:
 *   CodethinkLabs/mt3620-m4-drivers  mt3620/{uart,gpt,gpio,mbox,clock,irq}.h, NVIC.h, VectorTable.c
 *   MediaTek-Labs/mt3620_m4_software MT3620_M4_Driver/HDL/src/hdl_wdt.c, HDL/inc/hdl_wdt.h
 *   Azure/azure-sphere-samples       Samples/HelloWorld/HelloWorld_RTApp_MT3620_BareMetal/main.c
 *   ARM DDI 0403E (ARMv7-M Architecture Reference Manual) for the System Control Space.
 */
#ifndef MT3620_H
#define MT3620_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline void wr32(uintptr_t addr, uint32_t value) { *(volatile uint32_t *)addr = value; }
static inline uint32_t rd32(uintptr_t addr) { return *(volatile uint32_t *)addr; }
static inline void wr8(uintptr_t addr, uint8_t value) { *(volatile uint8_t *)addr = value; }

/* ---- System Control Space (ARM DDI 0403E B3.2, B3.3, B3.4) ---- */
#define SCS_ICSR        0xE000ED04u  /* bit28 PENDSVSET, bit26 PENDSTSET, bits8:0 VECTACTIVE */
#define SCS_VTOR        0xE000ED08u
#define SCS_AIRCR       0xE000ED0Cu  /* key 0x05FA in bits 31:16 */
#define SCS_SHPR2       0xE000ED1Cu  /* byte 3 = SVCall priority */
#define SCS_SHPR3       0xE000ED20u  /* byte 2 = PendSV, byte 3 = SysTick priority */
#define SCS_SHCSR       0xE000ED24u  /* bit16 MEMFAULTENA, bit17 BUSFAULTENA, bit18 USGFAULTENA */
#define SCS_CFSR        0xE000ED28u  /* MMFSR 7:0, BFSR 15:8, UFSR 31:16 */
#define SCS_HFSR        0xE000ED2Cu  /* bit30 FORCED (escalated), bit1 VECTTBL */
#define SCS_MMFAR       0xE000ED34u
#define SCS_BFAR        0xE000ED38u
#define SCS_CPACR       0xE000ED88u  /* CP10/CP11 access in bits 23:20 */
#define ICSR_PENDSVSET  (1u << 28)
#define SHCSR_BUSFAULTENA (1u << 17)

#define SYST_CSR        0xE000E010u  /* bit0 ENABLE, bit1 TICKINT, bit2 CLKSOURCE (1 = core clock), bit16 COUNTFLAG */
#define SYST_RVR        0xE000E014u
#define SYST_CVR        0xE000E018u

#define NVIC_ISER(n)    (0xE000E100u + 4u * (n))
#define NVIC_ICER(n)    (0xE000E180u + 4u * (n))
#define NVIC_ISPR(n)    (0xE000E200u + 4u * (n))
#define NVIC_ICPR(n)    (0xE000E280u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (0xE000E400u + (irq))
/* The IO cores implement 3 priority bits (CodethinkLabs NVIC.h): priority p is written as p << 5. */
#define NVIC_PRIO_BITS  3

static inline void nvic_enable_irq(unsigned irq, unsigned priority)
{
    wr8(NVIC_IPR_BYTE(irq), (uint8_t)((priority & 7u) << (8 - NVIC_PRIO_BITS)));
    wr32(NVIC_ISER(irq / 32u), 1u << (irq % 32u));
}
static inline void nvic_disable_irq(unsigned irq) { wr32(NVIC_ICER(irq / 32u), 1u << (irq % 32u)); }
/* An interrupt line raised while disabled leaves the NVIC's pending bit set (ARM DDI 0403E B3.4.1):
   clear it before enabling an interrupt whose source may have fired earlier. */
static inline void nvic_clear_pending(unsigned irq) { wr32(NVIC_ICPR(irq / 32u), 1u << (irq % 32u)); }

/* ---- IO-core interrupt numbers (CodethinkLabs VectorTable.c, FACTS) ---- */
#define IRQ_GPT01        1
#define IRQ_GPT3         2
#define IRQ_WDT          3
#define IRQ_UART_DEBUG   4
#define IRQ_MBOX_A7_RD   6   /* A7 popped what we pushed */
#define IRQ_MBOX_A7_NF   7
#define IRQ_MBOX_A7_WR   8   /* A7 pushed into our receive FIFO */
#define IRQ_MBOX_A7_NE   9
#define IRQ_MBOX_A7_FIFO 10
#define IRQ_MBOX_A7_SW   11  /* A7 to M4 software interrupt */
#define IRQ_EINT(n)      (20 + (n))
#define INTERRUPT_COUNT  100 /* entries after the 16 exceptions, as in the Azure samples */

/* ---- Clock / RGU (CodethinkLabs mt3620/clock.h) ---- */
#define RGU_BASE         0x21010000u
#define RGU_HCLK_CTRL    (RGU_BASE + 0x0Cu)  /* bits 9:8 HCLK source */
#define HCLK_SRC_XTAL    0u                  /* 26 MHz crystal */
#define HCLK_SRC_32K     1u
#define HCLK_SRC_PLL     2u                  /* 197.6 MHz PLL */

/* ---- Watchdog (MediaTek hdl_wdt.c / hdl_wdt.h) ---- */
#define WDT_BASE         0x21020000u
#define WDT_MODE         (WDT_BASE + 0x30u)  /* key 0x2200 | bit0 EN | bit3 IRQ instead of reset */
#define WDT_LENGTH       (WDT_BASE + 0x34u)  /* (ticks & 0x7FF) << 5 | key 0x08; 32 ticks = 1 s */
#define WDT_RESTART      (WDT_BASE + 0x38u)  /* key 0x1971 */
#define WDT_STA          (WDT_BASE + 0x3Cu)  /* bit15 hardware (timeout) reset, bit14 software reset */
#define WDT_SWRST        (WDT_BASE + 0x44u)  /* key 0x1209 */
#define WDT_MODE_KEY     0x2200u
#define WDT_MODE_EN      0x0001u
#define WDT_LENGTH_KEY   0x0008u
#define WDT_RESTART_KEY  0x1971u
#define WDT_STA_HW       0x8000u
#define WDT_STA_SW       0x4000u

/* ---- General purpose timers (CodethinkLabs mt3620/gpt.h, GPT.c) ---- */
#define GPT_BASE         0x21030000u
#define GPT_ISR          (GPT_BASE + 0x00u)  /* W1C: bit0 GPT0, bit1 GPT1 */
#define GPT_IER          (GPT_BASE + 0x04u)
#define GPT0_CTRL        (GPT_BASE + 0x10u)
#define GPT0_ICNT        (GPT_BASE + 0x14u)  /* GPT0/1 count down from ICNT; IRQ when they reach 0 */
#define GPT1_CTRL        (GPT_BASE + 0x20u)
#define GPT1_ICNT        (GPT_BASE + 0x24u)
#define GPT2_CTRL        (GPT_BASE + 0x30u)  /* bit0 EN, bit1 speed: free-running up-counter */
#define GPT2_CNT         (GPT_BASE + 0x34u)
#define GPT0_CNT         (GPT_BASE + 0x40u)
#define GPT1_CNT         (GPT_BASE + 0x44u)
#define GPT3_CTRL        (GPT_BASE + 0x50u)  /* bit0 EN, bit15 IRQ clear, bits 21:16 OSC_CNT_1US */
#define GPT3_INIT        (GPT_BASE + 0x54u)
#define GPT3_CNT         (GPT_BASE + 0x58u)  /* microseconds, counting up from INIT */
#define GPT3_EXPIRE      (GPT_BASE + 0x5Cu)
#define GPT_CTRL_EN      (1u << 0)
#define GPT_CTRL_REPEAT  (1u << 1)
#define GPT_CTRL_32K     (1u << 2)           /* 1 = 32.768 kHz, 0 = 32768/33 Hz */
#define GPT_CTRL_RESTART (1u << 3)
#define GPT2_CTRL_32K    (1u << 1)
#define GPT3_CTRL_ICLR   (1u << 15)
#define GPT3_OSC_CNT_1US (0x19u << 16)       /* 26 MHz / (0x19 + 1) = 1 MHz: the reset value */

/* ---- Debug UART: 16550 with a 32-bit register stride and MediaTek extensions (mt3620/uart.h) ---- */
#define UART_DEBUG_BASE  0x21040000u
#define UART_RBR         0x00u
#define UART_THR         0x00u
#define UART_DLL         0x00u
#define UART_IER         0x04u  /* bit0 ERBFI (RX), bit1 ETBEI (THR empty) */
#define UART_DLM         0x04u
#define UART_IIR         0x08u  /* read: bits 5:0 interrupt id */
#define UART_FCR         0x08u  /* write: bit0 FIFOE, bit1 CLRR, bit2 CLRT, bits 5:4 TFTL, 7:6 RFTL */
#define UART_LCR         0x0Cu  /* bit7 DLAB */
#define UART_MCR         0x10u
#define UART_LSR         0x14u  /* bit0 DR, bit5 THRE, bit6 TEMT */
#define UART_SCR         0x1Cu
#define UART_HIGHSPEED   0x24u
#define UART_SAMPLE_COUNT 0x28u
#define UART_SAMPLE_POINT 0x2Cu
#define UART_VFIFO_EN    0x4Cu
#define UART_FRACDIV_L   0x54u
#define UART_FRACDIV_M   0x58u
#define UART_TX_OFFSET   0x6Cu  /* bytes waiting in the TX FIFO */
#define UART_FIFO_DEPTH  16u
#define UART_IER_ERBFI   0x01u
#define UART_IER_ETBEI   0x02u
#define UART_LSR_DR      0x01u
#define UART_LSR_THRE    0x20u
#define UART_LSR_TEMT    0x40u
#define UART_IIR_NONE    0x01u
#define UART_IIR_THRE    0x02u
#define UART_IIR_RX      0x04u
#define UART_IIR_LINE    0x06u
#define UART_IIR_RX_TIMEOUT 0x0Cu

/* ---- Mailbox between this IO core and the A7 (mt3620/mbox.h) ---- */
#define MBOX_A7_BASE     0x21050000u
#define MBOX_SW_TX_INT_PORT 0x14u  /* write 1 << port: software interrupt to the A7 */
#define MBOX_SW_RX_INT_EN   0x18u
#define MBOX_SW_RX_INT_STS  0x1Cu  /* W1C */
#define MBOX_INT_EN      0x38u     /* bits below (MediaTek hdl_mbox.h); the IRQ lines are 6 RD, 7 NF, 8 WR, 9 NE */
#define MBOX_INT_STS     0x3Cu     /* W1C */
#define MBOX_CMD_PUSH    0x40u     /* write DATA first: the CMD write commits the entry */
#define MBOX_DATA_PUSH   0x44u
#define MBOX_FIFO_PUSH_CNT 0x48u
#define MBOX_CMD_POP     0x50u     /* read DATA first: the CMD read pops the entry */
#define MBOX_DATA_POP    0x54u
#define MBOX_FIFO_POP_CNT 0x58u
#define MBOX_FIFO_DEPTH  15u
#define MBOX_INT_NE      (1u << 0)  /* our receive FIFO reached NE_THRS entries */
#define MBOX_INT_WR      (1u << 1)  /* the A7 pushed into our receive FIFO */
#define MBOX_INT_NF      (1u << 2)  /* our send FIFO fell to NF_THRS entries */
#define MBOX_INT_RD      (1u << 3)  /* the A7 popped what we pushed */

/* ---- GPIO blocks: 4 pins each, block n at 0x38010000 + n * 0x10000 (mt3620/gpio.h) ---- */
#define GPIO_BLOCK_BASE(pin) (0x38010000u + ((uint32_t)(pin) / 4u) * 0x10000u)
#define GPIO_DIN         0x04u
#define GPIO_DOUT        0x10u
#define GPIO_DOUT_SET    0x14u
#define GPIO_DOUT_RESET  0x18u
#define GPIO_OE          0x20u
#define GPIO_OE_SET      0x24u
#define GPIO_OE_RESET    0x28u
#define GPIO_IES_SET     0x64u
#define GPIO_IES_RESET   0x68u

/* RDB board (FACTS): LED1 R/G/B = GPIO 8/9/10 (active low), buttons A/B = GPIO 12/13 (low when pressed) */
#define PIN_LED1_RED     8u
#define PIN_LED1_GREEN   9u
#define PIN_LED1_BLUE    10u
#define PIN_BUTTON_A     12u
#define PIN_BUTTON_B     13u

#endif
