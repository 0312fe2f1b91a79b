using System.Buffers;
using System.Text;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Tools.Shell;

/// <summary>Where a command's output goes: the command line's result, a pipe, a file, or nowhere.</summary>
internal abstract class ShellOutput
{
    public abstract void Write(ReadOnlySpan<byte> data);

    public void Write(string text)
    {
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(text, buffer);
            Write(buffer.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void WriteLine(string text)
    {
        Write(text);
        Write("\n"u8);
    }
}

/// <summary>Output that is thrown away: <c>/dev/null</c>.</summary>
internal sealed class DiscardedOutput : ShellOutput
{
    public static DiscardedOutput Instance { get; } = new();

    public override void Write(ReadOnlySpan<byte> data)
    {
    }
}

/// <summary>
/// Everything a command writes, for the next command of a pipeline or for a file. Holding it all is what
/// makes pipes simple; the limit keeps one command line from filling the host's memory.
/// </summary>
internal sealed class BufferedOutput(long limit) : ShellOutput
{
    private readonly ArrayBufferWriter<byte> _data = new();

    public ReadOnlyMemory<byte> Data => _data.WrittenMemory;

    public override void Write(ReadOnlySpan<byte> data)
    {
        if (_data.WrittenCount + (long)data.Length > limit)
        {
            throw new ShellStopException(ShellStopReason.PipelineLimit,
                $"A pipe or redirection carried more than {limit / (1024 * 1024)} MiB, the limit of this session's flavor.");
        }

        _data.Write(data);
    }
}

/// <summary>
/// The command line's own stdout or stderr: keeps the first bytes for the result, counts the rest, and passes
/// everything on to <paramref name="live"/> (the caller's progress stream) as it is written.
/// </summary>
internal sealed class CapturedOutput(long keep, OutputBudget budget, OutputKind kind, Action<OutputChunk>? live = null) : ShellOutput
{
    private readonly ArrayBufferWriter<byte> _kept = new();
    private long _sentAhead;

    public long TotalBytes { get; private set; }

    public bool Truncated => TotalBytes > keep;

    public override void Write(ReadOnlySpan<byte> data)
    {
        var room = keep - _kept.WrittenCount;
        if (room > 0)
        {
            _kept.Write(data[..(int)Math.Min(room, data.Length)]);
        }

        TotalBytes += data.Length;
        budget.Spend(data.Length);
        if (live is not null)
        {
            var alreadySent = (int)Math.Min(Interlocked.Read(ref _sentAhead), data.Length);
            Interlocked.Add(ref _sentAhead, -alreadySent);
            if (alreadySent < data.Length)
            {
                live(new OutputChunk(kind, data[alreadySent..].ToArray()));
            }
        }
    }

    /// <summary>
    /// Passes on output of a script while it runs, from the guest's thread. The same bytes reach <see cref="Write"/>
    /// once the script is over, in order; they are kept and counted then, but not sent again.
    /// </summary>
    public void SendAhead(ReadOnlySpan<byte> data)
    {
        if (live is not null)
        {
            Interlocked.Add(ref _sentAhead, data.Length);
            live(new OutputChunk(kind, data.ToArray()));
        }
    }

    /// <summary>The kept text, cut on a character boundary when it was truncated.</summary>
    public string GetText()
    {
        var bytes = _kept.WrittenSpan;
        if (Truncated)
        {
            bytes = bytes[..CompleteLength(bytes)];
        }

        return Encoding.UTF8.GetString(bytes);
    }

    private static int CompleteLength(ReadOnlySpan<byte> bytes)
    {
        var lead = bytes.Length - 1;
        while (lead >= 0 && lead > bytes.Length - 4 && (bytes[lead] & 0xC0) == 0x80)
        {
            lead--;
        }

        if (lead < 0)
        {
            return bytes.Length;
        }

        var sequence = bytes[lead] >= 0xF0 ? 4 : bytes[lead] >= 0xE0 ? 3 : bytes[lead] >= 0xC0 ? 2 : 1;
        return lead + sequence > bytes.Length ? lead : bytes.Length;
    }
}

/// <summary>Output a command line may write in all (stdout and stderr together) before it is stopped.</summary>
internal sealed class OutputBudget(long limit)
{
    private long _spent;

    public void Spend(long bytes)
    {
        _spent += bytes;
        if (_spent > limit)
        {
            throw new ShellStopException(ShellStopReason.OutputLimit,
                $"The command line wrote more than {limit / (1024 * 1024)} MiB of output and was stopped.");
        }
    }
}
