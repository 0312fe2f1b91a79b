using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox.Tests;

[Collection(EngineTests.Name)]
public sealed class ConcurrencyTests(EngineFixture engine)
{

    /// <remarks>
    /// Another thread keeps the garbage collector busy and takes NullReferenceExceptions all along: .NET turns
    /// those faults into exceptions with its own signal handler, which a WebAssembly engine must not disturb.
    /// </remarks>
    [Fact]
    public async Task Eight_guests_run_at_once_under_collector_pressure_and_traps_in_some_do_not_disturb_the_others()
    {
        using var stop = new CancellationTokenSource();
        var faults = 0L;
        var missing = Environment.GetEnvironmentVariable($"SANDBOX_UNSET_{Guid.NewGuid():N}");
        var pressure = new Thread(() =>
        {
            var keep = new List<byte[]>();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    _ = missing!.Length;
                }
                catch (NullReferenceException)
                {
                    faults++;
                }

                keep.Add(new byte[16 * 1024]);
                if (keep.Count > 2000)
                {
                    keep.Clear();
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                }
            }
        }) { IsBackground = true };
        pressure.Start();

        var sandboxes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => engine.CreateAsync(i % 2 == 0 ? "python" : "javascript")));
        try
        {
            var runs = sandboxes.Select(async (sandbox, i) =>
            {
                var python = i % 2 == 0;
                var results = new List<string?>();
                for (var round = 0; round < 3; round++)
                {
                    if (i % 4 == 0)
                    {
                        // A native stack trap in this guest while the others compute.
                        var crash = await sandbox.RunAsync("import sys\nsys.setrecursionlimit(10**7)\nclass L:\n    def __repr__(self): return repr(self)\nrepr(L())");
                        Assert.Equal(ExecutionStatus.Crashed, crash.Status);
                    }

                    var code = python
                        ? $"sum(n * {i} for n in range(200000))"
                        : $"let s{round} = 0; for (let n = 0; n < 200000; n++) s{round} += n * {i}; s{round}";
                    results.Add((await sandbox.RunAsync(code)).Result?.Repr);
                }

                return (i, results);
            });

            foreach (var (i, results) in await Task.WhenAll(runs))
            {
                var expected = (19999900000L * i).ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.All(results, r => Assert.Equal(expected, r));
            }
        }
        finally
        {
            stop.Cancel();
            pressure.Join();
            foreach (var sandbox in sandboxes)
            {
                await sandbox.DisposeAsync();
            }
        }

        Assert.True(faults > 0, "The pressure thread took no NullReferenceException.");
    }
}
