using System.Security.Cryptography;
using SandboxFunctions.Benchmarks.Measurement;
using SandboxFunctions.Benchmarks.Peers;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>
/// The same JavaScript in the sandbox (quickjs.wasm compiled by Wasmtime's Cranelift), in Node
/// running that very quickjs.wasm on V8's WebAssembly tiers, and in V8 itself for context. Each side times
/// the workload with its own performance.now(), and all three stay warm across rounds.
/// </summary>
internal sealed class JsVsNodeScenario : IScenario
{
    private static readonly (string Title, string Expression)[] Benchmarks =
    [
        ("fib(27)", "timed(() => fib(27))"),
        ("mixed workload (classes, JSON, sort, Map, regex, strings)", "timed(() => mixedWorkload())"),
    ];

    private enum Side
    {
        Sandbox,
        NodeQuickJs,
        NodeV8,
    }

    public string Name => "js-vs-node";

    public string Description => "JavaScript in the sandbox vs the same quickjs.wasm in Node, and Node's V8";

    public async Task<ReportSection> RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var program = Workloads.Combine("javascript/timing.js", "javascript/fib.js", "javascript/mixed.js");
        await using var sandbox = await context.Runtime("javascript").CreateAsync(SandboxLimits.Default);
        await sandbox.RunAsync(program);
        await using var node = await NodeEngines.StartAsync();
        await node.RunAsync(NodeEngine.QuickJsWasm, program);
        await node.RunAsync(NodeEngine.V8, program);

        var steps = Benchmarks.SelectMany(b => Enum.GetValues<Side>().Select(side => (Benchmark: b, Side: side))).ToList();
        var samples = new Samples();
        await Rounds.RunAsync(context.Warmup, context.Rounds(15), steps, async (step, record) =>
        {
            var milliseconds = step.Side switch
            {
                Side.Sandbox => await sandbox.EvalNumberAsync(step.Benchmark.Expression),
                Side.NodeQuickJs => await node.EvalNumberAsync(NodeEngine.QuickJsWasm, step.Benchmark.Expression),
                _ => await node.EvalNumberAsync(NodeEngine.V8, step.Benchmark.Expression),
            };
            if (record)
            {
                samples.Add($"{step.Benchmark.Title}/{step.Side}", milliseconds);
            }
        });

        var section = new SectionBuilder(Name, "JavaScript in the sandbox vs the same quickjs.wasm in Node (workload time measured inside each engine)");
        foreach (var (title, _) in Benchmarks)
        {
            var inSandbox = samples[$"{title}/{Side.Sandbox}"];
            var inNodeQuickJs = samples[$"{title}/{Side.NodeQuickJs}"];
            var inV8 = samples[$"{title}/{Side.NodeV8}"];
            section.Group(title)
                .Add("sandbox: quickjs.wasm on Wasmtime", Unit.Milliseconds, inSandbox)
                .Add($"node {node.NodeVersion}: quickjs.wasm on V8's WebAssembly", Unit.Milliseconds, inNodeQuickJs)
                .Add($"node {node.NodeVersion}: V8 JavaScript (JIT)", Unit.Milliseconds, inV8)
                .Add("sandbox / quickjs.wasm in node", Unit.Ratio, Distribution.Ratio(inSandbox, inNodeQuickJs))
                .Add("sandbox / V8", Unit.Ratio, Distribution.Ratio(inSandbox, inV8));
        }

        return section
            .Note($"Node ran quickjs-wasi 3.6.2's quickjs.wasm {await DescribeModuleIdentityAsync()}, with the sandbox's stack limit (512 KiB) and an interrupt handler, as the sandbox runs it.")
            .Note("The sandbox's Wasmtime engine checks every memory access and, at each loop iteration and call, whether the guest must stop (epoch interruption); V8 relies on guard pages and signals for the first and has no need for the second. The earlier wasm2c build measured 1.11x on fib(27) and 1.10x on the mixed workload on this machine.")
            .Build();
    }

    /// <summary>Whether the module Node ran is byte for byte the one the runtime build compiled (its cached copy, when present).</summary>
    private static async Task<string> DescribeModuleIdentityAsync()
    {
        var cache = Environment.GetEnvironmentVariable("SANDBOX_BUILD_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "sandboxfunctions");
        var built = Path.Combine(cache, "quickjs-wasi-3.6.2", "quickjs.wasm");
        var ran = Path.Combine(RepositoryPaths.BenchNodePeers, "node_modules", "quickjs-wasi", "quickjs.wasm");
        var ranHash = SHA256.HashData(await File.ReadAllBytesAsync(ran));
        if (!File.Exists(built))
        {
            return $"(SHA-256 {Convert.ToHexStringLower(ranHash)[..16]}; the build cache's copy was not found to compare)";
        }

        return SHA256.HashData(await File.ReadAllBytesAsync(built)).AsSpan().SequenceEqual(ranHash)
            ? "(byte-identical to the module the sandbox's runtime was compiled from)"
            : "(which DIFFERS from the module in the build cache: the comparison is not like for like)";
    }
}
