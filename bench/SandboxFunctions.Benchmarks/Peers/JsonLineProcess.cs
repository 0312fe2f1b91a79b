using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SandboxFunctions.Benchmarks.Peers;

/// <summary>
/// A long-lived helper process that answers one JSON line on stdout for each JSON line on stdin, so that
/// a comparison can time code in an interpreter that is already running, as the sandbox is.
/// </summary>
internal sealed class JsonLineProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(2);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();

    private JsonLineProcess(Process process)
    {
        _process = process;
    }

    public static JsonLineProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var child = new JsonLineProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child._stderr.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Sends a request and returns the reply's <c>value</c>; a reply with <c>ok: false</c> becomes an exception.</summary>
    public async Task<JsonNode?> RequestAsync(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _process.StandardInput.WriteLineAsync(request.ToJsonString());
        await _process.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(ReplyTimeout);
        var line = await _process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException($"{_process.StartInfo.FileName} exited without answering:\n{string.Join('\n', _stderr)}");
        var reply = JsonNode.Parse(line)?.AsObject()
            ?? throw new InvalidOperationException($"{_process.StartInfo.FileName} answered '{line}'.");
        return reply["ok"]?.GetValue<bool>() == true
            ? reply["value"]
            : throw new InvalidOperationException($"{_process.StartInfo.FileName} reported an error: {reply["error"]}");
    }

    /// <summary>A request whose reply is a number, e.g. the milliseconds a timed workload took.</summary>
    public async Task<double> RequestNumberAsync(JsonObject request) =>
        await RequestAsync(request) is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            ? value.GetValue<double>()
            : throw new InvalidOperationException($"{_process.StartInfo.FileName} did not answer {request.ToJsonString()} with a number.");

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
