using System.Globalization;
using System.Text;

namespace SandboxFunctions.Tools.Shell;

/// <summary>
/// Parses a POSIX-shell-like command line: pipelines, redirections, <c>;</c> <c>&amp;&amp;</c> <c>||</c>, quotes,
/// backslash escapes and parameter expansions. Constructs it does not run (command substitution, subshells,
/// control flow, functions, here-documents, background jobs) are refused with a message that names them.
/// </summary>
internal sealed class ShellParser
{
    /// <summary>The longest command line accepted, in characters.</summary>
    public const int MaxLength = 64 * 1024;

    private const string LoopAdvice = "; run the logic as a script instead, e.g. python -c \"...\" or node -e \"...\" (or write a file and run it)";

    private static readonly Dictionary<string, string> ReservedWords = new(StringComparer.Ordinal)
    {
        ["if"] = "`if` statements are not supported; use `&&`, `||` and `test`/`[`" + LoopAdvice,
        ["then"] = "`if ... then` is not supported; use `&&`, `||` and `test`/`[`" + LoopAdvice,
        ["elif"] = "`if ... elif` is not supported" + LoopAdvice,
        ["else"] = "`if ... else` is not supported; use `cmd && a || b`" + LoopAdvice,
        ["fi"] = "`if ... fi` is not supported" + LoopAdvice,
        ["for"] = "`for` loops are not supported" + LoopAdvice,
        ["while"] = "`while` loops are not supported" + LoopAdvice,
        ["until"] = "`until` loops are not supported" + LoopAdvice,
        ["select"] = "`select` is not supported" + LoopAdvice,
        ["do"] = "loops (`do ... done`) are not supported" + LoopAdvice,
        ["done"] = "loops (`do ... done`) are not supported" + LoopAdvice,
        ["case"] = "`case` is not supported" + LoopAdvice,
        ["esac"] = "`case ... esac` is not supported" + LoopAdvice,
        ["function"] = "functions are not supported" + LoopAdvice,
        ["{"] = "command groups `{ ...; }` are not supported; chain the commands with `;` or `&&`",
        ["}"] = "command groups `{ ...; }` are not supported; chain the commands with `;` or `&&`",
        ["[["] = "`[[ ... ]]` is not supported; use `[ ... ]` or `test`",
        ["time"] = "`time` is not supported; the result reports duration_ms",
    };

    private readonly string _text;
    private int _position;

    private ShellParser(string text)
    {
        _text = text;
    }

    public static ShellScript Parse(string commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        if (commandLine.Length > MaxLength)
        {
            throw new ShellSyntaxException($"The command line is {commandLine.Length} characters long; the limit is {MaxLength}.");
        }

        return new ShellParser(commandLine).ParseScript();
    }

    private bool AtEnd => _position >= _text.Length;

    private char Current => _text[_position];

    private ShellScript ParseScript()
    {
        var lists = new List<AndOrList>();
        while (true)
        {
            SkipBlanks(newlines: true);
            if (AtEnd)
            {
                return new ShellScript(lists);
            }

            if (Current is ';' or '&' or '|' or ')')
            {
                throw UnexpectedToken();
            }

            lists.Add(ParseAndOr());
            SkipBlanks(newlines: false);
            if (AtEnd)
            {
                return new ShellScript(lists);
            }

            switch (Current)
            {
                case ';' when Peek(1) == ';':
                    throw UnexpectedToken();
                case ';' or '\n':
                    _position++;
                    break;
                case '&':
                    throw new ShellSyntaxException("background jobs (`&`) are not supported; commands run one after another, so use `;` or `&&`", unsupported: true);
                default:
                    throw UnexpectedToken();
            }
        }
    }

    private AndOrList ParseAndOr()
    {
        var first = ParsePipeline();
        var rest = new List<ChainedPipeline>();
        while (true)
        {
            SkipBlanks(newlines: false);
            ChainOperator op;
            if (Matches("&&"))
            {
                op = ChainOperator.And;
            }
            else if (Matches("||"))
            {
                op = ChainOperator.Or;
            }
            else
            {
                return new AndOrList(first, rest);
            }

            _position += 2;
            SkipBlanks(newlines: true);
            if (AtEnd)
            {
                throw new ShellSyntaxException($"syntax error: the command line ends after `{(op == ChainOperator.And ? "&&" : "||")}'; add the command that should follow it");
            }

            rest.Add(new ChainedPipeline(op, ParsePipeline()));
        }
    }

