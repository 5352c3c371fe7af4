// MT3620 UART for Renode: the IO cores' debug UART (0x21040000, IRQ 4), the ISU UARTs (0x38070500 + n*0x10000,
// IRQ 47 + 4n) and the A7's debug UART (0x31040000). Loaded by mt3620.resc with `include`; a Renode IUART, so
// `showAnalyzer`, socket terminals and Robot's `Wait For Line On Uart` attach to it.
//
// The register interface is a 16550 with a 32-bit stride (as Renode's UART.NS16550 with wideRegisters) plus the
// MediaTek extensions; layout and bank rules: CodethinkLabs/mt3620-m4-drivers mt3620/uart.h (mt3620_uart_t),
// bring-up and baud arithmetic: the same repository's UART.c. UART.NS16550 itself does not fit: its window is
// 0x100 with every register past SCR logged as unsupported (TX_OFFSET, read by interrupt-driven drivers, would
// log on each byte), it has no EFR bank and it transmits in zero time.
//
// This is the Renode twin of the embedded engine's model, peripherals/uart/mt3620_uart.py (the same registers,
// banks, FIFOs, trigger levels, interrupt priorities and frame timing in virtual time); tests/renode runs the same
// firmware on both and compares the bytes. Not here: the ISU virtual-FIFO DMA handshake (the DMA is a bridged
// model, this UART is not; docs/renode.md).
using System;
using System.Collections.Generic;

using Antmicro.Migrant;
using Antmicro.Renode.Core;
using Antmicro.Renode.Logging;
using Antmicro.Renode.Peripherals.Bus;
using Antmicro.Renode.Time;
using Antmicro.Renode.Utilities;

namespace Antmicro.Renode.Peripherals.UART
{
    public class MT3620_UART : IDoubleWordPeripheral, IBytePeripheral, IKnownSize, IUART
    {
        // preconfigured: the Azure Sphere OS brings the debug UARTs up before an RTApp runs (115200 8N1, FIFOs on;
        // emulator-defined); ISU UARTs start with FIFOs off until the app opens them.
        public MT3620_UART(IMachine machine, long size = 0x100, bool preconfigured = false)
        {
            this.machine = machine;
            this.size = size;
            this.preconfigured = preconfigured;
            IRQ = new GPIO();
            Reset();
        }

        public GPIO IRQ { get; }

        public long Size => size;

        public uint BaudRate
        {
            get
            {
                lock(sync)
                {
                    var x10 = BitTimeX10Cycles();
                    return x10 == 0 ? DefaultBaud : (uint)(UartClockHz * 10 / x10);
                }
            }
        }

        public Bits StopBits => (lcr & 0x04) == 0 ? Bits.One : ((lcr & 3) == 0 ? Bits.OneAndAHalf : Bits.Two);

        public Parity ParityBit
        {
            get
            {
                if((lcr & 0x08) == 0)
                {
                    return Parity.None;
                }
                if((lcr & 0x20) != 0)
                {
                    return (lcr & 0x10) == 0 ? Parity.Forced1 : Parity.Forced0;
                }
                return (lcr & 0x10) == 0 ? Parity.Odd : Parity.Even;
            }
        }

        [field: Transient]
        public event Action<byte> CharReceived;

        // Each transmitted byte with the virtual time in nanoseconds at which its stop bit ended (what the
        // embedded engine's UART listeners get; mt3620/testing/renode_backend.py records lines with it).
        [field: Transient]
        public event Action<byte, ulong> CharTransmitted;

        public void Reset()
        {
            lock(sync)
            {
                generation++;           // scheduled frame and timeout events of before the reset do nothing
                dll = 1; dlm = 0; efr = 0; xon1 = 0; xon2 = 0; xoff1 = 0; xoff2 = 0;
                ier = 0;
                fcr = preconfigured ? FcrFifoEnable : (byte)0;
                lcr = 0x03;
                mcr = 0; scr = 0; lsrErrors = 0;
                rxLevelCtl = 0; highSpeed = 3; sampleCount = 224; samplePoint = 110; guard = 0;
                escapeDat = 0xFF; escapeEn = 0; swRtoLimit = 0; vfifoEn = 0; rxTrig = 0;
                fracDivL = 0xEF; fracDivM = 1; extendAdd = 0;
                rxFifo.Clear(); txFifo.Clear(); rxPending.Clear();
                txShifting = false; rxScheduled = false;
                rxTimeout = false; rxTimeoutArmed = false;
                threPending = false;
                TxOverruns = 0;
                UpdateIrq();
            }
        }

