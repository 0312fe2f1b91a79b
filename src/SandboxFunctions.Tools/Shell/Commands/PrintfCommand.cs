using System.Globalization;
using System.Text;

namespace SandboxFunctions.Tools.Shell.Commands;

/// <summary>
/// <c>printf FORMAT [ARGUMENT]...</c> with the C conversions %s %b %c %d %i %u %o %x %X %e %E %f %F %g %G and %%,
/// flags, width and precision (also as *); the format is reused while arguments remain, as in the shell.
/// </summary>
internal static class PrintfCommand
{
    public static Task<int> RunAsync(CommandContext context) => Task.FromResult(Run(context));

    private static int Run(CommandContext context)
    {
        var arguments = context.Arguments is ["--", ..] ? context.Arguments.Skip(1).ToList() : context.Arguments;
        if (arguments.Count == 0)
        {
            return context.Fail("usage: printf FORMAT [ARGUMENT]...", 2);
        }

        var formatter = new Formatter(context, arguments[0], [.. arguments.Skip(1)]);
        formatter.Run();
        return formatter.Status;
    }

    private sealed class Formatter(CommandContext context, string format, List<string> arguments)
    {
        /// <summary>Output is passed on in pieces of about this size, so that widths and reused formats meet the output limits as they grow.</summary>
        private const int FlushChars = 64 * 1024;

        private int _next;
        private bool _stopped;

        private readonly StringBuilder _output = new();

        public int Status { get; private set; }

        public void Run()
        {
            do
            {
                var before = _next;
                FormatOnce();
                if (_stopped || _next == before)
                {
                    break;
                }
            }
            while (_next < arguments.Count);

            context.Stdout.Write(_output.ToString());
        }

        private void FormatOnce()
        {
            for (var i = 0; i < format.Length && !_stopped; i++)
            {
                if (_output.Length > FlushChars)
                {
                    context.CancellationToken.ThrowIfCancellationRequested();
                    context.Stdout.Write(_output.ToString());
                    _output.Clear();
                }

                var c = format[i];
                if (c == '\\')
                {
                    i = AppendEscape(i);
                }
                else if (c == '%' && i + 1 < format.Length && format[i + 1] == '%')
                {
                    _output.Append('%');
                    i++;
                }
                else if (c == '%')
                {
                    i = AppendConversion(i);
                }
                else
                {
                    _output.Append(c);
                }
            }
        }

        private int AppendEscape(int start)
        {
            var end = start + 1;
            if (end >= format.Length)
            {
                _output.Append('\\');
                return start;
            }

            var kind = format[end];
            var octal = kind is >= '0' and <= '7';
            var digits = octal ? 3 : kind == 'x' ? 2 : kind == 'u' ? 4 : kind == 'U' ? 8 : 0;
            var first = octal ? end : end + 1;
            end = first;
            while (end < format.Length && end - first < digits && (octal ? format[end] is >= '0' and <= '7' : char.IsAsciiHexDigit(format[end])))
            {
                end++;
            }

            end = Math.Max(end, start + 2);

            _output.Append(TextEscapes.Unescape(format[start..end], octalNeedsZero: false, out var stopped));
            _stopped |= stopped;
            return end - 1;
        }

        private int AppendConversion(int start)
        {
            var i = start + 1;
            var flags = string.Empty;
            while (i < format.Length && format[i] is '-' or '+' or ' ' or '#' or '0')
            {
                flags += format[i++];
            }

            int? width = ReadNumber(ref i);
            int? precision = null;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                precision = ReadNumber(ref i) ?? 0;
            }

            while (i < format.Length && format[i] is 'h' or 'l' or 'L' or 'q' or 'j' or 'z' or 't')
            {
                i++;
            }

            if (i >= format.Length)
            {
                _output.Append(format[start..]);
                Fail($"%{format[(start + 1)..]}: missing conversion specifier");
                return format.Length;
            }

            if (width < 0)
            {
                flags += '-';
                width = -width;
            }