    private Pipeline ParsePipeline()
    {
        SkipBlanks(newlines: false);
        var negated = false;
        if (!AtEnd && Current == '!' && (Peek(1) is null or ' ' or '\t'))
        {
            negated = true;
            _position++;
        }

        var commands = new List<SimpleCommand> { ParseCommand() };
        while (true)
        {
            SkipBlanks(newlines: false);
            if (AtEnd || Current != '|' || Peek(1) == '|')
            {
                return new Pipeline(commands, negated);
            }

            _position++;
            if (!AtEnd && Current == '&')
            {
                // `a |& b` is `a 2>&1 | b`.
                _position++;
                var last = commands[^1];
                commands[^1] = last with { Redirections = [.. last.Redirections, new Redirection(2, RedirectionOperator.Duplicate, null, 1)] };
            }

            SkipBlanks(newlines: true);
            if (AtEnd)
            {
                throw new ShellSyntaxException("syntax error: the command line ends after `|'; add the command that reads the pipe");
            }

            commands.Add(ParseCommand());
        }
    }

    private SimpleCommand ParseCommand()
    {
        var assignments = new List<Assignment>();
        var words = new List<Word>();
        var redirections = new List<Redirection>();
        while (true)
        {
            SkipBlanks(newlines: false);
            if (AtEnd)
            {
                break;
            }

            var c = Current;
            if (c == '&' && Peek(1) == '>')
            {
                redirections.Add(ParseRedirection(null));
                continue;
            }

            if (c is ';' or '\n' or '&' or '|' or ')')
            {
                break;
            }

            if (c == '(')
            {
                throw words.Count > 0
                    ? new ShellSyntaxException("function definitions (`name() { ... }`) are not supported" + LoopAdvice, unsupported: true)
                    : new ShellSyntaxException("subshells `( ... )` and `(( ... ))` are not supported; run the commands directly, chained with `;` or `&&`", unsupported: true);
            }

            if (c is '<' or '>')
            {
                redirections.Add(ParseRedirection(null));
                continue;
            }

            var word = ReadWord() ?? throw UnexpectedToken();
            if (!AtEnd && Current is '<' or '>' && word.PlainText is { Length: > 0 and <= 2 } digits && digits.All(char.IsAsciiDigit))
            {
                redirections.Add(ParseRedirection(int.Parse(digits, CultureInfo.InvariantCulture)));
                continue;
            }

            if (words.Count == 0 && TryAssignment(word) is { } assignment)
            {
                assignments.Add(assignment);
                continue;
            }

            if (words.Count == 0 && word.PlainText is { } plain && ReservedWords.TryGetValue(plain, out var reason))
            {
                throw new ShellSyntaxException(reason, unsupported: true);
            }

            words.Add(word);
        }

        if (assignments.Count == 0 && words.Count == 0 && redirections.Count == 0)
        {
            throw UnexpectedToken();
        }

        return new SimpleCommand(assignments, words, redirections);
    }