        // Bytes from outside (terminal, analyzer, tests) arrive on RX one frame time apart.
        public void WriteChar(byte value)
        {
            lock(sync)
            {
                rxPending.Enqueue(value);
                if(!rxScheduled)
                {
                    ScheduleRx();
                }
            }
        }

        public byte ReadByte(long offset) => (byte)ReadDoubleWord(offset);

        public void WriteByte(long offset, byte value) => WriteDoubleWord(offset, value);

        public uint ReadDoubleWord(long offset)
        {
            lock(sync)
            {
                var bank = Bank();
                switch(offset)
                {
                case 0x00:
                    return bank != RegBank.Normal ? dll : ReadRbr();
                case 0x04:
                    return bank != RegBank.Normal ? dlm : ier;
                case 0x08:
                    return bank == RegBank.Efr ? efr : ReadIir();
                case 0x0C:
                    return lcr;
                case 0x10:
                    return bank == RegBank.Efr ? xon1 : mcr;
                case 0x14:
                    return bank == RegBank.Efr ? xon2 : ReadLsr();
                case 0x18:
                    return bank == RegBank.Efr ? xoff1 : ReadMsr();
                case 0x1C:
                    return bank == RegBank.Efr ? xoff2 : scr;
                case 0x20: return rxLevelCtl;
                case 0x24: return highSpeed;
                case 0x28: return sampleCount;
                case 0x2C: return samplePoint;
                case 0x3C: return guard;
                case 0x40: return escapeDat;
                case 0x44: return escapeEn;
                case 0x48: return swRtoLimit;
                case 0x4C:
                    // CTD UART.c: reading VFIFO_EN acknowledges the RX timeout interrupt.
                    if(rxTimeout)
                    {
                        rxTimeout = false;
                        UpdateIrq();
                    }
                    return vfifoEn;
                case 0x50: return rxTrig;
                case 0x54: return fracDivL;
                case 0x58: return fracDivM;
                case 0x5C: return fcr & 0xF1u;       // FCR_RD
                case 0x64: return extendAdd;
                case 0x68: return (uint)rxFifo.Count; // RX_OFFSET
                case 0x6C: return (uint)txFifo.Count; // TX_OFFSET: bytes waiting in the TX FIFO
                case 0x70:
                    switch(IirId())
                    {
                    case IirLineStatus: return 0x01;
                    case IirRxTimeout: return 0x02;
                    case IirRxData: return 0x04;
                    case IirThre: return 0x08;
                    default: return 0;
                    }
                default:
                    this.Log(LogLevel.Warning, "read of unmodelled offset 0x{0:X} (reads as 0)", offset);
                    return 0;
                }
            }
        }

        public void WriteDoubleWord(long offset, uint value)
        {
            lock(sync)
            {
                var bank = Bank();
                var b = (byte)value;
                switch(offset)
                {
                case 0x00:
                    if(bank != RegBank.Normal)
                    {
                        dll = b;
                    }
                    else
                    {
                        threPending = false;
                        TxEnqueue(b);
                        UpdateIrq();
                    }
                    break;
                case 0x04:
                    if(bank != RegBank.Normal)
                    {
                        dlm = b;
                    }
                    else
                    {
                        var old = ier;
                        ier = (byte)(b & 0xEF);     // bit 4 reserved
                        // Enabling the THR-empty interrupt while the condition holds raises it (16550 behaviour).
                        if((ier & IerEtbei) != 0 && (old & IerEtbei) == 0 && ThrCondition())
                        {
                            threPending = true;
                        }
                        UpdateIrq();
                    }
                    break;
                case 0x08:
                    if(bank == RegBank.Efr)
                    {
                        efr = (byte)(b & 0xDF);
                    }
                    else
                    {
                        WriteFcr(b);
                    }
                    break;
                case 0x0C:
                    lcr = b;
                    UpdateIrq();
                    break;
                case 0x10:
                    if(bank == RegBank.Efr) { xon1 = b; } else { mcr = (byte)(b & 0x1F); }
                    break;
                case 0x14:
                    if(bank == RegBank.Efr) { xon2 = b; }     // LSR itself is read-only
                    break;
                case 0x18:
                    if(bank == RegBank.Efr) { xoff1 = b; }    // MSR itself is read-only
                    break;
                case 0x1C:
                    if(bank == RegBank.Efr) { xoff2 = b; } else { scr = b; }
                    break;
                case 0x20: rxLevelCtl = (byte)(b & 0xC0); break;
                case 0x24: highSpeed = (byte)(b & 3); break;
                case 0x28: sampleCount = b; break;
                case 0x2C: samplePoint = b; break;
                case 0x3C: guard = (byte)(b & 0x1F); break;
                case 0x40: escapeDat = b; break;
                case 0x44: escapeEn = (byte)(b & 1); break;
                case 0x48: swRtoLimit = (byte)(b & 0xFE); break;
                case 0x4C: vfifoEn = (byte)(b & 1); break;
                case 0x50: rxTrig = (byte)(b & 0x3F); break;
                case 0x54: fracDivL = b; break;
                case 0x58: fracDivM = (byte)(b & 3); break;
                case 0x64: extendAdd = (byte)(b & 7); break;
                case 0x5C:
                case 0x68:
                case 0x6C:
                case 0x70:
                    break;                          // read-only
                default:
                    this.Log(LogLevel.Warning, "write 0x{0:X} to unmodelled offset 0x{1:X} (ignored)", value, offset);
                    break;
                }
            }
        }

