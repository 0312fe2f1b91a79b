using System.Text.Json.Nodes;

namespace SandboxFunctions.Benchmarks.Peers;

/// <summary>A native CPython process that runs code sent to it in one persistent namespace, like a sandbox session.</summary>
internal sealed class NativePython : IAsyncDisposable
{
    private const string Driver = """
        import json, sys
        namespace = {"__name__": "__main__"}
        for line in sys.stdin:
            request = json.loads(line)
            try:
                if request["op"] == "exec":
                    exec(request["code"], namespace)
                    value = None
                else:
                    value = eval(request["code"], namespace)
                reply = {"ok": True, "value": value}
            except Exception as error:
                reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
        """;

    private readonly JsonLineProcess _process;

    private NativePython(JsonLineProcess process, string executable, string version)
    {
        _process = process;
        Executable = executable;
        Version = version;
    }

    /// <summary>The interpreter's own path (a launcher such as a version manager's shim resolved away).</summary>
    public string Executable { get; }

    public string Version { get; }

    public string Label => $"native python {Version} ({Executable})";

    public static async Task<NativePython> StartAsync(string command)
    {
        var process = JsonLineProcess.Start(command, ["-u", "-c", Driver], Environment.CurrentDirectory);
        try
        {
            await process.RequestAsync(Exec("import platform, sys"));
            var executable = (await process.RequestAsync(Eval("sys.executable")))?.GetValue<string>() ?? command;
            var version = (await process.RequestAsync(Eval("platform.python_version()")))?.GetValue<string>() ?? "?";
            return new NativePython(process, executable, version);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public Task ExecAsync(string code) => _process.RequestAsync(Exec(code));

    public Task<double> EvalNumberAsync(string expression) => _process.RequestNumberAsync(Eval(expression));

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static JsonObject Exec(string code) => new() { ["op"] = "exec", ["code"] = code };

    private static JsonObject Eval(string expression) => new() { ["op"] = "eval", ["code"] = expression };
}
