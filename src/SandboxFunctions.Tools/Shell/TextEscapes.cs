using System.Globalization;
using System.Text;

namespace SandboxFunctions.Tools.Shell;

/// <summary>Backslash escapes as <c>echo -e</c>, <c>printf</c> and <c>$'...'</c> read them.</summary>
internal static class TextEscapes
{
    /// <summary>Replaces escapes in <paramref name="text"/>.</summary>
    /// <param name="octalNeedsZero">True for <c>echo -e</c> and <c>%b</c>, where octal is written <c>\0NNN</c>; false for <c>\NNN</c>.</param>
    /// <param name="stopped">Set when <c>\c</c> asked for no further output.</param>
    public static string Unescape(string text, bool octalNeedsZero, out bool stopped)
    {
        stopped = false;
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 >= text.Length)
            {
                result.Append(text[i]);
                continue;
            }

            var c = text[++i];
            switch (c)
            {
                case 'n': result.Append('\n'); break;
                case 't': result.Append('\t'); break;
                case 'r': result.Append('\r'); break;
                case 'a': result.Append('\a'); break;
                case 'b': result.Append('\b'); break;
                case 'f': result.Append('\f'); break;
                case 'v': result.Append('\v'); break;
                case 'e' or 'E': result.Append('\u001b'); break;
                case '\\': result.Append('\\'); break;
                case '\'': result.Append('\''); break;
                case '"': result.Append('"'); break;
                case 'c':
                    stopped = true;
                    return result.ToString();
                case 'x':
                    i = AppendNumber(text, result, 16, 2, i + 1) ?? Literal(result, 'x', i);
                    break;
                case 'u':
                    i = AppendNumber(text, result, 16, 4, i + 1) ?? Literal(result, 'u', i);
                    break;
                case 'U':
                    i = AppendNumber(text, result, 16, 8, i + 1) ?? Literal(result, 'U', i);
                    break;
                case '0' when octalNeedsZero:
                    i = AppendNumber(text, result, 8, 3, i + 1) ?? Zero(result, i);
                    break;
                case >= '0' and <= '7' when !octalNeedsZero:
                    i = AppendNumber(text, result, 8, 3, i) ?? i;
                    break;
                default:
                    result.Append('\\').Append(c);
                    break;
            }
        }

        return result.ToString();

        static int Literal(StringBuilder result, char c, int index)
        {
            result.Append('\\').Append(c);
            return index;
        }

        static int Zero(StringBuilder result, int index)
        {
            result.Append('\0');
            return index;
        }
    }

    /// <summary>Appends the character whose digits start at <paramref name="start"/>; returns the index of the last digit, or null when there is none.</summary>
    private static int? AppendNumber(string text, StringBuilder result, int radix, int maxDigits, int start)
    {
        var end = start;
        while (end < text.Length && end - start < maxDigits && IsDigit(text[end], radix))
        {
            end++;
        }

        if (end == start)
        {
            return null;
        }

        var value = radix == 16
            ? int.Parse(text.AsSpan(start, end - start), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : Convert.ToInt32(text.Substring(start, end - start), 8);
        if (radix == 8)
        {
            value &= 0xFF;
        }

        if (value > 0x10FFFF || value is >= 0xD800 and <= 0xDFFF)
        {
            result.Append('\uFFFD');
        }
        else
        {
            result.Append(char.ConvertFromUtf32(value));
        }

        return end - 1;
    }

    private static bool IsDigit(char c, int radix) => radix == 16 ? char.IsAsciiHexDigit(c) : c is >= '0' and <= '7';
}
