"""The project's Renode types (C# compiled by Renode: MT3620Bridge.cs, the bridged-block shim; MT3620_UART.cs), shipped as package data; mt3620.resc includes them."""