            var conversion = format[i];
            var text = conversion switch
            {
                's' => precision is { } p ? Truncate(NextArgument(), p) : NextArgument(),
                'b' => Unescape(NextArgument(), precision),
                'c' => NextArgument() is { Length: > 0 } s ? s[..1] : string.Empty,
                'd' or 'i' => Integer(NextInteger(), flags, precision),
                'u' => Unsigned(NextInteger(), 10, flags, precision, upper: false),
                'o' or 'x' or 'X' => Unsigned(NextInteger(), conversion == 'o' ? 8 : 16, flags, precision, upper: conversion == 'X'),
                'e' or 'E' or 'f' or 'F' or 'g' or 'G' => Real(NextReal(), conversion, flags, precision ?? 6),
                _ => null,
            };

            if (text is null)
            {
                Fail($"%{conversion}: invalid conversion specification");
                _stopped = true;
                return format.Length;
            }

            var pad = width is { } w && w > text.Length ? w - text.Length : 0;
            if (pad == 0)
            {
                _output.Append(text);
            }
            else if (flags.Contains('-', StringComparison.Ordinal))
            {
                _output.Append(text).Append(' ', pad);
            }
            else if (flags.Contains('0', StringComparison.Ordinal) && conversion is not ('s' or 'b' or 'c') && !(precision is not null && conversion is 'd' or 'i' or 'u' or 'o' or 'x' or 'X') && !text.Contains("inf", StringComparison.Ordinal) && !text.Contains("nan", StringComparison.Ordinal))
            {
                var signLength = text.Length > 0 && text[0] is '-' or '+' or ' ' ? 1 : 0;
                if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                {
                    signLength = 2;
                }

                _output.Append(text, 0, signLength).Append('0', pad).Append(text, signLength, text.Length - signLength);
            }
            else
            {
                _output.Append(' ', pad).Append(text);
            }

            return i;
        }

