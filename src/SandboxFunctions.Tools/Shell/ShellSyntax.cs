namespace SandboxFunctions.Tools.Shell;

/// <summary>A parsed command line: and-or lists run one after another (separated by <c>;</c> or newlines).</summary>
internal sealed record ShellScript(IReadOnlyList<AndOrList> Lists);

/// <summary>Pipelines joined by <c>&amp;&amp;</c> and <c>||</c>, evaluated left to right.</summary>
internal sealed record AndOrList(Pipeline First, IReadOnlyList<ChainedPipeline> Rest);

internal sealed record ChainedPipeline(ChainOperator Operator, Pipeline Pipeline);

internal enum ChainOperator
{
    And,
    Or,
}

/// <summary>Commands joined by <c>|</c>; <c>!</c> inverts the status of the last one.</summary>
internal sealed record Pipeline(IReadOnlyList<SimpleCommand> Commands, bool Negated);

internal sealed record SimpleCommand(IReadOnlyList<Assignment> Assignments, IReadOnlyList<Word> Words, IReadOnlyList<Redirection> Redirections);

internal sealed record Assignment(string Name, Word Value);

/// <summary>A word as written: pieces of text, each quoted or not, and parameter expansions.</summary>
internal sealed record Word(IReadOnlyList<WordPart> Parts)
{
    public static Word Empty { get; } = new([]);

    /// <summary>The word's text when it is a single unquoted literal (reserved words, assignments); otherwise null.</summary>
    public string? PlainText => Parts is [LiteralPart { Quoted: false } literal] ? literal.Text : null;
}

internal abstract record WordPart;

/// <summary>Text taken as written; quoted text is neither split nor matched against files.</summary>
internal sealed record LiteralPart(string Text, bool Quoted) : WordPart;

/// <summary><c>$NAME</c>, <c>${NAME}</c>, <c>${NAME:-default}</c>, <c>${NAME-default}</c> or <c>${#NAME}</c>.</summary>
internal sealed record ParameterPart(string Name, bool Quoted, ParameterForm Form = ParameterForm.Value, Word? Default = null) : WordPart;

internal enum ParameterForm
{
    Value,
    DefaultWhenUnsetOrEmpty,
    DefaultWhenUnset,
    Length,
}

/// <param name="Fd">The descriptor redirected: 0 for input, 1 for output, 2 for errors.</param>
/// <param name="Target">The file (or here-string text); null for <see cref="RedirectionOperator.Duplicate"/>.</param>
/// <param name="SourceFd">For <see cref="RedirectionOperator.Duplicate"/>: the descriptor copied, as in <c>2&gt;&amp;1</c>.</param>
internal sealed record Redirection(int Fd, RedirectionOperator Operator, Word? Target, int SourceFd = -1);

internal enum RedirectionOperator
{
    Input,
    Output,
    Append,
    HereString,
    Duplicate,
    OutputAndErrors,
    AppendOutputAndErrors,
}
