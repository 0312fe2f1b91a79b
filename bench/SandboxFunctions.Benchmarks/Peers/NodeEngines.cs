using System.Text.Json.Nodes;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Benchmarks.Peers;

internal enum NodeEngine
{
    /// <summary>quickjs.wasm from the quickjs-wasi package, run by Node's WebAssembly engine.</summary>
    QuickJsWasm,

    /// <summary>Node's own JavaScript engine.</summary>
    V8,
}

/// <summary>bench/node/engines.mjs: one Node process holding a QuickJS WebAssembly VM and V8, both kept warm.</summary>
internal sealed class NodeEngines : IAsyncDisposable
{
    private readonly JsonLineProcess _process;

    private NodeEngines(JsonLineProcess process, string nodeVersion)
    {
        _process = process;
        NodeVersion = nodeVersion;
    }

    public string NodeVersion { get; }

    public static async Task<NodeEngines> StartAsync()
    {
        await NodePackages.EnsureInstalledAsync(RepositoryPaths.BenchNodePeers);
        var process = JsonLineProcess.Start("node", [Path.Combine(RepositoryPaths.BenchNodePeers, "engines.mjs")], RepositoryPaths.BenchNodePeers);
        try
        {
            var version = (await process.RequestAsync(Request(NodeEngine.V8, "process.version")))?.GetValue<string>() ?? "?";
            return new NodeEngines(process, version);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public Task RunAsync(NodeEngine engine, string code) => _process.RequestAsync(Request(engine, code));

    public Task<double> EvalNumberAsync(NodeEngine engine, string code) => _process.RequestNumberAsync(Request(engine, code));

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static JsonObject Request(NodeEngine engine, string code) => new()
    {
        ["engine"] = engine == NodeEngine.V8 ? "v8" : "quickjs",
        ["code"] = code,
    };
}