        private int? ReadNumber(ref int i)
        {
            if (i < format.Length && format[i] == '*')
            {
                i++;
                return (int)Math.Clamp(NextInteger(), -100_000, 100_000);
            }

            var start = i;
            while (i < format.Length && char.IsAsciiDigit(format[i]))
            {
                i++;
            }

            return i > start && int.TryParse(format.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? Math.Min(value, 100_000) : null;
        }

        private string NextArgument() => _next < arguments.Count ? arguments[_next++] : string.Empty;

        private long NextInteger()
        {
            var text = NextArgument();
            if (text.Length == 0)
            {
                return 0;
            }

            if (text.Length >= 2 && text[0] is '\'' or '"')
            {
                return char.ConvertToUtf32(text, 1) is var codePoint ? codePoint : 0;
            }

            var trimmed = text.Trim();
            var negative = trimmed.StartsWith('-');
            var digits = trimmed.TrimStart('-', '+');
            var parsed = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? long.TryParse(digits.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
                : digits.Length > 1 && digits[0] == '0' && digits.All(d => d is >= '0' and <= '7')
                    ? TryOctal(digits, out value)
                    : long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
            if (!parsed)
            {
                Fail($"'{text}': invalid number");
                return 0;
            }

            return negative ? -value : value;

            static bool TryOctal(string digits, out long value)
            {
                try
                {
                    value = Convert.ToInt64(digits, 8);
                    return true;
                }
                catch (OverflowException)
                {
                    value = 0;
                    return false;
                }
            }
        }

        private double NextReal()
        {
            var text = NextArgument();
            if (text.Length == 0)
            {
                return 0;
            }

            if (text.Length >= 2 && text[0] is '\'' or '"')
            {
                return char.ConvertToUtf32(text, 1);
            }

            if (double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            Fail($"'{text}': invalid number");
            return 0;
        }

        private string Unescape(string text, int? precision)
        {
            var result = TextEscapes.Unescape(text, octalNeedsZero: true, out var stopped);
            _stopped |= stopped;
            return precision is { } p ? Truncate(result, p) : result;
        }

        private void Fail(string message) => Status = context.Fail(message);

        private static string Truncate(string text, int length) => text.Length > length ? text[..length] : text;

        private static string Integer(long value, string flags, int? precision)
        {
            var digits = Math.Abs((decimal)value).ToString(CultureInfo.InvariantCulture);
            if (precision is { } p)
            {
                digits = p == 0 && value == 0 ? string.Empty : digits.PadLeft(p, '0');
            }

            var sign = value < 0 ? "-" : flags.Contains('+', StringComparison.Ordinal) ? "+" : flags.Contains(' ', StringComparison.Ordinal) ? " " : string.Empty;
            return sign + digits;
        }

        private static string Unsigned(long value, int radix, string flags, int? precision, bool upper)
        {
            var digits = radix == 10 ? ((ulong)value).ToString(CultureInfo.InvariantCulture) : Convert.ToString(value, radix);
            if (upper)
            {
                digits = digits.ToUpperInvariant();
            }

            if (precision is { } p)
            {
                digits = p == 0 && value == 0 ? string.Empty : digits.PadLeft(p, '0');
            }

            if (flags.Contains('#', StringComparison.Ordinal) && value != 0)
            {
                digits = radix == 16 ? (upper ? "0X" : "0x") + digits : radix == 8 && !digits.StartsWith('0') ? "0" + digits : digits;
            }

            return digits;
        }

        /// <summary>%e, %f and %g as C prints them.</summary>
        private static string Real(double value, char conversion, string flags, int precision)
        {
            var upper = char.IsUpper(conversion);
            var sign = value < 0 || double.IsNegative(value) ? "-" : flags.Contains('+', StringComparison.Ordinal) ? "+" : flags.Contains(' ', StringComparison.Ordinal) ? " " : string.Empty;
            var magnitude = Math.Abs(value);
            string body;
            if (double.IsNaN(value) || double.IsInfinity(value))
            {
                body = double.IsNaN(value) ? "nan" : "inf";
                return sign + (upper ? body.ToUpperInvariant() : body);
            }

            var alternate = flags.Contains('#', StringComparison.Ordinal);
            switch (char.ToLowerInvariant(conversion))
            {
                case 'f':
                    body = magnitude.ToString("F" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
                    break;
                case 'e':
                    body = Exponential(magnitude, precision);
                    break;
                default:
                    var significant = precision == 0 ? 1 : precision;
                    var exponent = magnitude == 0 ? 0 : ExponentOf(Exponential(magnitude, significant - 1));
                    body = exponent < -4 || exponent >= significant
                        ? Exponential(magnitude, significant - 1)
                        : magnitude.ToString("F" + (significant - 1 - exponent).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
                    if (!alternate)
                    {
                        body = TrimZeros(body);
                    }

                    break;
            }

            if (alternate && !body.Contains('.', StringComparison.Ordinal))
            {
                var e = body.IndexOf('e', StringComparison.Ordinal);
                body = e < 0 ? body + "." : body.Insert(e, ".");
            }

            return sign + (upper ? body.ToUpperInvariant() : body);

            static string TrimZeros(string text)
            {
                var e = text.IndexOf('e', StringComparison.Ordinal);
                var mantissa = e < 0 ? text : text[..e];
                if (mantissa.Contains('.', StringComparison.Ordinal))
                {
                    mantissa = mantissa.TrimEnd('0').TrimEnd('.');
                }

                return e < 0 ? mantissa : mantissa + text[e..];
            }
        }

        private static string Exponential(double magnitude, int precision)
        {
            var text = magnitude.ToString("E" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            var e = text.IndexOf('E', StringComparison.Ordinal);
            var exponent = int.Parse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return $"{text[..e]}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture)}";
        }

        private static int ExponentOf(string exponential) =>
            int.Parse(exponential.AsSpan(exponential.IndexOf('e', StringComparison.Ordinal) + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }
}
