using System.Text;
using System.Threading.Channels;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Tools;

/// <summary>
/// Forwards output to the client as progress notifications while code or a command line runs. The guest thread only
/// queues chunks; sending happens here, batched, one notification at a time so they reach the client in order, and
/// a chatty guest never waits on the network.
/// </summary>
internal sealed class OutputStreamer : IAsyncDisposable
{
    private const int MaxBatchChars = 16 * 1024;

    private readonly Func<ProgressNotificationValue, Task>? _send;
    private readonly Channel<OutputChunk> _chunks = Channel.CreateBounded<OutputChunk>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    // A character may be split between two writes; each stream keeps its unfinished bytes for the next chunk.
    private readonly Decoder _stdout = Encoding.UTF8.GetDecoder();
    private readonly Decoder _stderr = Encoding.UTF8.GetDecoder();
    private readonly Task _pump;
    private int _sent;

    private OutputStreamer(Func<ProgressNotificationValue, Task>? send)
    {
        _send = send;
        _pump = send is null ? Task.CompletedTask : Task.Run(PumpAsync);
    }

    /// <summary>Receives output when the request carries a progress token, and is null otherwise.</summary>
    public Action<OutputChunk>? OnOutput => _send is null ? null : Write;

    /// <summary>A streamer to the caller of <paramref name="context"/>, which sends nothing unless the request asked for progress.</summary>
    public static OutputStreamer For(RequestContext<CallToolRequestParams> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var server = context.Server;
        return context.Params?.ProgressToken is { } token
            ? new OutputStreamer(value => server.NotifyProgressAsync(token, value, cancellationToken: CancellationToken.None))
            : new OutputStreamer(null);
    }

    public async ValueTask DisposeAsync()
    {
        _chunks.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
    }

    private void Write(OutputChunk chunk) => _chunks.Writer.TryWrite(chunk);

    private async Task PumpAsync()
    {
        var reader = _chunks.Reader;
        var connected = true;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var batch = new StringBuilder();
            var stream = OutputKind.Stdout;
            while (batch.Length < MaxBatchChars && reader.TryPeek(out var next) && (batch.Length == 0 || next.Kind == stream))
            {
                reader.TryRead(out next);
                stream = next!.Kind;
                Decode(stream == OutputKind.Stdout ? _stdout : _stderr, next.Data.Span, batch);
            }

            if (batch.Length == 0 || !connected)
            {
                continue;
            }

            try
            {
                await _send!(new ProgressNotificationValue
                {
                    Progress = ++_sent,
                    Message = stream == OutputKind.Stdout ? batch.ToString() : $"[stderr] {batch}",
                }).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // The client went away; the call still runs to its end and returns its full output.
                connected = false;
            }
        }
    }

    private static void Decode(Decoder decoder, ReadOnlySpan<byte> bytes, StringBuilder into)
    {
        Span<char> chars = stackalloc char[1024];
        while (!bytes.IsEmpty)
        {
            decoder.Convert(bytes, chars, flush: false, out var used, out var written, out _);
            into.Append(chars[..written]);
            bytes = bytes[used..];
        }
    }
}