        public ulong TxOverruns { get; private set; }

        // ---- derived values -----------------------------------------------------------------------------------
        private RegBank Bank()
        {
            if(lcr == LcrEfrBank)
            {
                return RegBank.Efr;
            }
            return (lcr & LcrDlab) != 0 ? RegBank.Dlab : RegBank.Normal;
        }

        private bool FifoEnabled => (fcr & FcrFifoEnable) != 0;

        private int Depth => FifoEnabled ? FifoDepth : 1;

        private int FrameBits => 1 + 5 + (lcr & 3) + ((lcr & 0x08) != 0 ? 1 : 0) + ((lcr & 0x04) != 0 ? 2 : 1);

        // Ten bit times in UART clock cycles (an integer, so fractional dividers stay exact).
        private ulong BitTimeX10Cycles()
        {
            ulong dl = ((ulong)dlm << 8) | dll;
            if(dl == 0)
            {
                return 0;
            }
            switch(highSpeed & 3)
            {
            case 0: return 10 * 16 * dl;
            case 1: return 10 * 8 * dl;
            case 2: return 10 * 4 * dl;
            default:
                // HIGHSPEED 3: each bit lasts SAMPLE_COUNT + 1 divided clocks; the ten FRACDIV bits add one clock to
                // the corresponding bit of a 10-bit frame (CTD UART.c UART_Open / mt3620_uart_fract_lut).
                var frac = ((fracDivM & 3u) << 8) | fracDivL;
                return dl * (10 * ((ulong)sampleCount + 1) + PopCount(frac));
            }
        }

        private ulong FrameNanoseconds()
        {
            var x10 = BitTimeX10Cycles();
            var bits = (ulong)FrameBits;
            ulong ps;
            if(x10 == 0)
            {
                // A zero divisor is not a working configuration; the line stays at 115200.
                ps = (bits * PsPerSecond + DefaultBaud - 1) / DefaultBaud;
            }
            else
            {
                var num = bits * x10 * PsPerSecond;
                var den = 10 * UartClockHz;
                ps = (num + den - 1) / den;
            }
            return (ps + 999) / 1000;
        }

        private int RxTrigger()
        {
            if(!FifoEnabled)
            {
                return 1;
            }
            switch((fcr >> 6) & 3)
            {
            case 0: return 1;
            case 1: return 6;
            case 2: return 12;
            default: return Math.Min(FifoDepth, Math.Max(1, rxTrig & 0x3F));
            }
        }

        private int TxTrigger()
        {
            if(!FifoEnabled)
            {
                return 0;
            }
            switch((fcr >> 4) & 3)
            {
            case 0: return 0;
            case 1: return 4;
            case 2: return 8;
            default: return 14;
            }
        }

        private bool ThrCondition() => txFifo.Count <= TxTrigger();

        private uint Lsr()
        {
            uint value = lsrErrors;
            if(rxFifo.Count > 0)
            {
                value |= LsrDr;
            }
            if(txFifo.Count == 0)
            {
                value |= LsrThre;
                if(!txShifting)
                {
                    value |= LsrTemt;
                }
            }
            return value;
        }

        // Highest-priority pending interrupt: line status > RX data > RX timeout > THR empty.
        private byte IirId()
        {
            if((ier & IerElsi) != 0 && (lsrErrors & LsrErrors) != 0)
            {
                return IirLineStatus;
            }
            if((ier & IerErbfi) != 0)
            {
                if(rxFifo.Count > 0 && rxFifo.Count >= RxTrigger())
                {
                    return IirRxData;
                }
                if(rxTimeout && rxFifo.Count > 0)
                {
                    return IirRxTimeout;
                }
            }
            if((ier & IerEtbei) != 0 && threPending)
            {
                return IirThre;
            }
            return IirNone;
        }

