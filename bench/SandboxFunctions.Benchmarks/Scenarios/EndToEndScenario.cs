using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using SandboxFunctions.Benchmarks.Measurement;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>
/// What an agent feels: the real server in its own process, driven over MCP on loopback by the official C# client,
/// with the embedded file store and with the storage emulator. Warm calls in an existing session, a new session to
/// its first result, a file write, a read-only call, throughput of eight clients each on its own session, and the
/// time from process start to the first answer, both for the solution's build and for the server published ReadyToRun.
/// </summary>
internal sealed class EndToEndScenario : IScenario
{
    private const int Clients = 8;
    private const int Starts = 5;
    private static readonly TimeSpan ThroughputWindow = TimeSpan.FromSeconds(10);

    public string Name => "end-to-end";

    public string Description => "MCP calls against the real server over loopback: warm calls, new sessions, writes, throughput, start-up";

    public async Task<ReportSection> RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var section = new SectionBuilder(Name, "End to end: MCP calls to the real server over loopback");
        ScenarioContext.Progress("starting the storage emulator");
        await using var azurite = await AzuriteProcess.StartAsync();
        var stores = new[]
        {
            ("file store", new Dictionary<string, string?>()),
            ("storage emulator", new Dictionary<string, string?> { ["SessionStorage"] = azurite.ConnectionString }),
        };
        foreach (var (store, settings) in stores)
        {
            ScenarioContext.Progress($"measuring with the {store}");
            await MeasureAsync(context, section, store, settings);
        }

        ScenarioContext.Progress("publishing the server ReadyToRun");
        var published = await PublishReadyToRunAsync();
        foreach (var (store, settings) in stores)
        {
            ScenarioContext.Progress($"measuring start-up with the {store}");
            var group = section.Group($"{store}: start-up, {Starts} starts each");
            await StartUpAsync(group, "build output", settings, hostAssembly: null);
            await StartUpAsync(group, "published ReadyToRun", settings, published);
        }

