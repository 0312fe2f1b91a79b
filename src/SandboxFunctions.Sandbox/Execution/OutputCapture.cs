using System.Text;

namespace SandboxFunctions.Sandbox.Execution;

/// <summary>
/// Collects what a guest writes to stdout or stderr. Keeps the first <c>limit</c> bytes for the result and up
/// to <c>retainLimit</c> bytes in all (so a caller can keep the full text elsewhere), and counts the rest.
/// </summary>
internal sealed class OutputCapture(long limit, long retainLimit)
{
    private readonly List<byte> _retained = [];

    public long TotalBytes { get; private set; }

    public bool Truncated => TotalBytes > limit;

    /// <summary>Set when more bytes were written than could be retained.</summary>
    public bool RetentionExceeded => TotalBytes > retainLimit;

    /// <summary>Called (on the guest thread) with each chunk as it is written, e.g. to stream it to a client.</summary>
    public Action<ReadOnlyMemory<byte>>? OnWrite { get; set; }

    public void Write(ReadOnlySpan<byte> data)
    {
        var room = retainLimit - _retained.Count;
        if (room > 0)
        {
            _retained.AddRange(data[..(int)Math.Min(room, data.Length)]);
        }

        TotalBytes += data.Length;
        OnWrite?.Invoke(data.ToArray());
    }

    /// <summary>The text for the result: at most <c>limit</c> bytes, cut on a character boundary.</summary>
    public string GetText() => Decode(limit);

    /// <summary>Everything retained, for keeping as a file when the result was truncated.</summary>
    public string GetRetainedText() => Decode(retainLimit);

    private string Decode(long max)
    {
        var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_retained)[..(int)Math.Min(_retained.Count, max)];
        if (bytes.Length > 0 && bytes.Length < _retained.Count)
        {
            // Do not split a UTF-8 sequence at the cut: drop a last sequence that does not fit.
            var lead = bytes.Length - 1;
            while (lead > 0 && lead > bytes.Length - 4 && (bytes[lead] & 0xC0) == 0x80)
            {
                lead--;
            }

            var sequenceLength = bytes[lead] >= 0xF0 ? 4 : bytes[lead] >= 0xE0 ? 3 : bytes[lead] >= 0xC0 ? 2 : 1;
            if (lead + sequenceLength > bytes.Length)
            {
                bytes = bytes[..lead];
            }
        }

        return Encoding.UTF8.GetString(bytes);
    }
}
