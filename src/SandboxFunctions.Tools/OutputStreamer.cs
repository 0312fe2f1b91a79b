using System.Text;
using System.Threading.Channels;
using ModelContextProtocol;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Tools;

/// <summary>
/// Forwards output to the client as progress notifications while code or a command line runs. The guest thread only
/// queues chunks; sending happens here, batched, so a chatty guest never waits on the network.
/// </summary>
internal sealed class OutputStreamer : IAsyncDisposable
{
    private readonly IProgress<ProgressNotificationValue>? _progress;
    private readonly Channel<OutputChunk> _chunks = Channel.CreateBounded<OutputChunk>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private readonly Task _pump;
    private int _sent;

    public OutputStreamer(IProgress<ProgressNotificationValue>? progress)
    {
        _progress = progress;
        _pump = progress is null ? Task.CompletedTask : Task.Run(PumpAsync);
    }

    public void Write(OutputChunk chunk) => _chunks.Writer.TryWrite(chunk);

    public async ValueTask DisposeAsync()
    {
        _chunks.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
    }

    private async Task PumpAsync()
    {
        var reader = _chunks.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var batch = new StringBuilder();
            var stream = OutputKind.Stdout;
            while (batch.Length < 16 * 1024 && reader.TryPeek(out var next) && (batch.Length == 0 || next.Kind == stream))
            {
                reader.TryRead(out next);
                stream = next!.Kind;
                batch.Append(Encoding.UTF8.GetString(next.Data.Span));
            }

            if (batch.Length > 0)
            {
                _progress!.Report(new ProgressNotificationValue
                {
                    Progress = ++_sent,
                    Message = stream == OutputKind.Stdout ? batch.ToString() : $"[stderr] {batch}",
                });
            }
        }
    }
}