        private void UpdateIrq()
        {
            IRQ.Set(IirId() != IirNone);
        }

        // ---- register side effects ----------------------------------------------------------------------------
        private uint ReadRbr()
        {
            if(rxFifo.Count == 0)
            {
                return 0;
            }
            var value = rxFifo.Dequeue();
            rxTimeout = false;
            RestartRxTimeout();
            UpdateIrq();
            return value;
        }

        private uint ReadIir()
        {
            var ident = IirId();
            if(ident == IirThre)
            {
                // Reading IIR while it reports THR empty acknowledges that interrupt (16550 behaviour).
                threPending = false;
                UpdateIrq();
            }
            return (uint)ident | (FifoEnabled ? 0xC0u : 0u);
        }

        private uint ReadLsr()
        {
            var value = Lsr();
            // Error bits clear when LSR is read (16550 behaviour).
            if(lsrErrors != 0)
            {
                lsrErrors = 0;
                UpdateIrq();
            }
            return value;
        }

        private uint ReadMsr()
        {
            if((mcr & 0x10) != 0)
            {
                // Loopback: CTS <- RTS, DSR <- DTR, RI <- OUT1, DCD <- OUT2.
                uint m = mcr;
                return ((m & 2) << 3) | ((m & 1) << 5) | ((m & 4) << 4) | ((m & 8) << 4);
            }
            return 0xB0;    // no modem partner: CTS, DSR and DCD read as asserted
        }

        private void WriteFcr(byte value)
        {
            var wasEnabled = FifoEnabled;
            fcr = (byte)(value & 0xF1);     // CLRR/CLRT self-clear; bit 3 reserved
            if((value & FcrClearRx) != 0 || wasEnabled != FifoEnabled)
            {
                rxFifo.Clear();
                rxTimeout = false;
            }
            if((value & FcrClearTx) != 0 || wasEnabled != FifoEnabled)
            {
                txFifo.Clear();
                if(ThrCondition())
                {
                    threPending = (ier & IerEtbei) != 0;
                }
            }
            UpdateIrq();
        }

        // ---- transmitter --------------------------------------------------------------------------------------
        private void TxEnqueue(byte value)
        {
            if(txFifo.Count >= Depth)
            {
                TxOverruns++;
                this.Log(LogLevel.Info, "THR write 0x{0:X2} with a full TX FIFO: byte dropped", value);
                return;
            }
            txFifo.Enqueue(value);
            if(!txShifting)
            {
                StartNextFrame();
            }
        }

        // A frame starts when the previous one ends (startNs), or now when the transmitter was idle.
        private void StartNextFrame(ulong? startNs = null)
        {
            if(txFifo.Count == 0)
            {
                return;
            }
            var value = txFifo.Dequeue();
            txShifting = true;
            var gen = generation;
            var done = (startNs ?? NowNanoseconds()) + FrameNanoseconds();
            machine.ScheduleAction(DelayUntil(done), _ => TxDone(gen, value, done), "mt3620-uart-tx");
            if(ThrCondition() && (ier & IerEtbei) != 0)
            {
                threPending = true;
            }
        }

        private void TxDone(ulong gen, byte value, ulong doneNs)
        {
            Action<byte> sink = null;
            Action<byte, ulong> timedSink = null;
            lock(sync)
            {
                if(gen != generation)
                {
                    return;
                }
                txShifting = false;
                if((mcr & 0x10) != 0)
                {
                    Receive(value);             // loopback: the frame goes to our own receiver
                }
                else
                {
                    sink = CharReceived;
                    timedSink = CharTransmitted;
                }
                StartNextFrame(doneNs);
                if(ThrCondition() && (ier & IerEtbei) != 0)
                {
                    threPending = true;
                }
                UpdateIrq();
            }
            sink?.Invoke(value);
            timedSink?.Invoke(value, doneNs);
        }

        // The virtual time of the core that is accessing the UART (its own clock inside its quantum, as the embedded
        // engine's models see it); outside a core's thread, the machine's time.
        private ulong NowNanoseconds()
        {
            if(machine.SystemBus.TryGetCurrentCPU(out var cpu))
            {
                cpu.SyncTime();
            }
            return TimeDomainsManager.Instance.GetEffectiveVirtualTimeStamp().TimeElapsed.TotalNanoseconds;
        }

