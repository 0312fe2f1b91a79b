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
