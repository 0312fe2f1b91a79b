using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox.Tests;

[Collection(EngineTests.Name)]
public sealed class ConcurrencyTests(EngineFixture engine)
{
    [Fact]
    public async Task Eight_guests_run_at_once_and_traps_in_some_do_not_disturb_the_others()
    {
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
            foreach (var sandbox in sandboxes)
            {
                await sandbox.DisposeAsync();
            }
        }
    }
}
