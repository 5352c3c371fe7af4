/* The Applibs ABI the SDK's headers define (Microsoft Learn reference and the samples): sizes, offsets and values
 * that SDK-built binaries bake in. A mismatch fails to compile. */
#define UART_STRUCTS_VERSION 1
#include <applibs/adc.h>
#include <applibs/application.h>
#include <applibs/eventloop.h>
#include <applibs/gpio.h>
#include <applibs/i2c.h>
#include <applibs/log.h>
#include <applibs/powermanagement.h>
#include <applibs/pwm.h>
#include <applibs/rtc.h>
#include <applibs/spi.h>
#include <applibs/storage.h>
#include <applibs/sysevent.h>
#include <applibs/uart.h>

#include <stddef.h>
#include <sys/epoll.h>

_Static_assert(sizeof(UART_Config) == 16, "UART_Config v1: two u32 and five u8, padded to 16 bytes");
_Static_assert(offsetof(UART_Config, baudRate) == 4 && offsetof(UART_Config, blockingMode) == 8 &&
                   offsetof(UART_Config, dataBits) == 9 && offsetof(UART_Config, parity) == 10 &&
                   offsetof(UART_Config, stopBits) == 11 && offsetof(UART_Config, flowControl) == 12,
               "UART_Config field offsets");
_Static_assert(z__UART_CONFIG_MAGIC == 0xde2a0000u, "UART config magic");
_Static_assert(sizeof(PwmState) == 16 && offsetof(PwmState, polarity) == 8 && offsetof(PwmState, enabled) == 12,
               "PwmState layout");
_Static_assert(sizeof(SysEvent_Info_UpdateData) == 8, "SysEvent_Info_UpdateData layout");
_Static_assert(EventLoop_Input == EPOLLIN && EventLoop_Output == EPOLLOUT && EventLoop_Error == EPOLLERR,
               "EventLoop_IoEvents are epoll's");
_Static_assert(EventLoop_Run_Failed == -1 && EventLoop_Run_FinishedEmpty == 0 && EventLoop_Run_Finished == 1,
               "EventLoop_Run_Result");
_Static_assert(sizeof(GPIO_Value_Type) == 1 && sizeof(GPIO_OutputMode_Type) == 1 && GPIO_OutputMode_OpenSource == 2,
               "GPIO types");
_Static_assert(SysEvent_Events_UpdateReadyForInstall == 1 && SysEvent_Events_UpdateStarted == 2 &&
                   SysEvent_Events_NoUpdateAvailable == 4 && SysEvent_Status_Complete == 4 &&
                   SysEvent_UpdateType_System == 2,
               "SysEvent values");
_Static_assert(PowerManagement_PowerSaver == 0 && PowerManagement_Balanced == 1 &&
                   PowerManagement_HighPerformance == 2,
               "power profiles");
_Static_assert(UART_Parity_Odd == 2 && UART_StopBits_Two == 2 && UART_FlowControl_XONXOFF == 2 &&
                   UART_DataBits_Eight == 8,
               "UART values");

_Static_assert(sizeof(SPIMaster_Config) == 8 && sizeof(SPIMaster_Transfer) == 20 &&
                   offsetof(SPIMaster_Transfer, writeData) == 8 && offsetof(SPIMaster_Transfer, length) == 16,
               "SPI v1 layouts");
_Static_assert(z__SPIMASTER_CONFIG_MAGIC == 0x45170000u && z__SPIMASTER_TRANSFER_MAGIC == 0x22130000u, "SPI magics");
_Static_assert(SPI_Mode_3 == 4 && SPI_BitOrder_MsbFirst == 2 && SPI_ChipSelectPolarity_ActiveHigh == 2 &&
                   SPI_TransferFlags_Write == 2 && SPI_MASTER_MAX_TRANSFERS == 256,
               "SPI values");
_Static_assert(sizeof(struct z__iio_chan_spec) == 76 && sizeof(struct z__iio_chan_spec_buffer) == 16 &&
                   sizeof(struct z__iio_raw_channel_info) == 20 && sizeof(struct z__iio_chan_ext_info) == 20 &&
                   offsetof(struct z__iio_chan_spec, ext_info) == 60,
               "the IIO ioctl structs the ADC functions and the OS share (sphere_os/services/adc.py)");
_Static_assert(I2C_BUS_SPEED_FAST_PLUS == 1000000 && sizeof(I2C_DeviceAddress) == 4, "I2C values");

int main(void)
{
    Log_Debug("abi ok\n");
    return 0;
}
