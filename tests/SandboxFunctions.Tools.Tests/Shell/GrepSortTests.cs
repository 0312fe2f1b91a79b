namespace SandboxFunctions.Tools.Tests.Shell;

[Collection(ShellTests.Name)]
public sealed class GrepSortTests(ShellFixture fixture)
{
    private const string Log = "INFO start\nERROR disk full\nwarn: slow\nERROR net down\nINFO done\n";

    [Theory]
    [InlineData("grep ERROR log.txt", "ERROR disk full\nERROR net down\n")]
    [InlineData("grep -i error log.txt", "ERROR disk full\nERROR net down\n")]
    [InlineData("grep -v -e INFO -e ERROR log.txt", "warn: slow\n")]
    [InlineData("grep -n ERROR log.txt", "2:ERROR disk full\n4:ERROR net down\n")]
    [InlineData("grep -c ERROR log.txt", "2\n")]
    [InlineData("grep -o 'd[a-z]*' log.txt", "disk\ndown\ndone\n")]
    [InlineData("grep -E 'disk|net' log.txt", "ERROR disk full\nERROR net down\n")]
    [InlineData("grep 'disk\\|net' log.txt", "ERROR disk full\nERROR net down\n")]
    [InlineData("grep 'a|b' log.txt || echo none", "none\n")]
    [InlineData("grep -E '^[A-Z]+ d' log.txt", "ERROR disk full\nINFO done\n")]
    [InlineData("grep '[[:digit:]]' log.txt || echo none", "none\n")]
    [InlineData("grep -F '.' log.txt || echo none", "none\n")]
    [InlineData("grep -E 'o{2}|ll' log.txt", "ERROR disk full\n")]
    [InlineData("grep -w 'do' log.txt || echo none", "none\n")]
    [InlineData("grep -x 'INFO done' log.txt", "INFO done\n")]
    [InlineData("grep -P '\\bw\\w+' log.txt", "warn: slow\n")]
    [InlineData("grep -A1 disk log.txt", "ERROR disk full\nwarn: slow\n")]
    [InlineData("grep -B1 -n net log.txt", "3-warn: slow\n4:ERROR net down\n")]
    [InlineData("grep -m1 ERROR log.txt", "ERROR disk full\n")]
    [InlineData("cat log.txt | grep -c INFO", "2\n")]
    [InlineData("grep -q ERROR log.txt && echo found", "found\n")]
    [InlineData("grep -l ERROR log.txt other.txt", "log.txt\n")]
    [InlineData("grep -L ERROR log.txt other.txt", "other.txt\n")]
    [InlineData("grep -h ERROR log.txt other.txt", "ERROR disk full\nERROR net down\n")]
    [InlineData("grep ERROR log.txt other.txt", "log.txt:ERROR disk full\nlog.txt:ERROR net down\n")]
    [InlineData("grep -r ERROR .", "./log.txt:ERROR disk full\n./log.txt:ERROR net down\n./sub/deep.txt:ERROR deep\n")]
    [InlineData("grep -r ERROR", "log.txt:ERROR disk full\nlog.txt:ERROR net down\nsub/deep.txt:ERROR deep\n")]
    [InlineData("grep -rl ERROR sub", "sub/deep.txt\n")]
    [InlineData("grep -r --include='*.md' ERROR . || echo none", "none\n")]
    public async Task Grep_matches_lines_with_its_options(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("log.txt", Log);
        await sandbox.WriteAsync("other.txt", "nothing here\n");
        await sandbox.WriteAsync("sub/deep.txt", "ERROR deep\n");

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }

    [Fact]
    public async Task Grep_exits_1_when_nothing_matched_and_2_on_errors()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("log.txt", Log);

        var none = await sandbox.ShellAsync("grep FATAL log.txt");
        var missing = await sandbox.ShellAsync("grep ERROR nope.txt");
        var badPattern = await sandbox.ShellAsync("grep -E '(' log.txt");
        var directory = await sandbox.ShellAsync("mkdir d; grep x d");
        var noPattern = await sandbox.ShellAsync("grep");

        Assert.Equal((1, string.Empty, string.Empty), (none.ExitCode, none.Stdout.Text, none.Stderr.Text));
        Assert.Equal((2, "grep: nope.txt: No such file or directory\n"), (missing.ExitCode, missing.Stderr.Text));
        Assert.Equal(2, badPattern.ExitCode);
        Assert.StartsWith("grep: invalid regular expression", badPattern.Stderr.Text, StringComparison.Ordinal);
        Assert.Equal((2, "grep: d: Is a directory\n"), (directory.ExitCode, directory.Stderr.Text));
        Assert.Equal(2, noPattern.ExitCode);
    }

    [Theory]
    [InlineData("sort s.txt", "10 b\n2 a\n9 C\nB x\nb y\n")]
    [InlineData("sort -r s.txt", "b y\nB x\n9 C\n2 a\n10 b\n")]
    [InlineData("sort -n s.txt", "B x\nb y\n2 a\n9 C\n10 b\n")]
    [InlineData("sort -rn s.txt", "10 b\n9 C\n2 a\nb y\nB x\n")]
    [InlineData("sort -k2 s.txt", "9 C\n2 a\n10 b\nB x\nb y\n")]
    [InlineData("sort -k2 -f s.txt", "2 a\n10 b\n9 C\nB x\nb y\n")]
    [InlineData("printf 'b\\nB\\na\\n' | sort -f -u", "a\nb\n")]
    [InlineData("printf 'b\\na\\nb\\n' | sort -u", "a\nb\n")]
    [InlineData("sort -t, -k2 -n c.csv", "y,1\nz,2\nx,10\n")]
    [InlineData("sort -t, -k2,2nr c.csv", "x,10\nz,2\ny,1\n")]
    [InlineData("sort -t , -k 1,1 c.csv", "x,10\ny,1\nz,2\n")]
    [InlineData("printf '1.5K\\n200\\n1M\\n' | sort -h", "200\n1.5K\n1M\n")]
    [InlineData("printf '1e3\\n50\\n' | sort -g", "50\n1e3\n")]
    public async Task Sort_orders_lines_as_in_the_C_locale(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("s.txt", "b y\n2 a\n10 b\nB x\n9 C\n");
        await sandbox.WriteAsync("c.csv", "x,10\ny,1\nz,2\n");

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }

    [Fact]
    public async Task Sort_checks_order_and_writes_to_a_file()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("s.txt", "b\na\n");

        var check = await sandbox.ShellAsync("sort -c s.txt");
        Assert.Equal((1, "sort: s.txt:2: disorder: a\n"), (check.ExitCode, check.Stderr.Text));
        Assert.Equal(string.Empty, await sandbox.OutAsync("sort -o s.txt s.txt && sort -c s.txt"));
        Assert.Equal("a\nb\n", await sandbox.ReadAsync("s.txt"));
        Assert.Equal(2, (await sandbox.ShellAsync("sort -k x s.txt")).ExitCode);
    }
}