        // Renode schedules from the machine's time: the common time of its cores, which trails the running core.
        private TimeInterval DelayUntil(ulong dueNs)
        {
            var machineNs = machine.ElapsedVirtualTime.TimeElapsed.TotalNanoseconds;
            return TimeInterval.FromNanoseconds(dueNs > machineNs ? dueNs - machineNs : 0);
        }

        // ---- receiver -----------------------------------------------------------------------------------------
        private void ScheduleRx()
        {
            rxScheduled = true;
            var gen = generation;
            machine.ScheduleAction(DelayUntil(NowNanoseconds() + FrameNanoseconds()), _ => RxArrive(gen), "mt3620-uart-rx");
        }

        private void RxArrive(ulong gen)
        {
            lock(sync)
            {
                if(gen != generation)
                {
                    return;
                }
                rxScheduled = false;
                if(rxPending.Count > 0)
                {
                    Receive(rxPending.Dequeue());
                }
                if(rxPending.Count > 0)
                {
                    ScheduleRx();
                }
            }
        }

        private void Receive(byte value)
        {
            if(rxFifo.Count >= Depth)
            {
                lsrErrors |= LsrOe;         // overrun: the new byte is lost
            }
            else
            {
                rxFifo.Enqueue(value);
            }
            RestartRxTimeout();
            UpdateIrq();
        }

        // RX timeout: data below the trigger level and no activity for four character times.
        private void RestartRxTimeout()
        {
            timeoutGeneration++;
            rxTimeoutArmed = false;
            if(rxFifo.Count == 0)
            {
                return;
            }
            rxTimeoutArmed = true;
            var gen = generation;
            var tgen = timeoutGeneration;
            machine.ScheduleAction(DelayUntil(NowNanoseconds() + 4 * FrameNanoseconds()), _ => RxTimeoutFire(gen, tgen), "mt3620-uart-rto");
        }

        private void RxTimeoutFire(ulong gen, ulong tgen)
        {
            lock(sync)
            {
                if(gen != generation || tgen != timeoutGeneration || !rxTimeoutArmed)
                {
                    return;
                }
                rxTimeoutArmed = false;
                if(rxFifo.Count > 0)
                {
                    rxTimeout = true;
                    UpdateIrq();
                }
            }
        }

        private static ulong PopCount(uint v)
        {
            ulong n = 0;
            for(; v != 0; v &= v - 1)
            {
                n++;
            }
            return n;
        }

        private byte dll, dlm, efr, xon1, xon2, xoff1, xoff2;
        private byte ier, fcr, lcr, mcr, scr, lsrErrors;
        private byte rxLevelCtl, highSpeed, sampleCount, samplePoint, guard, escapeDat, escapeEn, swRtoLimit;
        private byte vfifoEn, rxTrig, fracDivL, fracDivM, extendAdd;
        private bool txShifting, rxScheduled, rxTimeout, rxTimeoutArmed, threPending;
        private ulong generation, timeoutGeneration;

        private readonly Queue<byte> rxFifo = new Queue<byte>();
        private readonly Queue<byte> txFifo = new Queue<byte>();
        private readonly Queue<byte> rxPending = new Queue<byte>();
        private readonly object sync = new object();
        private readonly IMachine machine;
        private readonly long size;
        private readonly bool preconfigured;

        private const ulong UartClockHz = 26000000;     // CTD uart.h MT3620_UART_CLOCK
        private const ulong PsPerSecond = 1000000000000;
        private const uint DefaultBaud = 115200;
        private const int FifoDepth = 16;               // CTD uart.h MT3620_UART_TX/RX_FIFO_DEPTH
        private const byte LcrDlab = 0x80;
        private const byte LcrEfrBank = 0xBF;
        private const byte FcrFifoEnable = 0x01;
        private const byte FcrClearRx = 0x02;
        private const byte FcrClearTx = 0x04;
        private const byte IerErbfi = 0x01;
        private const byte IerEtbei = 0x02;
        private const byte IerElsi = 0x04;
        private const uint LsrDr = 0x01;
        private const byte LsrOe = 0x02;
        private const uint LsrThre = 0x20;
        private const uint LsrTemt = 0x40;
        private const byte LsrErrors = 0x1E;
        // IIR interrupt identifiers (CTD uart.h mt3620_uart_iir_id_e)
        private const byte IirNone = 0x01;
        private const byte IirThre = 0x02;
        private const byte IirRxData = 0x04;
        private const byte IirLineStatus = 0x06;
        private const byte IirRxTimeout = 0x0C;

        private enum RegBank
        {
            Normal,
            Dlab,
            Efr
        }
    }
}
