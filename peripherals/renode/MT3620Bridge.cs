// The MT3620 blocks Renode serves through the project's CPython models: one shim type, its connection to the
// bridge process (`mt3620 renode-bridge`, engine/renode/bridge.py describes the protocol), and the Monitor
// commands mt3620.resc uses. Loaded with `include @peripherals/renode/MT3620Bridge.cs` (mt3620.resc does it
// through $ORIGIN, so it works from any working directory); docs/renode.md is the user's guide.
//
// MT3620.BridgedPeripheral is the one shim: a bus peripheral whose every access is a request to the bridge, with
// 32 GPIO outputs that Renode wires like any other (`[0, 1] -> nvic0@[1, 2]` in platforms/blocks/*.repl) and GPIO
// inputs (a Miscellaneous.Button's `-> gpio3@0`). Which model serves an entry is named in the platform file Renode
// does not load (platforms/mt3620-bridged.repl, `model:`); the bridge refuses to start when one cannot be
// resolved, and refuses an entry it does not serve, so a typo is a load error, never a silent block.
//
// Monitor commands (extension methods):
//   machine LoadMT3620Platform @a7.repl @a15.repl   loads the first when this Renode's ARMv7A has "cortex-a7"
//   machine StartMT3620Bridge "python3" @mt3620.repl ["127.0.0.1:PORT:TOKEN"]
//                                                  starts the bridge for this machine (or uses the running one
//                                                  given), connects and resets it
//   machine MT3620BridgeStatus                      what the connection is doing
//   cpuM4_0 LoadRTApp @app.out                     loads an RTApp ELF into that core's view; VTOR = e_entry
//                                                  ("" leaves the core halted)
//
// One connection per machine, shared by its shims and guarded by one lock: CPU threads, Renode's clock entries
// (the scheduled wake-ups) and the Monitor all send requests. Every request carries the machine's virtual time in
// nanoseconds since the bridge was last reset (a new session, or `machine Reset`: Renode's clock does not go back,
// the bridge's does), so a second session or a reset machine starts the models at t = 0.
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

using Antmicro.Renode.Core;
using Antmicro.Renode.Core.Extensions;
using Antmicro.Renode.Core.Structure;
using Antmicro.Renode.Exceptions;
using Antmicro.Renode.Logging;
using Antmicro.Renode.Peripherals.Bus;
using Antmicro.Renode.Peripherals.CPU;
using Antmicro.Renode.Peripherals.IRQControllers;
using Antmicro.Renode.PlatformDescription.UserInterface;
using Antmicro.Renode.Time;
using Antmicro.Renode.Utilities;

