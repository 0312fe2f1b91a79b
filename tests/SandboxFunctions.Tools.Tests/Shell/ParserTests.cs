using SandboxFunctions.Tools.Shell;

namespace SandboxFunctions.Tools.Tests.Shell;

public sealed class ParserTests
{
    [Fact]
    public void Lists_pipelines_and_redirections_have_their_structure()
    {
        var script = ShellParser.Parse("cat a.txt | grep -v x > out.txt 2>&1 && echo ok || echo no; ! false\npwd");

        Assert.Equal(3, script.Lists.Count);
        var first = script.Lists[0];
        Assert.Equal(2, first.First.Commands.Count);
        Assert.Equal([ChainOperator.And, ChainOperator.Or], first.Rest.Select(r => r.Operator));
        var grep = first.First.Commands[1];
        Assert.Equal(3, grep.Words.Count);
        Assert.Equal(
            [(1, RedirectionOperator.Output, -1), (2, RedirectionOperator.Duplicate, 1)],
            grep.Redirections.Select(r => (r.Fd, r.Operator, r.SourceFd)));
        Assert.True(script.Lists[1].First.Negated);
        Assert.Equal("pwd", script.Lists[2].First.Commands[0].Words[0].PlainText);
    }

    [Fact]
    public void Quotes_and_escapes_mark_text_as_quoted()
    {
        var words = ShellParser.Parse("echo 'a $b' \"c $d\" e\\ f $'\\t'").Lists[0].First.Commands[0].Words;

        Assert.Equal([new LiteralPart("a $b", Quoted: true)], words[1].Parts);
        Assert.Equal([new LiteralPart("c ", Quoted: true), new ParameterPart("d", Quoted: true)], words[2].Parts);
        Assert.Equal([new LiteralPart("e", Quoted: false), new LiteralPart(" ", Quoted: true), new LiteralPart("f", Quoted: false)], words[3].Parts);
        Assert.Equal([new LiteralPart("\t", Quoted: true)], words[4].Parts);
    }

    [Fact]
    public void Leading_assignments_and_descriptor_numbers_are_recognized()
    {
        var command = ShellParser.Parse("A=1 B='x y' env 2>/dev/null").Lists[0].First.Commands[0];

        Assert.Equal(["A", "B"], command.Assignments.Select(a => a.Name));
        Assert.Single(command.Words);
        Assert.Equal(2, Assert.Single(command.Redirections).Fd);
    }

    [Fact]
    public void Comments_and_line_continuations_are_skipped()
    {
        var script = ShellParser.Parse("echo a \\\n b # a comment | not a pipe\n# whole line\necho c#not-a-comment");

        Assert.Equal(2, script.Lists.Count);
        Assert.Equal(3, script.Lists[0].First.Commands[0].Words.Count);
        Assert.Equal("c#not-a-comment", script.Lists[1].First.Commands[0].Words[1].PlainText);
    }

    [Theory]
    [InlineData("echo $(date)", "$(...)")]
    [InlineData("echo `date`", "backquotes")]
    [InlineData("echo \"$(date)\"", "$(...)")]
    [InlineData("echo $((1 + 2))", "$((...))")]
    [InlineData("(cd sub; ls)", "subshells")]
    [InlineData("f() { ls; }", "function definitions")]
    [InlineData("for f in *.csv; do wc -l $f; done", "`for` loops")]
    [InlineData("while true; do :; done", "`while` loops")]
    [InlineData("if [ -f x ]; then cat x; fi", "`if` statements")]
    [InlineData("case $x in a) ;; esac", "`case`")]
    [InlineData("{ ls; pwd; }", "command groups")]
    [InlineData("[[ -f x ]]", "[[ ... ]]")]
    [InlineData("cat <<EOF", "here-documents")]
    [InlineData("sleep 1 &", "background jobs")]
    [InlineData("diff <(ls a) <(ls b)", "process substitution")]
    [InlineData("echo ${x%.csv}", "${x%.csv}")]
    [InlineData("ls 3> x", "file descriptor 3")]
    public void Unsupported_syntax_is_refused_by_name(string command, string named)
    {
        var error = Assert.Throws<ShellSyntaxException>(() => ShellParser.Parse(command));

        Assert.True(error.Unsupported, error.Message);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("not supported", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("echo 'unterminated", "single quote")]
    [InlineData("echo \"unterminated", "double quote")]
    [InlineData("| grep x", "unexpected token `|'")]
    [InlineData("ls |", "ends after `|'")]
    [InlineData("ls &&", "ends after `&&'")]
    [InlineData("ls ; ; pwd", "unexpected token `;'")]
    [InlineData("echo x >", "needs a file name")]
    [InlineData("echo x > | cat", "needs a file name")]
    [InlineData("ls )", "unexpected token `)'")]
    [InlineData("echo ${", "bad substitution")]
    public void Malformed_command_lines_say_where(string command, string expected)
    {
        var error = Assert.Throws<ShellSyntaxException>(() => ShellParser.Parse(command));

        Assert.False(error.Unsupported, error.Message);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Command_lines_longer_than_the_limit_are_refused()
    {
        var error = Assert.Throws<ShellSyntaxException>(() => ShellParser.Parse("echo " + new string('x', ShellParser.MaxLength)));

        Assert.Contains($"the limit is {ShellParser.MaxLength}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_command_lines_parse_to_nothing()
    {
        Assert.Empty(ShellParser.Parse("  \n # only a comment\n").Lists);
    }
}