        return section
            .Note("Each latency is one tools/call round trip as the client sees it; p95 rows are the 95th percentile of the same samples.")
            .Note($"Throughput: {Clients} clients, each calling execute_code (x += 1) in its own Python session, for {ThroughputWindow.TotalSeconds:0} s right after the latency rounds, then for {ThroughputWindow.TotalSeconds:0} s more once the runtime has compiled the hot paths to optimized code.")
            .Note("Start-up: from starting the process to /health answering, and to the first execute_code result over a new client connection. The build output is the solution's Release build (what dotnet run starts); the published server is dotnet publish -r <this machine> -p:PublishReadyToRun=true.")
            .Build();
    }

    private static async Task MeasureAsync(ScenarioContext context, SectionBuilder section, string store, Dictionary<string, string?> settings)
    {
        settings["Sessions__MaxSessionsPerOwner"] = "100000";
        await using var server = await ServerProcess.StartAsync(settings);
        await using var client = await ConnectAsync(server);
        await TimeAsync(client, "execute_code", new { code = "1 + 1" });

        var python = await SessionAsync(client, "python", "x = 0");
        var javascript = await SessionAsync(client, "javascript", "var x = 0");
        var steps = new (string Name, string Tool, Func<object> Arguments)[]
        {
            ("execute_code, warm Python session (x += 1)", "execute_code", () => new { session_id = python, code = "x += 1" }),
            ("execute_code, warm JavaScript session (x += 1)", "execute_code", () => new { session_id = javascript, code = "x += 1" }),
            ("execute_code, new Python session to first result", "execute_code", () => new { code = "1 + 1" }),
            ("write_file, 1 KiB", "write_file", () => new { session_id = python, path = "note.txt", content = new string('n', 1024) }),
            ("get_session (reads only)", "get_session", () => new { session_id = python }),
        };

        var samples = new Samples();
        await Rounds.RunAsync(context.Warmup, context.Rounds(40), steps, async (step, record) =>
        {
            var elapsed = await TimeAsync(client, step.Tool, step.Arguments());
            if (record)
            {
                samples.Add(step.Name, elapsed);
            }
        });

        var group = section.Group(store);
        foreach (var step in steps)
        {
            group.Add(step.Name, Unit.Milliseconds, samples[step.Name])
                .Add($"{step.Name}, p95", Unit.Milliseconds, samples[step.Name].Percentile(95));
        }

        var (first, steady) = await ThroughputAsync(server);
        group.Add($"calls per second, {Clients} clients on their own sessions, first {ThroughputWindow.TotalSeconds:0} s", Unit.PerSecond, first.Calls / ThroughputWindow.TotalSeconds)
            .Add($"calls per second, {Clients} clients on their own sessions, steady", Unit.PerSecond, steady.Calls / ThroughputWindow.TotalSeconds)
            .Add("errors during the throughput runs", Unit.PerSecond, (first.Errors + steady.Errors) / (2 * ThroughputWindow.TotalSeconds));
        await BreakdownAsync(context, section.Group($"{store}: steps of a call, from the server's spans"), settings);
    }

    /// <summary>
    /// The same calls against a second server that exports its spans: the time of each step of a warm call, and the
    /// storage round trips of each kind of call. Exporting costs a little, so the latencies above come from a server without it.
    /// </summary>
    private static async Task BreakdownAsync(ScenarioContext context, SectionBuilder group, Dictionary<string, string?> settings)
    {
        await using var receiver = SpanReceiver.Start();
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string?>(settings.Concat(receiver.ServerSettings)));
        await using var client = await ConnectAsync(server);
        var python = await SessionAsync(client, "python", "x = 0");
        var calls = new (string Name, string Tool, Func<object> Arguments)[]
        {
            ("warm Python execute_code", "execute_code", () => new { session_id = python, code = "x += 1" }),
            ("write_file", "write_file", () => new { session_id = python, path = "note.txt", content = new string('n', 1024) }),
            ("get_session", "get_session", () => new { session_id = python }),
            ("new Python session", "execute_code", () => new { code = "1 + 1" }),
        };

        var windows = new List<(string Name, DateTimeOffset From, DateTimeOffset To)>();
        foreach (var call in calls)
        {
            for (var i = 0; i < context.Warmup; i++)
            {
                await TimeAsync(client, call.Tool, call.Arguments());
            }

            var from = DateTimeOffset.UtcNow;
            for (var i = 0; i < context.Rounds(40); i++)
            {
                await TimeAsync(client, call.Tool, call.Arguments());
            }

            windows.Add((call.Name, from, DateTimeOffset.UtcNow));
        }

        await receiver.SettleAsync();
        foreach (var (name, from, to) in windows)
        {
            var breakdown = StageBreakdown.Of(receiver.Spans, from, to);
            if (breakdown.RoundTrips() is { } trips)
            {
                group.Add($"{name}: storage round trips (HTTP calls)", Unit.Count, trips);
            }

            if (name != calls[0].Name)
            {
                continue;
            }

            if (breakdown.Total() is { } total)
            {
                group.Add($"{name}: server time, request start to end", Unit.Milliseconds, total);
            }

            foreach (var step in StageBreakdown.Steps)
            {
                if (breakdown.Step(step) is { } time)
                {
                    var stepTrips = breakdown.RoundTripsIn(step);
                    group.Add(stepTrips is { Median: > 0 } ? $"{name}: {step} ({stepTrips.Median:0.#} round trips)" : $"{name}: {step}", Unit.Milliseconds, time);
                }
            }

            if (breakdown.OutsideSteps() is { } outside)
            {
                group.Add($"{name}: outside every step (HTTP, MCP, arguments, results)", Unit.Milliseconds, outside);
            }
        }
    }

    /// <summary>Two windows back to back: the first right after the latency rounds, the second once the JIT has settled.</summary>
    private static async Task<((int Calls, int Errors) First, (int Calls, int Errors) Steady)> ThroughputAsync(ServerProcess server)
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => ConnectAsync(server)));
        try
        {
            var sessions = await Task.WhenAll(clients.Select(c => SessionAsync(c, "python", "x = 0")));
            var first = await WindowAsync(clients, sessions);
            var steady = await WindowAsync(clients, sessions);
            return (first, steady);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task<(int Calls, int Errors)> WindowAsync(McpClient[] clients, string[] sessions)
    {
        var calls = 0;
        var errors = 0;
        var window = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async (client, i) =>
        {
            while (window.Elapsed < ThroughputWindow)
            {
                var result = await client.CallToolAsync("execute_code", Arguments(new { session_id = sessions[i], code = "x += 1" }));
                Interlocked.Increment(ref result.IsError == true ? ref errors : ref calls);
            }
        }));
        return (calls, errors);
    }

    /// <summary>Medians over several starts of a fresh process: single starts vary by hundreds of milliseconds here.</summary>
    private static async Task StartUpAsync(SectionBuilder group, string form, Dictionary<string, string?> settings, string? hostAssembly)
    {
        var samples = new Samples();
        for (var i = 0; i < Starts; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await using var server = await ServerProcess.StartAsync(settings, hostAssembly: hostAssembly);
            samples.Add("health", Rounds.MillisecondsSince(started));
            await using var client = await ConnectAsync(server);
            await TimeAsync(client, "execute_code", new { code = "1 + 1" });
            samples.Add("first", Rounds.MillisecondsSince(started));
        }

        group.Add($"{form}: process start to /health", Unit.Milliseconds, samples["health"])
            .Add($"{form}: process start to first Python result", Unit.Milliseconds, samples["first"]);
    }

    /// <summary>The standalone server as it would be deployed on its own: published ReadyToRun for this machine.</summary>
    private static async Task<string> PublishReadyToRunAsync()
    {
        var output = Path.Combine(RepositoryPaths.Root, "artifacts", "bench", "host-ready-to-run");
        await using var publish = ChildProcess.Start("dotnet",
            ["publish", Path.Combine(RepositoryPaths.Root, "src", "SandboxFunctions.Host"), "--configuration", "Release",
             "--runtime", RuntimeInformation.RuntimeIdentifier, "--self-contained", "false", "-p:PublishReadyToRun=true",
             "--output", output, "--nologo"],
            new Dictionary<string, string?> { ["DOTNET_NOLOGO"] = "1" },
            RepositoryPaths.Root);
        if (await publish.WaitForExitAsync(TimeSpan.FromMinutes(10)) != 0)
        {
            throw new InvalidOperationException($"Publishing the server failed:\n{publish.Output}");
        }

        return Path.Combine(output, "SandboxFunctions.Host.dll");
    }

    private static Task<McpClient> ConnectAsync(ServerProcess server) =>
        McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = server.McpEndpoint,
            TransportMode = HttpTransportMode.StreamableHttp,
        }));

    private static async Task<string> SessionAsync(McpClient client, string language, string code)
    {
        var result = await client.CallToolAsync("execute_code", Arguments(new { language, code }));
        return result.IsError == true || result.StructuredContent is not { } content
            ? throw new InvalidOperationException($"Creating a {language} session failed: {JsonSerializer.Serialize(result.Content)}")
            : content.GetProperty("session_id").GetString()!;
    }

    private static async Task<double> TimeAsync(McpClient client, string tool, object arguments)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await client.CallToolAsync(tool, Arguments(arguments));
        var elapsed = Rounds.MillisecondsSince(started);
        return result.IsError == true
            ? throw new InvalidOperationException($"{tool} failed: {string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text))}")
            : elapsed;
    }

    private static Dictionary<string, object?> Arguments(object arguments) =>
        JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(arguments))!;
}