namespace Antmicro.Renode.Peripherals.MT3620
{
    public class BridgedPeripheral : IBytePeripheral, IWordPeripheral, IDoubleWordPeripheral, IKnownSize,
        INumberedGPIOOutput, IGPIOReceiver, IDisposable,
        IRegisterablePeripheral<IGPIOReceiver, NumberRegistrationPoint<int>>,
        IRegisterablePeripheral<IGPIOSender, NumberRegistrationPoint<int>>,
        IRegisterablePeripheral<IGPIOReceiver, NullRegistrationPoint>,
        IRegisterablePeripheral<IGPIOSender, NullRegistrationPoint>
    {
        public BridgedPeripheral(IMachine machine, long size)
        {
            if(size <= 0)
            {
                throw new ConstructionException("size must be positive");
            }
            this.machine = machine;
            this.size = size;
            var outputs = new Dictionary<int, IGPIO>();
            for(var i = 0; i < Outputs; i++)
            {
                outputs[i] = new GPIO();
            }
            Connections = new ReadOnlyDictionary<int, IGPIO>(outputs);
            bridge = BridgeConnection.For(machine);
            bridge.Add(this);
        }

        public IReadOnlyDictionary<int, IGPIO> Connections { get; }

        // Registers the bridge said read as a function of time until its next request (LIN); used under its lock.
        public Dictionary<long, LinearRead> LinearReads { get; } = new Dictionary<long, LinearRead>();

        public long Size => size;

        public byte ReadByte(long offset) => (byte)bridge.Read(this, offset, 1);

        public ushort ReadWord(long offset) => (ushort)bridge.Read(this, offset, 2);

        public uint ReadDoubleWord(long offset) => (uint)bridge.Read(this, offset, 4);

        public void WriteByte(long offset, byte value) => bridge.Write(this, offset, 1, value);

        public void WriteWord(long offset, ushort value) => bridge.Write(this, offset, 2, value);

        public void WriteDoubleWord(long offset, uint value) => bridge.Write(this, offset, 4, value);

        // A line into this block (a button, a pad driven from outside): input n of the model.
        public void OnGPIO(int number, bool value)
        {
            lock(inputs)
            {
                inputs[number] = value;
            }
            bridge.Input(this, number, value);
        }

        // The bridge resets every model at once when the machine resets (BridgeConnection.OnMachineReset).
        public void Reset()
        {
        }

        public void Dispose()
        {
            bridge.Remove(this);
        }

        // LEDs and buttons hang under the GPIO block they are wired to (the `peripherals` tree).
        public void Register(IGPIOReceiver peripheral, NumberRegistrationPoint<int> registrationPoint)
        {
            machine.RegisterAsAChildOf(this, peripheral, registrationPoint);
        }

        public void Register(IGPIOSender peripheral, NumberRegistrationPoint<int> registrationPoint)
        {
            machine.RegisterAsAChildOf(this, peripheral, registrationPoint);
        }

        public void Register(IGPIOReceiver peripheral, NullRegistrationPoint registrationPoint)
        {
            machine.RegisterAsAChildOf(this, peripheral, registrationPoint);
        }

        public void Register(IGPIOSender peripheral, NullRegistrationPoint registrationPoint)
        {
            machine.RegisterAsAChildOf(this, peripheral, registrationPoint);
        }

        public void Unregister(IGPIOReceiver peripheral)
        {
            machine.UnregisterAsAChildOf(this, peripheral);
        }

        public void Unregister(IGPIOSender peripheral)
        {
            machine.UnregisterAsAChildOf(this, peripheral);
        }

        public string Name => machine.TryGetLocalName(this, out var name) ? name : null;

        internal KeyValuePair<int, bool>[] InputLevels()
        {
            lock(inputs)
            {
                return inputs.ToArray();
            }
        }

        internal void SetOutput(int number, bool level)
        {
            if(Connections.TryGetValue(number, out var gpio))
            {
                gpio.Set(level);
            }
            else
            {
                this.Log(LogLevel.Warning, "the bridge drives output {0}, beyond this shim's {1}", number, Outputs);
            }
        }

        public const int Outputs = 32;

        private readonly Dictionary<int, bool> inputs = new Dictionary<int, bool>();
        private readonly IMachine machine;
        private readonly long size;
        private readonly BridgeConnection bridge;
    }

    public static class MT3620Extensions
    {
        // The platform with the A7 as "cortex-a7" when this Renode's ARMv7A knows that type (tlib gained it after
        // 1.16.1), else the cortex-a15 stand-in: a throw-away CPU in a machine of its own answers the question.
        public static void LoadMT3620Platform(this Machine machine, ReadFilePath a7Platform, ReadFilePath a15Platform)
        {
            var a7 = ArmCpuTypeAvailable("cortex-a7");
            var path = a7 ? a7Platform : a15Platform;
            Logger.Log(LogLevel.Info, "mt3620: this Renode {0} cortex-a7: loading {1}", a7 ? "has" : "has no", (string)path);
            machine.LoadPlatformDescription(path);
            ReportCortexM4Id(machine);
        }

        // CPUID of the IO cores: Renode's "cortex-m4f" (the Cortex-M4 with the FPU) reports a Cortex-M7's
        // (0x411FC272), and NVIC keeps it in a private field with no setter; the MT3620's IO cores are Cortex-M4F,
        // reported as r0p1 (0x410FC241) as the embedded engine does (engine/cortex_m/scs.py).
        public static void ReportCortexM4Id(Machine machine)
        {
            var field = typeof(NVIC).GetField("cpuId", BindingFlags.NonPublic | BindingFlags.Instance);
            if(field == null)
            {
                Logger.Log(LogLevel.Warning, "mt3620: this Renode's NVIC keeps no cpuId field: CPUID stays as its model says");
                return;
            }
            foreach(var nvic in machine.GetPeripheralsOfType<NVIC>())
            {
                field.SetValue(nvic, CortexM4r0p1);
            }
        }

        private const uint CortexM4r0p1 = 0x410FC241;

        // `emulation MT3620HasCpuType "cortex-a7"`: what LoadMT3620Platform asks, for scripts and tests.
        public static bool MT3620HasCpuType(this Emulation emulation, string cpuType)
        {
            return ArmCpuTypeAvailable(cpuType);
        }

