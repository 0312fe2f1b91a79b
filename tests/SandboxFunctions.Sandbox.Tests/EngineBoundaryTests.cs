using Microsoft.Extensions.Logging.Abstractions;
using SandboxFunctions.Sandbox.Interop;

namespace SandboxFunctions.Sandbox.Tests;

/// <summary>
/// The boundary between host and guest, with a purpose-built guest (Guests/boundary.wat): every trap ends the
/// call in its own error, the process and other guests carry on, and a spinning guest stops when asked.
/// </summary>
public sealed class EngineBoundaryTests : IDisposable
{
    private const int GuestThreadStack = 16 * 1024 * 1024;

    private readonly WasmEngine _engine = new(maxWasmStackBytes: 1024 * 1024, cacheDirectory: null, NullLogger.Instance);
    private readonly GuestModule _module;

    public EngineBoundaryTests()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Guests", "boundary.wat"));
        _module = new GuestModule(_engine, "boundary", Wasmtime.Module.FromText(_engine.Engine, "boundary", text));
    }

    [Fact]
    public async Task An_out_of_bounds_access_ends_in_its_own_trap_and_a_new_instance_works()
    {
        var host = new RecordingHost();
        using var instance = GuestInstance.Create(_module, host);

        var trap = await Assert.ThrowsAsync<SandboxTrapException>(() => OnGuestThread(() => instance.Call(_module.GetExport("read"), 0x7FFF_FFF0)));

        Assert.Equal(TrapCode.OutOfBounds, trap.TrapCode);
        Assert.True(instance.IsFaulted);
        Assert.Throws<InvalidOperationException>(() => instance.Call(_module.GetExport("read"), 0));
        using var fresh = GuestInstance.Create(_module, host);
        Assert.Equal(0UL, await OnGuestThread(() => fresh.Call(_module.GetExport("read"), 16)));
    }

    [Fact]
    public async Task Unbounded_recursion_ends_in_a_stack_overflow_trap()
    {
        using var instance = GuestInstance.Create(_module, new RecordingHost());

        var trap = await Assert.ThrowsAsync<SandboxTrapException>(() => OnGuestThread(() => instance.Call(_module.GetExport("recurse"), 0)));

        Assert.Equal(TrapCode.StackExhausted, trap.TrapCode);
        Assert.Contains("call stack exhausted", trap.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Integer_division_by_zero_ends_in_its_own_trap()
    {
        using var instance = GuestInstance.Create(_module, new RecordingHost());

        Assert.Equal(3UL, await OnGuestThread(() => instance.Call(_module.GetExport("divide"), 7, 2)));
        var trap = await Assert.ThrowsAsync<SandboxTrapException>(() => OnGuestThread(() => instance.Call(_module.GetExport("divide"), 7, 0)));

        Assert.Equal(TrapCode.DivideByZero, trap.TrapCode);
    }

    [Fact]
    public async Task A_failing_host_function_ends_the_call_with_its_exception()
    {
        var host = new RecordingHost { Failure = new InvalidOperationException("the host said no") };
        using var instance = GuestInstance.Create(_module, host);

        var trap = await Assert.ThrowsAsync<SandboxTrapException>(() => OnGuestThread(() => instance.Call(_module.GetExport("call_host"), 5)));

        Assert.Equal(TrapCode.HostError, trap.TrapCode);
        Assert.Contains("the host said no", trap.Message, StringComparison.Ordinal);
        Assert.Same(host.Failure, trap.InnerException);
    }

    [Fact]
    public async Task Host_functions_receive_arguments_and_return_results()
    {
        var host = new RecordingHost();
        using var instance = GuestInstance.Create(_module, host);

        Assert.Equal(42UL, await OnGuestThread(() => instance.Call(_module.GetExport("call_host"), 41)));
        Assert.Equal([41], host.Signals);
    }

    [Theory]
    [InlineData("spin")]
    [InlineData("spin_in_calls")]
    public async Task A_spinning_guest_stops_when_interrupted_and_others_keep_running(string export)
    {
        var host = new RecordingHost();
        using var first = GuestInstance.Create(_module, host);
        using var second = GuestInstance.Create(_module, host);
        var firstRun = OnGuestThread(() => first.Call(_module.GetExport(export), 1));
        var secondRun = OnGuestThread(() => second.Call(_module.GetExport(export), 2));
        await host.WaitForSignalsAsync(2);

        first.Interrupt();
        var stopped = await Assert.ThrowsAsync<SandboxTrapException>(() => firstRun.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(TrapCode.Interrupted, stopped.TrapCode);
        Assert.False(secondRun.IsCompleted);
        second.Interrupt();
        Assert.Equal(TrapCode.Interrupted, (await Assert.ThrowsAsync<SandboxTrapException>(() => secondRun.WaitAsync(TimeSpan.FromSeconds(30)))).TrapCode);
    }

    [Fact]
    public async Task An_interrupt_requested_before_a_call_stops_that_call()
    {
        var host = new RecordingHost();
        using var instance = GuestInstance.Create(_module, host);

        instance.Interrupt();
        var trap = await Assert.ThrowsAsync<SandboxTrapException>(() => OnGuestThread(() => instance.Call(_module.GetExport("spin"), 1)).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(TrapCode.Interrupted, trap.TrapCode);
    }

    [Fact]
    public async Task Memory_grows_up_to_the_limit_and_no_further()
    {
        using var instance = GuestInstance.Create(_module, new RecordingHost());
        instance.MaxPages = 4;

        Assert.Equal(1UL, await OnGuestThread(() => instance.Call(_module.GetExport("grow"), 3)));
        Assert.Equal(uint.MaxValue, (uint)await OnGuestThread(() => instance.Call(_module.GetExport("grow"), 1)));
        Assert.Equal(4U, instance.Memory.Pages);
    }

    [Fact]
    public void Every_mutable_global_can_be_read_and_restored()
    {
        using var instance = GuestInstance.Create(_module, new RecordingHost());
        var values = new ulong[_module.GlobalCount];

        instance.GetGlobals(values);
        Assert.Equal(["__stack_pointer", "counter"], _module.MutableGlobals);
        Assert.Equal([4096UL, 7UL], values);

        instance.SetGlobals([1024UL, ulong.MaxValue]);
        instance.GetGlobals(values);
        Assert.Equal([1024UL, ulong.MaxValue], values);
    }

    public void Dispose()
    {
        _module.Dispose();
        _engine.Dispose();
    }

    private static Task<T> OnGuestThread<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                completion.SetResult(work());
            }
            catch (Exception ex)
            {
                completion.SetException(ex);
            }
        }, GuestThreadStack);
        thread.Start();
        return completion.Task;
    }

    private sealed class RecordingHost : IGuestImports
    {
        private readonly System.Threading.Channels.Channel<uint> _signalled = System.Threading.Channels.Channel.CreateUnbounded<uint>();

        public Exception? Failure { get; init; }

        public List<uint> Signals { get; } = [];

        public ulong Invoke(GuestInstance instance, GuestFunction import, ReadOnlySpan<ulong> args)
        {
            if (Failure is not null)
            {
                throw Failure;
            }

            lock (Signals)
            {
                Signals.Add((uint)args[0]);
            }

            _signalled.Writer.TryWrite((uint)args[0]);
            return args[0] + 1;
        }

        public async Task WaitForSignalsAsync(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            for (var i = 0; i < count; i++)
            {
                await _signalled.Reader.ReadAsync(timeout.Token);
            }
        }
    }
}
