using System.Text;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Tools.Jobs;

/// <summary>
/// The end of a running job's output, for <c>get_job</c> to show while it runs. The guest thread writes; the
/// job's monitor reads. Only the tail is kept: the full output is in the job's report when it ends.
/// </summary>
internal sealed class JobOutput
{
    private readonly Lock _lock = new();
    private readonly Stream _stdout = new();
    private readonly Stream _stderr = new();
    private long _version;

    /// <summary>Changes whenever output arrives.</summary>
    public long Version => Interlocked.Read(ref _version);

    public string Stdout => Read(_stdout);

    public string Stderr => Read(_stderr);

    public void Write(OutputChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var stream = chunk.Kind == OutputKind.Stdout ? _stdout : _stderr;
        var bytes = chunk.Data.Span;
        lock (_lock)
        {
            // The decoder carries characters split across chunks.
            var count = stream.Decoder.GetCharCount(bytes, flush: false);
            Span<char> chars = count <= 1024 ? stackalloc char[count] : new char[count];
            stream.Decoder.GetChars(bytes, chars, flush: false);
            stream.Text.Append(chars);
            if (stream.Text.Length > 2 * JobStore.MaxStoredOutputChars)
            {
                stream.Text.Remove(0, stream.Text.Length - JobStore.MaxStoredOutputChars);
                stream.Trimmed = true;
            }

            Interlocked.Increment(ref _version);
        }
    }

    private string Read(Stream stream)
    {
        lock (_lock)
        {
            var text = stream.Text.ToString();
            return stream.Trimmed && text.Length <= JobStore.MaxStoredOutputChars ? "[... earlier output omitted ...]\n" + text : JobStore.Tail(text);
        }
    }

    private sealed class Stream
    {
        public StringBuilder Text { get; } = new();

        public Decoder Decoder { get; } = Encoding.UTF8.GetDecoder();

        public bool Trimmed { get; set; }
    }
}