        public static bool ArmCpuTypeAvailable(string cpuType)
        {
            var probe = new Machine();
            try
            {
                new ARMv7A(probe, cpuType).Dispose();
                return true;
            }
            catch(Exception)
            {
                return false;
            }
            finally
            {
                probe.Dispose();
            }
        }

        // Starts `python -m mt3620 renode-bridge` on the platform for this machine, or, when `endpoint` is given
        // (127.0.0.1:PORT:TOKEN or a connection file), uses that running bridge instead.
        public static void StartMT3620Bridge(this IMachine machine, string python, ReadFilePath platform, string endpoint = "")
        {
            if(!string.IsNullOrWhiteSpace(endpoint))
            {
                BridgeConnection.For(machine).Connect(endpoint);
                return;
            }
            BridgeConnection.For(machine).Start(python, platform);
        }

        public static string MT3620BridgeStatus(this IMachine machine)
        {
            return BridgeConnection.For(machine).Status();
        }

        // A core without an app sleeps in WFI forever instead of being halted (emulator-defined): Renode fires its
        // clock events (timers, UART frames, the bridge's wake-ups) when every enabled core has reached them, and a
        // halted core only catches up at quantum ends, which would delay the other core's events to those.
        // The idle image is a vector table (SP at the top of TCM, reset to 0x00100009) and `wfi; b .-2` in TCM.
        public static void IdleInWfi(CortexM cpu)
        {
            var machine = cpu.GetMachine();
            var image = new byte[] { 0x00, 0x00, 0x13, 0x00, 0x09, 0x00, 0x10, 0x00, 0x30, 0xBF, 0xFD, 0xE7 };
            machine.SystemBus.WriteBytes(image, IdleBase, true, cpu);
            cpu.Reset();
            cpu.VectorTableOffset = (uint)IdleBase;
            lock(vectorTables)
            {
                vectorTables[cpu] = (uint)IdleBase;
            }
            cpu.IsHalted = false;
        }

        private const ulong IdleBase = 0x00100000;

        // Where the core's app has its vector table, for a reset that does not load it again (a watchdog's).
        public static uint? LoadedVectorTable(CortexM cpu)
        {
            lock(vectorTables)
            {
                return vectorTables.TryGetValue(cpu, out var vtor) ? vtor : (uint?)null;
            }
        }

        private static readonly Dictionary<CortexM, uint> vectorTables = new Dictionary<CortexM, uint>();

        // An RTApp: every PT_LOAD into the core's own view, then the core starts from the vector table at e_entry
        // (MT3620-FACTS "Loading an RTApp": e_entry is the vector table, word 0 the initial SP, word 1 the reset
        // handler; an XIP app has it at 0x10000000).
        public static void LoadRTApp(this CortexM cpu, string elfPath)
        {
            if(string.IsNullOrWhiteSpace(elfPath))
            {
                IdleInWfi(cpu);
                return;
            }
            if(!File.Exists(elfPath))
            {
                throw new RecoverableException("mt3620: no RTApp at '" + elfPath + "' (build the project's firmware with scripts/build_firmware, or give another ELF)");
            }
            ulong entry;
            using(var elf = ELFUtils.LoadELF(elfPath))
            {
                entry = elf.GetEntryPoint();
            }
            var machine = cpu.GetMachine();
            machine.SystemBus.LoadELF(elfPath, false, cpu);
            cpu.Reset();
            cpu.VectorTableOffset = checked((uint)entry);
            lock(vectorTables)
            {
                vectorTables[cpu] = (uint)entry;
            }
            cpu.IsHalted = false;
        }
    }

    internal sealed class BridgeConnection
    {
        public static BridgeConnection For(IMachine machine)
        {
            lock(registry)
            {
                if(!registry.TryGetValue(machine, out var connection))
                {
                    connection = new BridgeConnection(machine);
                    registry[machine] = connection;
                }
                return connection;
            }
        }

        public void Add(BridgedPeripheral peripheral)
        {
            lock(sync)
            {
                peripherals.Add(peripheral);
                byName = null;
            }
        }

        public void Remove(BridgedPeripheral peripheral)
        {
            lock(sync)
            {
                peripherals.Remove(peripheral);
                byName = null;
                if(peripherals.Count == 0)
                {
                    Close("the machine's bridged blocks are gone");
                }
            }
        }

