/* Register map of the IO-core blocks the project's drivers use beyond firmware/common/mt3620.h: the ISUs' I2C and
 * SPI functions, the M4 DMA, the ADC, I2S and the GPIOIF counters.
 *
 * Addresses and bit fields are public facts from:
 *   CodethinkLabs/mt3620-m4-drivers   mt3620/i2c.h spi.h dma.h adc.h i2s.h, I2CMaster.c SPIMaster.c ADC.c I2S.c
 *   MediaTek-Labs/mt3620_m4_software  MT3620_M4_Driver/HDL/inc/hdl_i2c.h hdl_spim.h hdl_dma.h hdl_adc.h hdl_i2s.h
 *                                     hdl_gpioif.h, MHAL/src/mhal_i2c.c (I2C phase arithmetic)
 */
#ifndef PERIPH_H
#define PERIPH_H

#include "rt.h"

/* ---- ISU n: configuration, I2C, SPI master, SPI subordinate ---- */
#define ISU_BASE(n)          (0x38070000u + (uint32_t)(n) * 0x10000u)
#define ISU_GLOBAL_CTRL(n)   (ISU_BASE(n) + 0x000u)  /* bit0 SW_RST (0 = reset), bit8 I2C clk, 12:9 SPIM, 14:13 UART */
#define IRQ_ISU_I2C(n)       (44u + 4u * (n))
#define IRQ_ISU_SPIM(n)      (45u + 4u * (n))
#define IRQ_ISU_SPIS(n)      (46u + 4u * (n))

#define I2C_BASE(n)          (ISU_BASE(n) + 0x200u)
#define I2C_INT_CTRL         0x00u   /* bit0 MM_INT_STA (W1C), bit1 MM_INT_EN, bit4 S_INT_STA, bit5 S_INT_EN */
#define I2C_MM_PAD_CON0      0x40u   /* bits 4:0 DE_CNT, bit7 CLK_SYNC_EN */
#define I2C_MM_CNT_VAL_PHL   0x44u   /* phase 0 (7:0), phase 1 (15:8) */
#define I2C_MM_CNT_VAL_PHH   0x48u   /* phase 2 (7:0), phase 3 (15:8) */
#define I2C_MM_CNT_BYTE_PK(i) (0x54u + 4u * (i))
#define I2C_MM_ID_CON0       0x60u   /* 7-bit target address */
#define I2C_MM_PACK_CON0     0x68u   /* bits 2:0 RWn (1 = read), bits 5:4 packets - 1 */
#define I2C_MM_ACK_VAL       0x6Cu   /* 7:0 data NACK bits, 11:8 address NACK bit per packet */
#define I2C_MM_CON0          0x70u   /* bit0 START_EN, bit14 GMODE (repeated start), bit15 MASTER_EN */
#define I2C_MM_STATUS        0x74u   /* bit0 BUS_BUSY, bit1 ARB_LOSE (W1C), bit2 START_READY */
#define I2C_MM_FIFO_CON0     0x78u   /* bit0 RX clear, bit1 TX clear */
#define I2C_MM_FIFO_STATUS   0x80u   /* bit0 RX empty, 2 RX underflow, 3 RX overflow, 4 TX empty, 6 TX udr, 7 TX ovf */
#define I2C_MM_FIFO_PTR      0x84u
#define I2C_MM_FIFO_DATA     0x90u
#define I2C_DMA_CON0         0xC0u   /* bit4 handshake enable, bit5 0 = master, 1 = subordinate */
#define I2C_S_CON0           0xC4u   /* bit15 SLAVE_EN */
#define I2C_S_ID_CON0        0xC8u
#define I2C_S_ID_RECEIVED0   0xCCu
#define I2C_S_FIFO_CON0      0xD8u
#define I2C_S_FIFO_STATUS    0xE0u
#define I2C_S_FIFO_PTR       0xE4u
#define I2C_S_FIFO_DATA      0xF0u
#define I2C_FIFO_DEPTH       8u

#define SPI_BASE(n)          (ISU_BASE(n) + 0x300u)
#define SPI_STCSR            0x00u   /* bit8 START, bit16 BUSY */
#define SPI_SOAR             0x04u
#define SPI_SDOR(i)          (0x08u + 4u * (i))
#define SPI_SMMR             0x28u   /* bit2 more buffer, 3 LSB first, 4 CPOL, 5 CPHA, 9 INT_EN, 10 full duplex,
                                        27:16 RS_CLK_SEL, 31:29 RS_SLAVE_SEL */
#define SPI_SMBCR            0x2Cu   /* 8:0 MOSI bits, 20:12 MISO bits, 29:24 command bits */
#define SPI_SCSR             0x34u   /* bit0 SPI_OK; reading clears the interrupt */
#define SPI_CSPOL            0x38u   /* 7:0 CS polarity, bit8 DMA mode */
#define SPI_DATAPORT         0x40u
#define SPI_SDIR(i)          (0x48u + 4u * (i))
#define SPI_HCLK_HZ          79040000u

