using System.Globalization;
using System.Text;

namespace SandboxFunctions.Tools.Shell;

/// <summary>
/// Turns words into arguments as a POSIX shell does: parameter expansion, field splitting of unquoted
/// expansions, then pattern matching against the workspace; quoted text is never split or matched.
/// </summary>
internal sealed class WordExpander(ShellState state)
{
    private static readonly char[] FieldSeparators = [' ', '\t', '\n'];

    public async Task<List<string>> ExpandAsync(IEnumerable<Word> words)
    {
        var arguments = new List<string>();
        foreach (var word in words)
        {
            foreach (var field in Split(word))
            {
                if (field.HasWildcards)
                {
                    var matches = await Glob.ExpandAsync(state.Run.Files, state.Cwd, field.Pattern.ToString(), state.Run.CancellationToken).ConfigureAwait(false);
                    if (matches.Count > 0)
                    {
                        arguments.AddRange(matches);
                        continue;
                    }
                }

                arguments.Add(field.Text.ToString());
            }
        }

        return arguments;
    }

    /// <summary>A word as one string, without splitting or pattern matching: assignments, redirection targets, here-strings.</summary>
    public string ExpandText(Word word)
    {
        var text = new StringBuilder();
        foreach (var part in word.Parts)
        {
            text.Append(part switch
            {
                LiteralPart literal => literal.Text,
                ParameterPart parameter => Value(parameter),
                _ => string.Empty,
            });
        }

        return text.ToString();
    }

    private List<Field> Split(Word word)
    {
        var fields = new List<Field>();
        var current = new Field();
        foreach (var part in word.Parts)
        {
            switch (part)
            {
                case LiteralPart { Quoted: true } literal:
                    current.AppendQuoted(literal.Text);
                    break;
                case LiteralPart literal:
                    current.AppendUnquoted(literal.Text);
                    break;
                case ParameterPart { Quoted: true } parameter:
                    current.AppendQuoted(Value(parameter));
                    break;
                case ParameterPart parameter:
                    var pieces = Value(parameter).Split(FieldSeparators);
                    for (var i = 0; i < pieces.Length; i++)
                    {
                        if (i > 0 && current.Exists)
                        {
                            fields.Add(current);
                            current = new Field();
                        }

                        if (pieces[i].Length > 0)
                        {
                            current.AppendUnquoted(pieces[i]);
                        }
                    }

                    break;
            }
        }

        if (current.Exists)
        {
            fields.Add(current);
        }

        return fields;
    }

    private string Value(ParameterPart parameter)
    {
        var value = parameter.Name switch
        {
            "?" => state.LastStatus.ToString(CultureInfo.InvariantCulture),
            "#" => "0",
            "$" => "1",
            "0" => "sh",
            "@" or "*" or "!" or "-" => string.Empty,
            [>= '1' and <= '9'] => null,
            _ => state.Get(parameter.Name),
        };

        return parameter.Form switch
        {
            ParameterForm.Length => (value ?? string.Empty).Length.ToString(CultureInfo.InvariantCulture),
            ParameterForm.DefaultWhenUnsetOrEmpty when string.IsNullOrEmpty(value) => ExpandText(parameter.Default ?? Word.Empty),
            ParameterForm.DefaultWhenUnset when value is null => ExpandText(parameter.Default ?? Word.Empty),
            _ => value ?? string.Empty,
        };
    }

    /// <summary>One argument being built: its text, and the same text as a pattern with quoted characters escaped.</summary>
    private sealed class Field
    {
        public StringBuilder Text { get; } = new();

        public StringBuilder Pattern { get; } = new();

        public bool HasWildcards { get; private set; }

        /// <summary>False until something was appended; an empty quoted string still makes an (empty) argument.</summary>
        public bool Exists { get; private set; }

        public void AppendQuoted(string text)
        {
            Exists = true;
            Text.Append(text);
            foreach (var c in text)
            {
                if (c is '*' or '?' or '[' or ']' or '\\')
                {
                    Pattern.Append('\\');
                }

                Pattern.Append(c);
            }
        }

        public void AppendUnquoted(string text)
        {
            Exists = true;
            Text.Append(text);
            Pattern.Append(text);
            HasWildcards |= Glob.HasWildcards(Pattern.ToString());
        }
    }
}