        public void Start(string python, string platform)
        {
            lock(sync)
            {
                Close(null);
                var args = string.Format("-m mt3620 renode-bridge --platform \"{0}\" --announce --stdin-lifeline", platform);
                var info = new ProcessStartInfo(python, args)
                {
                    UseShellExecute = false,
                    RedirectStandardInput = true,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    CreateNoWindow = true,
                };
                try
                {
                    process = Process.Start(info);
                }
                catch(Exception e)
                {
                    throw new RecoverableException(string.Format("mt3620: cannot start the bridge with '{0}': {1} (set $python to a Python with the mt3620 package, or start `mt3620 renode-bridge` and set $bridge)", python, e.Message));
                }
                var errors = new List<string>();
                process.ErrorDataReceived += (s, e) => { if(e.Data != null) { lock(errors) { errors.Add(e.Data); } Logger.Log(LogLevel.Info, "mt3620 bridge: {0}", e.Data); } };
                process.BeginErrorReadLine();
                string endpoint = null;
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(StartTimeoutSeconds);
                var reading = process.StandardOutput.ReadLineAsync();
                while(endpoint == null)
                {
                    if(!reading.Wait(100))
                    {
                        if(process.HasExited || DateTime.UtcNow > deadline)
                        {
                            break;
                        }
                        continue;
                    }
                    var line = reading.Result;
                    if(line == null)
                    {
                        break;
                    }
                    if(line.StartsWith(AnnouncePrefix, StringComparison.Ordinal))
                    {
                        endpoint = line.Substring(AnnouncePrefix.Length).Trim();
                        break;
                    }
                    Logger.Log(LogLevel.Info, "mt3620 bridge: {0}", line);
                    reading = process.StandardOutput.ReadLineAsync();
                }
                if(endpoint == null)
                {
                    string why;
                    if(!process.WaitForExit(2000))
                    {
                        why = "it did not announce its port within " + StartTimeoutSeconds + " s";
                    }
                    else
                    {
                        process.WaitForExit();
                        lock(errors)
                        {
                            why = "it exited with status " + process.ExitCode + (errors.Count > 0 ? ": " + errors.Last() : "");
                        }
                    }
                    KillProcess();
                    throw new RecoverableException(string.Format("mt3620: the bridge did not start ({0}); command: {1} {2}", why, python, args));
                }
                DrainOutput();
                ConnectLocked(endpoint, "started by Renode, pid " + process.Id);
            }
        }

        public void Connect(string endpoint)
        {
            lock(sync)
            {
                Close(null);
                ConnectLocked(endpoint, "given");
            }
        }

        public string Status()
        {
            lock(sync)
            {
                if(stream == null)
                {
                    return "not connected" + (failure != null ? " (" + failure + ")" : "");
                }
                return string.Format("connected to 127.0.0.1:{0} ({1}), {2} blocks, {3} requests, {4} counter reads answered here", port, how, peripherals.Count, requests, localReads);
            }
        }

        public ulong Read(BridgedPeripheral peripheral, long offset, int width)
        {
            lock(sync)
            {
                if(!Ready(peripheral))
                {
                    return 0;
                }
                if(width == 4 && peripheral.LinearReads.Count > 0 && peripheral.LinearReads.TryGetValue(offset, out var counter))
                {
                    var nowPs = Now() * 1000UL;
                    if(counter.Answers(nowPs))
                    {
                        localReads++;
                        return counter.Value(nowPs);
                    }
                }
                return Request(string.Format(CultureInfo.InvariantCulture, "READ {0} {1} {2} {3} {4}",
                    Name(peripheral), offset, width, Now(), CurrentCpuName()));
            }
        }

        public void Write(BridgedPeripheral peripheral, long offset, int width, ulong value)
        {
            lock(sync)
            {
                if(!Ready(peripheral))
                {
                    return;
                }
                Request(string.Format(CultureInfo.InvariantCulture, "WRITE {0} {1} {2} {3} {4} {5}",
                    Name(peripheral), offset, width, value, Now(), CurrentCpuName()));
            }
        }

        public void Input(BridgedPeripheral peripheral, int number, bool level)
        {
            lock(sync)
            {
                if(stream == null)
                {
                    return;     // replayed from the shim's recorded input levels when the bridge connects
                }
                Request(string.Format(CultureInfo.InvariantCulture, "IN {0} {1} {2} {3}", Name(peripheral), number,
                    level ? 1 : 0, Now()));
            }
        }

        private BridgeConnection(IMachine machine)
        {
            this.machine = machine;
            machine.MachineReset += OnMachineReset;
            machine.StateChanged += (m, args) =>
            {
                if(args.CurrentState == MachineStateChangedEventArgs.State.Disposed)
                {
                    lock(registry)
                    {
                        registry.Remove(machine);
                    }
                    lock(sync)
                    {
                        Close(null);
                    }
                }
            };
        }

