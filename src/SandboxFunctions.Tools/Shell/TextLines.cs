using System.Text;

namespace SandboxFunctions.Tools.Shell;

/// <summary>Text as the line-oriented commands see it: UTF-8, split on newlines.</summary>
internal static class TextLines
{
    public static string Decode(ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span);

    /// <summary>The lines of a text; a final newline ends the last line rather than starting an empty one.</summary>
    public static List<string> Split(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var lines = text.Split('\n').ToList();
        if (text.EndsWith('\n'))
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    public static List<string> Split(ReadOnlyMemory<byte> data) => Split(Decode(data));

    /// <summary>
    /// The lines of UTF-8 text one at a time, as <see cref="Split(ReadOnlyMemory{byte})"/> would give them, each decoded
    /// when it is reached, so that work over a large input can stop between any two lines.
    /// </summary>
    public static IEnumerable<string> Enumerate(ReadOnlyMemory<byte> data)
    {
        var start = 0;
        while (start < data.Length)
        {
            var end = data.Span[start..].IndexOf((byte)'\n');
            var length = end < 0 ? data.Length - start : end;
            yield return Encoding.UTF8.GetString(data.Span.Slice(start, length));
            start += length + 1;
        }
    }

    /// <summary>Writes lines to the command's stdout in pieces, checking between them that the command line may go on.</summary>
    public static void Write(CommandContext context, IEnumerable<string> lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line).Append('\n');
            if (text.Length > 64 * 1024)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                context.Stdout.Write(text.ToString());
                text.Clear();
            }
        }

        context.Stdout.Write(text.ToString());
    }
}