    private Redirection ParseRedirection(int? fd)
    {
        RedirectionOperator op;
        var sourceFd = -1;
        if (Current == '&')
        {
            _position += 2;
            op = Take('>') ? RedirectionOperator.AppendOutputAndErrors : RedirectionOperator.OutputAndErrors;
        }
        else if (Current == '<')
        {
            _position++;
            if (Take('<'))
            {
                if (!Take('<'))
                {
                    throw new ShellSyntaxException("here-documents (`<<`) are not supported; pipe the text in (printf '...' | cmd), use a here-string (cmd <<< 'text'), or write a file first", unsupported: true);
                }

                op = RedirectionOperator.HereString;
            }
            else if (!AtEnd && Current is '(' or '&' or '>')
            {
                throw new ShellSyntaxException(Current == '(' ? "process substitution `<(...)` is not supported; write the output to a file first" : $"the redirection `<{Current}` is not supported", unsupported: true);
            }
            else
            {
                op = RedirectionOperator.Input;
            }
        }
        else
        {
            _position++;
            if (Take('>'))
            {
                op = RedirectionOperator.Append;
            }
            else if (Take('&'))
            {
                if (!AtEnd && char.IsAsciiDigit(Current))
                {
                    sourceFd = Current - '0';
                    _position++;
                    op = RedirectionOperator.Duplicate;
                }
                else if (!AtEnd && Current == '-')
                {
                    throw new ShellSyntaxException("closing a descriptor (`>&-`) is not supported; redirect to /dev/null instead", unsupported: true);
                }
                else if (fd is null)
                {
                    op = RedirectionOperator.OutputAndErrors;
                }
                else
                {
                    throw new ShellSyntaxException($"syntax error: `{fd}>&' needs a descriptor number, as in {fd}>&1");
                }
            }
            else if (!AtEnd && Current == '(')
            {
                throw new ShellSyntaxException("process substitution `>(...)` is not supported; write the output to a file first", unsupported: true);
            }
            else
            {
                Take('|');
                op = RedirectionOperator.Output;
            }
        }

        var target = op is RedirectionOperator.Input or RedirectionOperator.HereString ? fd ?? 0 : fd ?? 1;
        if (target > 2 || sourceFd is > 2)
        {
            throw new ShellSyntaxException($"file descriptor {Math.Max(target, sourceFd)} is not supported; only 0 (input), 1 (output) and 2 (errors) are", unsupported: true);
        }

        if (op == RedirectionOperator.Duplicate)
        {
            if (sourceFd is not (1 or 2) || target is not (1 or 2))
            {
                throw new ShellSyntaxException($"the redirection `{target}>&{sourceFd}` is not supported; use 2>&1 or >&2", unsupported: true);
            }

            return new Redirection(target, op, null, sourceFd);
        }

        SkipBlanks(newlines: false);
        var word = AtEnd || Current is ';' or '\n' or '&' or '|' or '<' or '>' or '(' or ')' ? null : ReadWord();
        return word is null
            ? throw new ShellSyntaxException($"syntax error: a redirection needs a file name after it (near {Describe()})")
            : new Redirection(target, op, word);
    }

    private static Assignment? TryAssignment(Word word)
    {
        if (word.Parts is not [LiteralPart { Quoted: false } first, ..])
        {
            return null;
        }

        var equals = first.Text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || !IsName(first.Text.AsSpan(0, equals)))
        {
            return null;
        }

        var rest = first.Text[(equals + 1)..];
        var parts = new List<WordPart>();
        if (rest.Length > 0)
        {
            parts.Add(new LiteralPart(rest, Quoted: false));
        }