        private void ConnectLocked(string endpoint, string how)
        {
            string host, token;
            int newPort;
            ParseEndpoint(endpoint, out host, out newPort, out token);
            try
            {
                client = new TcpClient();
                client.NoDelay = true;
                client.Connect("127.0.0.1", newPort);
                client.ReceiveTimeout = ReplyTimeoutMs;
                client.SendTimeout = ReplyTimeoutMs;
                stream = client.GetStream();
                port = newPort;
                this.how = how;
                failure = null;
                var hello = Exchange("HELLO " + token + " " + Protocol);
                if(!hello.StartsWith("OK", StringComparison.Ordinal))
                {
                    throw new RecoverableException("the bridge refused the connection: " + hello);
                }
                foreach(var p in peripherals)
                {
                    var name = Name(p);
                    var reply = Exchange("ATTACH " + name);
                    if(!reply.StartsWith("OK", StringComparison.Ordinal))
                    {
                        throw new RecoverableException(string.Format("the bridge does not serve '{0}': {1}", name, reply.Substring(Math.Min(4, reply.Length))));
                    }
                }
            }
            catch(Exception e)
            {
                var message = e is RecoverableException ? e.Message : e.GetType().Name + ": " + e.Message;
                Close(message);
                throw new RecoverableException("mt3620: bridge at 127.0.0.1:" + newPort + ": " + message);
            }
            ResetBridge();
            Logger.Log(LogLevel.Info, "mt3620: {0} blocks served by the bridge at 127.0.0.1:{1} ({2})", peripherals.Count, port, how);
        }

        // RESET rebuilds every model at t = 0; the reply carries the levels of every output Renode sees.
        private void ResetBridge()
        {
            origin = RawNow();
            wakeAt = null;
            Request("RESET");
            foreach(var p in peripherals)
            {
                foreach(var input in p.InputLevels())
                {
                    Request(string.Format(CultureInfo.InvariantCulture, "IN {0} {1} {2} {3}", Name(p), input.Key, input.Value ? 1 : 0, Now()));
                }
            }
        }

        private void OnMachineReset(IMachine m)
        {
            lock(sync)
            {
                if(stream != null)
                {
                    try
                    {
                        ResetBridge();
                    }
                    catch(Exception e)
                    {
                        Drop(e);
                    }
                }
            }
        }

        private bool Ready(BridgedPeripheral peripheral)
        {
            if(stream != null)
            {
                return true;
            }
            if(!warnedUnconnected)
            {
                warnedUnconnected = true;
                peripheral.Log(LogLevel.Error, "no mt3620 bridge{0}: reads return 0 and writes are dropped (mt3620.resc starts one: `machine StartMT3620Bridge`)",
                    failure != null ? " (" + failure + ")" : "");
            }
            return false;
        }

        private ulong Request(string text)
        {
            foreach(var p in hinted)    // a LIN answer holds only until the next request (any may change the model)
            {
                p.LinearReads.Clear();
            }
            hinted.Clear();
            string reply;
            try
            {
                reply = Exchange(text);
            }
            catch(Exception e)
            {
                Drop(e);
                return 0;
            }
            var lines = reply.Split('\n');
            var head = lines[0].Split(' ');
            if(head[0] != "OK")
            {
                if(warned.Add(lines[0]))
                {
                    Logger.Log(LogLevel.Error, "mt3620 bridge: {0} -> {1}", text.Length > 60 ? text.Substring(0, 60) : text, lines[0]);
                }
                return 0;
            }
            requests++;
            for(var i = 1; i < lines.Length; i++)
            {
                Apply(lines[i]);
            }
            if(head.Length > 2 && head[2] != "-")
            {
                Schedule(ulong.Parse(head[2], CultureInfo.InvariantCulture));
            }
            return head.Length > 1 ? ulong.Parse(head[1], CultureInfo.InvariantCulture) : 0;
        }

        // One request and its reply; memory requests of the bridge (MEMR/MEMW) are served in between.
        private string Exchange(string text)
        {
            Send(text);
            while(true)
            {
                var reply = Receive();
                if(reply.StartsWith("MEMR ", StringComparison.Ordinal) || reply.StartsWith("MEMW ", StringComparison.Ordinal))
                {
                    string answer;
                    try
                    {
                        answer = Memory(reply);
                    }
                    catch(Exception e)
                    {
                        answer = "FAIL " + e.Message.Replace('\n', ' ');
                    }
                    Send(answer);
                    continue;
                }
                return reply;
            }
        }