/* ---- M4 DMA (per core, 0x21080000; channel n at + n * 0x100, global at +0x4000) ---- */
#define DMA_BASE             0x21080000u
#define DMA_CH(n)            (DMA_BASE + (uint32_t)(n) * 0x100u)
#define DMA_SRC              0x00u
#define DMA_DST              0x04u
#define DMA_WPPT             0x08u
#define DMA_WPTO             0x0Cu
#define DMA_COUNT            0x10u
#define DMA_CON              0x14u   /* 1:0 SIZE, 2 SINC, 3 DINC, 4 DREQ, 15 ITEN, 16 WPSD, 17 WPEN, 18 DIR */
#define DMA_START            0x18u   /* bit15 STR */
#define DMA_INTSTA           0x1Cu
#define DMA_ACKINT           0x20u
#define DMA_RLCT             0x24u
#define DMA_PGMADDR          0x2Cu
#define DMA_FFCNT            0x38u
#define DMA_FFSIZE           0x44u
#define DMA_HWPTR            0x58u
#define DMA_SWPTR            0x5Cu
#define DMA_FIXADDR          0x60u
#define DMA_GLBSTA0          (DMA_BASE + 0x4000u)
#define DMA_GLBSTA1          (DMA_BASE + 0x4004u)
#define DMA_CH_EN_SET        (DMA_BASE + 0x4024u)
#define DMA_CH_EN_CLR        (DMA_BASE + 0x4028u)
#define DMA_CON_SIZE_BYTE    0u
#define DMA_CON_SIZE_HALF    1u
#define DMA_CON_SIZE_WORD    2u
#define DMA_CON_SINC         (1u << 2)
#define DMA_CON_DINC         (1u << 3)
#define DMA_CON_DREQ         (1u << 4)
#define DMA_CON_ITEN         (1u << 15)
#define DMA_CON_WPSD         (1u << 16)
#define DMA_CON_WPEN         (1u << 17)
#define DMA_CON_DIR          (1u << 18)
#define DMA_STR              (1u << 15)
#define DMA_INT              (1u << 15)
#define IRQ_M4DMA            77u

/* ---- ADC (0x38000000, IRQ 70, DMA channel 29) ---- */
#define ADC_BASE             0x38000000u
#define ADC_GLOBAL_CTRL      (ADC_BASE + 0x000u)
#define ADC_CTL0             (ADC_BASE + 0x100u)  /* 0 FSM_EN, 3:1 AVG, 7:4 T_CH, 8 PMODE, 15:9 T_INIT, 31:16 CH_MAP */
#define ADC_REG_PERIOD       (ADC_BASE + 0x104u)
#define ADC_CTL3             (ADC_BASE + 0x10Cu)
#define ADC_FIFO_RBR         (ADC_BASE + 0x200u)
#define ADC_FIFO_IER         (ADC_BASE + 0x204u)  /* bit0 RXFEN */
#define ADC_FIFO_IIR         (ADC_BASE + 0x208u)
#define ADC_FIFO_LSR         (ADC_BASE + 0x214u)
#define ADC_FIFO_DMA_EN      (ADC_BASE + 0x24Cu)
#define ADC_FIFO_TRI_LVL     (ADC_BASE + 0x260u)  /* bits 6:2 trigger level */
#define ADC_FIFO_DEBUG16     (ADC_BASE + 0x2D4u)  /* 4:0 read pointer, 9:5 write pointer */
#define IRQ_ADC              70u
#define ADC_DMA_CHANNEL      29u

/* ---- I2S n (0x380D0000 + n * 0x10000, IRQ 68 + n; FIFO port 0x380F0000 + n * 0x10000; DMA 25 + 2n / 26 + 2n) ---- */
#define I2S_BASE(n)          (0x380D0000u + (uint32_t)(n) * 0x10000u)
#define I2S_FIFO_PORT(n)     (0x380F0000u + (uint32_t)(n) * 0x10000u)
#define I2S_GLOBAL_CONTROL   0x00u
#define I2S_DL_CONTROL       0x04u
#define I2S_UL_CONTROL       0x08u
#define I2S_SOFT_RESET       0x0Cu
#define I2S_DMA_IF_CONTROL   0x30u
#define I2S_GLOBAL_INT_EN    0x40u
#define I2S_GLOBAL_INT_STS_CLR 0x44u
#define I2S_GLOBAL_INT_STS   0x48u
#define I2S_DMA_TX(n)        (25u + 2u * (n))
#define I2S_DMA_RX(n)        (26u + 2u * (n))

/* ---- GPIOIF counters of GPIO block n (registers at the block's 0x100..0x154, IRQ 71 + n) ---- */
#define GPIOIF_BASE(n)       (0x38010000u + (uint32_t)(n) * 0x10000u)
#define GPIO_GLOBAL_CTRL     0x000u  /* bit0 CNT_MODE_EN, bit1 CR_SW_RST_B, bit3 CNT_CLK_EN */
#define GPIO_CNT_STATIC_CTRL0 0x100u
#define GPIO_CNT_STATIC_CTRL3 0x10Cu
#define GPIO_CNT_DYNAMIC_CTRL0 0x110u
#define GPIO_CNT_RST_VAL     0x120u
#define GPIO_CNT_LOW_LIMIT   0x124u
#define GPIO_CNT_HIGH_LIMIT  0x128u
#define GPIO_CNT_INT_EN      0x130u
#define GPIO_CNT_INT_STS_CLR 0x134u
#define GPIO_CNT_INT_STS     0x138u
#define GPIO_CNT_CAP_FIFO_STS 0x140u
#define GPIO_CNT_CAP_VALUE_0 0x144u
#define GPIO_CNT_COUNTER_VALUE 0x14Cu
#define IRQ_GPIO_CNT(n)      (71u + (n))

/* ---- Waiting for a driver's interrupt ---- */
/* Sleeps (WFI) until an interrupt handler sets *flag; with `consume` the flag is cleared for the next wait. The
 * flag is checked with interrupts masked, so an interrupt that fires between the check and the WFI still wakes the
 * core (a pending interrupt ends WFI even while PRIMASK masks it: ARMv7-M Architecture Reference Manual, B1.5.19)
 * and is taken once they are enabled again. */
static inline void wait_irq_flag(volatile bool *flag, bool consume)
{
    cpu_irq_disable();
    while (!*flag) {
        cpu_wfi();
        cpu_irq_enable();
        cpu_irq_disable();
    }
    if (consume) {
        *flag = false;
    }
    cpu_irq_enable();
}

#endif