        parts.AddRange(word.Parts.Skip(1));
        return new Assignment(first.Text[..equals], new Word(parts));
    }

    /// <summary>Reads one word up to an unquoted blank or operator; null when there is none here.</summary>
    private Word? ReadWord()
    {
        var start = _position;
        var parts = new List<WordPart>();
        var literal = new StringBuilder();
        if (!AtEnd && Current == '~' && (Peek(1) is null or '/' or ' ' or '\t' or '\n' or ';' or '|' or '&' or '<' or '>' or ')'))
        {
            parts.Add(new ParameterPart("HOME", Quoted: true));
            _position++;
        }

        while (!AtEnd)
        {
            var c = Current;
            if (c is ' ' or '\t' or '\n' or ';' or '&' or '|' or '<' or '>' or '(' or ')')
            {
                break;
            }

            switch (c)
            {
                case '\'':
                    Flush(parts, literal, quoted: false);
                    parts.Add(new LiteralPart(ReadSingleQuoted(), Quoted: true));
                    break;
                case '"':
                    Flush(parts, literal, quoted: false);
                    ReadDoubleQuoted(parts);
                    break;
                case '\\':
                    _position++;
                    if (AtEnd)
                    {
                        literal.Append('\\');
                    }
                    else if (Current == '\n')
                    {
                        _position++;
                    }
                    else
                    {
                        Flush(parts, literal, quoted: false);
                        parts.Add(new LiteralPart(Current.ToString(), Quoted: true));
                        _position++;
                    }

                    break;
                case '$':
                    Flush(parts, literal, quoted: false);
                    ReadDollar(parts, quoted: false);
                    break;
                case '`':
                    throw CommandSubstitution();
                default:
                    literal.Append(c);
                    _position++;
                    break;
            }
        }

        Flush(parts, literal, quoted: false);
        return _position == start ? null : new Word(parts);
    }

    private string ReadSingleQuoted()
    {
        var open = _position++;
        var close = _text.IndexOf('\'', _position);
        if (close < 0)
        {
            throw new ShellSyntaxException($"syntax error: the single quote opened at character {open + 1} is never closed");
        }

        var text = _text[_position..close];
        _position = close + 1;
        return text;
    }

    private void ReadDoubleQuoted(List<WordPart> parts)
    {
        var open = _position++;
        var literal = new StringBuilder();
        var added = parts.Count;
        while (true)
        {
            if (AtEnd)
            {
                throw new ShellSyntaxException($"syntax error: the double quote opened at character {open + 1} is never closed");
            }

            var c = Current;
            if (c == '"')
            {
                _position++;
                break;
            }

            switch (c)
            {
                case '\\':
                    var next = Peek(1);
                    if (next is '$' or '`' or '"' or '\\')
                    {
                        literal.Append(next.Value);
                        _position += 2;
                    }
                    else if (next == '\n')
                    {
                        _position += 2;
                    }
                    else
                    {
                        literal.Append('\\');
                        _position++;
                    }

                    break;
                case '$':
                    Flush(parts, literal, quoted: true);
                    ReadDollar(parts, quoted: true);
                    break;
                case '`':
                    throw CommandSubstitution();
                default:
                    literal.Append(c);
                    _position++;
                    break;
            }
        }

        if (literal.Length > 0 || parts.Count == added)
        {
            parts.Add(new LiteralPart(literal.ToString(), Quoted: true));
        }
    }

    private void ReadDollar(List<WordPart> parts, bool quoted)
    {
        _position++;
        if (AtEnd)
        {
            parts.Add(new LiteralPart("$", quoted));
            return;
        }

        var c = Current;
        switch (c)
        {
            case '(' when Peek(1) == '(':
                throw new ShellSyntaxException("arithmetic expansion `$((...))` is not supported; compute it with python -c or node -e", unsupported: true);
            case '(':
                throw CommandSubstitution();
            case '{':
                parts.Add(ReadBraced(quoted));
                return;
            case '\'' when !quoted:
                parts.Add(new LiteralPart(ReadAnsiQuoted(), Quoted: true));
                return;
            case '"' when !quoted:
                // $"..." is a translatable string; without translations it is the string itself.
                return;
        }

        if (IsNameStart(c))
        {
            parts.Add(new ParameterPart(ReadName(), quoted));
        }
        else if (char.IsAsciiDigit(c) || c is '?' or '#' or '$' or '!' or '@' or '*' or '-')
        {
            _position++;
            parts.Add(new ParameterPart(c.ToString(), quoted));
        }
        else
        {
            parts.Add(new LiteralPart("$", quoted));
        }
    }

    private ParameterPart ReadBraced(bool quoted)
    {
        var open = _position++;
        var length = Take('#') && !AtEnd && Current != '}';
        if (!length && _text[_position - 1] == '#')
        {
            _position--;
        }

        string name;
        if (!AtEnd && IsNameStart(Current))
        {
            name = ReadName();
        }
        else if (!AtEnd && (char.IsAsciiDigit(Current) || Current is '?' or '#' or '$' or '@' or '*'))
        {
            name = Current.ToString();
            _position++;
        }
        else
        {
            throw new ShellSyntaxException($"syntax error: bad substitution at character {open}");
        }

        if (Take('}'))
        {
            return new ParameterPart(name, quoted, length ? ParameterForm.Length : ParameterForm.Value);
        }

        if (!length && Matches(":-"))
        {
            _position += 2;
            return new ParameterPart(name, quoted, ParameterForm.DefaultWhenUnsetOrEmpty, ReadDefault(quoted));
        }

        if (!length && Take('-'))
        {
            return new ParameterPart(name, quoted, ParameterForm.DefaultWhenUnset, ReadDefault(quoted));
        }

        var close = _text.IndexOf('}', _position);
        var form = close < 0 ? _text[(open - 1)..] : _text[(open - 1)..(close + 1)];
        throw new ShellSyntaxException($"`{form}` is not supported; only ${{NAME}}, ${{NAME:-default}}, ${{NAME-default}} and ${{#NAME}} are" + LoopAdvice, unsupported: true);
    }

    /// <summary>The default of <c>${NAME:-default}</c>, up to the closing brace.</summary>
    private Word ReadDefault(bool quoted)
    {
        var parts = new List<WordPart>();
        var literal = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw new ShellSyntaxException("syntax error: `${' is never closed with `}'");
            }

            var c = Current;
            if (c == '}')
            {
                _position++;
                Flush(parts, literal, quoted);
                return new Word(parts);
            }

            switch (c)
            {
                case '\'' when !quoted:
                    Flush(parts, literal, quoted);
                    parts.Add(new LiteralPart(ReadSingleQuoted(), Quoted: true));
                    break;
                case '"':
                    Flush(parts, literal, quoted);
                    ReadDoubleQuoted(parts);
                    break;
                case '\\' when Peek(1) is { } escaped:
                    Flush(parts, literal, quoted);
                    parts.Add(new LiteralPart(escaped.ToString(), Quoted: true));
                    _position += 2;
                    break;
                case '$':
                    Flush(parts, literal, quoted);
                    ReadDollar(parts, quoted);
                    break;
                case '`':
                    throw CommandSubstitution();
                default:
                    literal.Append(c);
                    _position++;
                    break;
            }
        }
    }

    private string ReadAnsiQuoted()
    {
        var open = _position++;
        var raw = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw new ShellSyntaxException($"syntax error: the quote of $'...' opened at character {open + 1} is never closed");
            }

            var c = Current;
            if (c == '\'')
            {
                _position++;
                return TextEscapes.Unescape(raw.ToString(), octalNeedsZero: false, out _);
            }

            raw.Append(c);
            _position++;
            if (c == '\\' && !AtEnd)
            {
                raw.Append(Current);
                _position++;
            }
        }
    }

    private string ReadName()
    {
        var start = _position;
        while (!AtEnd && (char.IsAsciiLetterOrDigit(Current) || Current == '_'))
        {
            _position++;
        }

        return _text[start.._position];
    }

    private void SkipBlanks(bool newlines)
    {
        while (!AtEnd)
        {
            var c = Current;
            if (c is ' ' or '\t' or '\r' || (newlines && c == '\n'))
            {
                _position++;
            }
            else if (c == '\\' && Peek(1) == '\n')
            {
                _position += 2;
            }
            else if (c == '#')
            {
                while (!AtEnd && Current != '\n')
                {
                    _position++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private static void Flush(List<WordPart> parts, StringBuilder literal, bool quoted)
    {
        if (literal.Length > 0)
        {
            parts.Add(new LiteralPart(literal.ToString(), quoted));
            literal.Clear();
        }
    }

    private bool Matches(string token) => string.CompareOrdinal(_text, _position, token, 0, token.Length) == 0;

    private bool Take(char c)
    {
        if (!AtEnd && Current == c)
        {
            _position++;
            return true;
        }

        return false;
    }

    private char? Peek(int offset) => _position + offset < _text.Length ? _text[_position + offset] : null;

    private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

    public static bool IsName(ReadOnlySpan<char> text) =>
        text.Length > 0 && IsNameStart(text[0]) && !text.ContainsAnyExcept(NameCharacters);

    private static readonly System.Buffers.SearchValues<char> NameCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

    private static ShellSyntaxException CommandSubstitution() =>
        new("command substitution (`$(...)` or backquotes) is not supported; run the inner command first and write its output to a file, or do it all in python -c or node -e", unsupported: true);

    private ShellSyntaxException UnexpectedToken() => new($"syntax error near unexpected token {Describe()}");

    private string Describe()
    {
        if (AtEnd)
        {
            return "at the end of the command line";
        }

        var token = Matches("&&") || Matches("||") || Matches(";;") || Matches(">>") ? _text.Substring(_position, 2) : Current == '\n' ? "newline" : Current.ToString();
        return $"`{token}' (character {_position + 1})";
    }
}