        private string Memory(string request)
        {
            var parts = request.Split(' ');
            var context = parts[1] == "-" ? null : Peripheral<IPeripheral>(parts[1]);
            var address = ulong.Parse(parts[2], CultureInfo.InvariantCulture);
            if(parts[0] == "MEMR")
            {
                var data = machine.SystemBus.ReadBytes(address, int.Parse(parts[3], CultureInfo.InvariantCulture), true, context);
                var hex = new StringBuilder("DATA ");
                foreach(var b in data)
                {
                    hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
                }
                return hex.ToString();
            }
            var text = parts.Length > 3 ? parts[3] : "";
            var bytes = new byte[text.Length / 2];
            for(var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = byte.Parse(text.Substring(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
            machine.SystemBus.WriteBytes(bytes, address, true, context);
            return "DONE";
        }

        private void Apply(string line)
        {
            var parts = line.Split(' ');
            switch(parts[0])
            {
            case "GPIO":
            {
                // GPIO <entry> <output> <0|1>: an output of a bridged block changed; Renode's wiring does the rest.
                if(Peripherals().TryGetValue(parts[1], out var p))
                {
                    p.SetOutput(int.Parse(parts[2], CultureInfo.InvariantCulture), parts[3] == "1");
                }
                break;
            }
            case "RST":
            {
                // RST <cpu> <entry>...: a watchdog's reset request. The core and its private Renode blocks reset and
                // it restarts from the vector table it was loaded with, at the nearest synchronised point (a core
                // cannot be reset from its own thread, which may be the one serving this reply).
                var cpu = Peripheral<ICPU>(parts[1]);
                if(cpu == null)
                {
                    break;
                }
                var blocks = parts.Skip(2).Select(n => Peripheral<IPeripheral>(n)).Where(x => x != null).ToList();
                Logger.Log(LogLevel.Info, "mt3620: {0} reset by a bridged block", parts[1]);
                machine.LocalTimeSource.ExecuteInNearestSyncedState(_ =>
                {
                    foreach(var block in blocks)
                    {
                        block.Reset();
                    }
                    cpu.Reset();
                    var m4 = cpu as CortexM;
                    if(m4 != null && MT3620Extensions.LoadedVectorTable(m4).HasValue)
                    {
                        m4.VectorTableOffset = MT3620Extensions.LoadedVectorTable(m4).Value;
                    }
                    cpu.IsHalted = false;
                    (cpu as BaseCPU)?.Resume();     // Reset pauses the core (as Renode's SAM4S_RSTC does it)
                });
                break;
            }
            case "CLK":
            {
                // CLK <cpu> <nvic|-> <hz>: the core's HCLK changed; one instruction per cycle, SysTick counts HCLK.
                var hz = ulong.Parse(parts[3], CultureInfo.InvariantCulture);
                var cpu = Peripheral<BaseCPU>(parts[1]);
                if(cpu != null)
                {
                    cpu.PerformanceInMips = (uint)Math.Max(1, hz / 1000000);
                }
                var nvic = parts[2] == "-" ? null : Peripheral<NVIC>(parts[2]);
                if(nvic != null)
                {
                    nvic.Frequency = hz;
                }
                break;
            }
            case "LIN":
            {
                // LIN <entry> <offset> <base> <start_ps> <num> <den> <down> <from_ps> <until_ps|->: a register that
                // reads as a pure function of time (a running GPT counter) until the next request or model event.
                if(Peripherals().TryGetValue(parts[1], out var p))
                {
                    var n = parts.Skip(3).Take(6).Select(x => ulong.Parse(x, CultureInfo.InvariantCulture)).ToArray();
                    p.LinearReads[long.Parse(parts[2], CultureInfo.InvariantCulture)] = new LinearRead(n[0], n[1], n[2],
                        n[3], n[4] == 1, n[5], parts[9] == "-" ? (ulong?)null : ulong.Parse(parts[9], CultureInfo.InvariantCulture));
                    hinted.Add(p);
                }
                break;
            }
            case "LOG":
            {
                // LOG <entry> <level> <hex text>: what a model logged while serving the request.
                var text = Encoding.UTF8.GetString(FromHex(parts.Length > 3 ? parts[3] : ""));
                var level = parts[2] == "warning" ? LogLevel.Warning : parts[2] == "error" ? LogLevel.Error : LogLevel.Info;
                if(Peripherals().TryGetValue(parts[1], out var p))
                {
                    p.Log(level, text);
                }
                else
                {
                    Logger.Log(level, "{0}: {1}", parts[1], text);
                }
                break;
            }
            default:
                if(line.Length > 0 && warned.Add(parts[0]))
                {
                    Logger.Log(LogLevel.Warning, "mt3620 bridge: unknown reply line '{0}'", line);
                }
                break;
            }
        }

        // Wake up at the models' next event, so timers progress while the guest does not touch the block.
        private void Schedule(ulong dueNs)
        {
            if(wakeAt.HasValue && wakeAt.Value <= dueNs)
            {
                return;
            }
            wakeAt = dueNs;
            var epoch = origin;
            // Renode schedules from the machine's time, the common time of its cores (trailing the running one).
            var machineNs = machine.ElapsedVirtualTime.TimeElapsed.TotalNanoseconds;
            var dueAbsolute = origin + dueNs;
            machine.ScheduleAction(TimeInterval.FromNanoseconds(dueAbsolute > machineNs ? dueAbsolute - machineNs : 0),
                _ => Tick(epoch, dueNs), "mt3620-bridge-tick");
        }

        private void Tick(ulong epoch, ulong dueNs)
        {
            lock(sync)
            {
                if(epoch != origin || stream == null)
                {
                    return;     // scheduled before a reset
                }
                if(wakeAt == dueNs)
                {
                    wakeAt = null;
                }
                // At the time it was due: the thread running Renode's clock entry may be a core that is ahead.
                Request("TICK " + dueNs.ToString(CultureInfo.InvariantCulture));
            }
        }

        // The virtual time of the core making the access (its own clock inside its quantum, as the embedded engine's
        // models see it); outside a core's thread (a wake-up, the Monitor), the machine's time.
        private ulong RawNow()
        {
            if(machine.SystemBus.TryGetCurrentCPU(out var cpu))
            {
                cpu.SyncTime();
            }
            return TimeDomainsManager.Instance.GetEffectiveVirtualTimeStamp().TimeElapsed.TotalNanoseconds;
        }

        private ulong Now()
        {
            var t = RawNow();
            return t > origin ? t - origin : 0;
        }

        private string CurrentCpuName()
        {
            if(machine.SystemBus.TryGetCurrentCPU(out var cpu) && machine.TryGetLocalName(cpu, out var name))
            {
                return name;
            }
            return "-";
        }

        private string Name(BridgedPeripheral p)
        {
            var name = p.Name;
            if(name == null)
            {
                throw new RecoverableException("a bridged block has no name in the machine");
            }
            return name;
        }

        private Dictionary<string, BridgedPeripheral> Peripherals()
        {
            if(byName == null)
            {
                byName = new Dictionary<string, BridgedPeripheral>();
                foreach(var p in peripherals)
                {
                    var name = p.Name;
                    if(name != null)
                    {
                        byName[name] = p;
                    }
                }
            }
            return byName;
        }

        private T Peripheral<T>(string name) where T : class, IPeripheral
        {
            if(machine.TryGetByName<T>("sysbus." + name, out var found) || machine.TryGetByName<T>(name, out found))
            {
                return found;
            }
            if(warned.Add("missing " + name))
            {
                Logger.Log(LogLevel.Warning, "mt3620 bridge: no {0} named '{1}' in the machine", typeof(T).Name, name);
            }
            return null;
        }

        private void Send(string text)
        {
            var data = Encoding.ASCII.GetBytes(text);
            var frame = new byte[4 + data.Length];
            frame[0] = (byte)(data.Length >> 24);
            frame[1] = (byte)(data.Length >> 16);
            frame[2] = (byte)(data.Length >> 8);
            frame[3] = (byte)data.Length;
            Buffer.BlockCopy(data, 0, frame, 4, data.Length);
            stream.Write(frame, 0, frame.Length);
        }

        private string Receive()
        {
            var header = ReadExactly(4);
            var length = (header[0] << 24) | (header[1] << 16) | (header[2] << 8) | header[3];
            if(length < 0 || length > MaxFrame)
            {
                throw new IOException("oversized frame from the bridge (" + length + " bytes)");
            }
            return Encoding.ASCII.GetString(ReadExactly(length));
        }

        private byte[] ReadExactly(int count)
        {
            var buffer = new byte[count];
            var got = 0;
            while(got < count)
            {
                var n = stream.Read(buffer, got, count - got);
                if(n <= 0)
                {
                    throw new IOException("the bridge closed the connection");
                }
                got += n;
            }
            return buffer;
        }

        private void Drop(Exception e)
        {
            Close(e.Message);
            Logger.Log(LogLevel.Error, "mt3620: lost the bridge ({0}): bridged blocks read 0 from now on", e.Message);
        }

        private void Close(string why)
        {
            if(stream != null)
            {
                try
                {
                    Send("BYE");
                }
                catch(Exception)
                {
                }
            }
            stream?.Dispose();
            client?.Close();
            stream = null;
            client = null;
            failure = why;
            KillProcess();
        }

        private void KillProcess()
        {
            if(process == null)
            {
                return;
            }
            try
            {
                process.StandardInput.Close();      // --stdin-lifeline: the bridge exits when its stdin closes
                if(!process.WaitForExit(3000))
                {
                    process.Kill();
                }
            }
            catch(Exception)
            {
            }
            process.Dispose();
            process = null;
        }

        private void DrainOutput()
        {
            var p = process;
            System.Threading.Tasks.Task.Run(() =>
            {
                try
                {
                    string line;
                    while((line = p.StandardOutput.ReadLine()) != null)
                    {
                        Logger.Log(LogLevel.Info, "mt3620 bridge: {0}", line);
                    }
                }
                catch(Exception)
                {
                }
            });
        }

        private static void ParseEndpoint(string endpoint, out string host, out int port, out string token)
        {
            var text = endpoint.Trim();
            if(File.Exists(text))
            {
                text = File.ReadAllText(text).Trim().Replace(' ', ':');
            }
            var parts = text.Split(':');
            if(parts.Length != 3 || !int.TryParse(parts[1], out port) || port <= 0 || port > 65535)
            {
                throw new RecoverableException("mt3620: a bridge endpoint is '127.0.0.1:PORT:TOKEN' or a connection file holding '127.0.0.1 PORT TOKEN', not '" + endpoint + "'");
            }
            host = parts[0];
            token = parts[2];
            if(host != "127.0.0.1" && host != "localhost")
            {
                throw new RecoverableException("mt3620: the bridge is only reached on 127.0.0.1, not " + host);
            }
        }

        private static byte[] FromHex(string text)
        {
            var bytes = new byte[text.Length / 2];
            for(var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = byte.Parse(text.Substring(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
            return bytes;
        }

        private readonly IMachine machine;
        private readonly object sync = new object();
        private readonly List<BridgedPeripheral> peripherals = new List<BridgedPeripheral>();
        private readonly HashSet<string> warned = new HashSet<string>();
        private Dictionary<string, BridgedPeripheral> byName;
        private TcpClient client;
        private NetworkStream stream;
        private Process process;
        private int port;
        private string how;
        private string failure;
        private bool warnedUnconnected;
        private ulong origin;
        private ulong? wakeAt;
        private ulong requests;
        private ulong localReads;
        private readonly List<BridgedPeripheral> hinted = new List<BridgedPeripheral>();

        private static readonly Dictionary<IMachine, BridgeConnection> registry = new Dictionary<IMachine, BridgeConnection>();

        private const int Protocol = 3;
        private const int MaxFrame = 1 << 20;
        private const int ReplyTimeoutMs = 30000;
        private const int StartTimeoutSeconds = 60;
        private const string AnnouncePrefix = "MT3620-BRIDGE ";
    }

    // What a LIN line says of one register: value(t) = base +- (t - start) * num / den (integer, t >= from, in ps),
    // wrapped to 32 bits, for t before `until`. num / den come reduced so that these 64-bit steps are exact.
    public sealed class LinearRead
    {
        public LinearRead(ulong @base, ulong start, ulong num, ulong den, bool down, ulong from, ulong? until)
        {
            this.@base = @base;
            this.start = start;
            this.num = num;
            this.den = den;
            this.down = down;
            this.from = from;
            this.until = until;
        }

        public bool Answers(ulong nowPs) => !until.HasValue || nowPs < until.Value;

        public ulong Value(ulong nowPs)
        {
            var dt = Math.Max(nowPs, from) - start;
            var ticks = unchecked((dt / den) * num + (dt % den) * num / den);
            return unchecked(down ? @base - ticks : @base + ticks) & 0xFFFFFFFFUL;
        }

        private readonly ulong @base, start, num, den, from;
        private readonly bool down;
        private readonly ulong? until;
    }
}
