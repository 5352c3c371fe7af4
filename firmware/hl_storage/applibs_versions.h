/* The Applibs struct versions this app is written against (the samples' applibs_versions.h mechanism). */
#pragma once

#define UART_STRUCTS_VERSION 1
#define SPI_STRUCTS_VERSION 1
