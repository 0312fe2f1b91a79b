namespace SandboxFunctions.Tools.Tests.Shell;

/// <summary>Quoting, escaping, variables and globs, observed through what commands receive.</summary>
[Collection(ShellTests.Name)]
public sealed class ExpansionTests(ShellFixture fixture)
{
    [Theory]
    [InlineData("printf '[%s]' 'a  $HOME'", "[a  $HOME]")]
    [InlineData("printf '[%s]' \"a  $HOME\"", "[a  /workspace]")]
    [InlineData("printf '[%s]' a\\ \\ b \\$HOME \\\"q\\\"", "[a  b][$HOME][\"q\"]")]
    [InlineData("printf '[%s]' \"it's\" 'say \"hi\"' \"\\$x \\\\ \\\"\"", "[it's][say \"hi\"][$x \\ \"]")]
    [InlineData("printf '[%s]' $'a\\tb\\n'", "[a\tb\n]")]
    [InlineData("printf '[%s]' \"\" '' x", "[][][x]")]
    [InlineData("printf '[%s]' pre'mid'\"post\"", "[premidpost]")]
    [InlineData("printf '[%s]' ~ ~/data x~", "[/workspace][/workspace/data][x~]")]
    [InlineData("printf '[%s]' $ a$ \"$\"", "[$][a$][$]")]
    public async Task Quoting_decides_what_each_argument_is(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }

    [Theory]
    [InlineData("X='a  b'; printf '[%s]' $X \"$X\" ${X}c", "[a][b][a  b][a][bc]")]
    [InlineData("E=; printf '[%s]' $E \"$E\" x", "[][x]")]
    [InlineData("X=abc; printf '[%s]' ${#X} ${X:-d} ${Y:-d} ${Y-e} \"${Y:-two words}\"", "[3][abc][d][e][two words]")]
    [InlineData("E=; printf '[%s]' \"${E:-d}\" \"${E-d}\"", "[d][]")]
    [InlineData("false; echo $?; true; echo $?", "1\n0\n")]
    [InlineData("X=1 Y=2; echo $X$Y ${X}_$Y $Z.", "12 1_2 .\n")]
    [InlineData("A=outer; A=inner printenv A; echo $A", "inner\nouter\n")]
    [InlineData("export GREETING=hi; env | grep GREETING", "GREETING=hi\n")]
    [InlineData("LOCAL=1; env | grep -c LOCAL; export LOCAL; env | grep -c LOCAL", "0\n1\n")]
    [InlineData("unset HOME; echo [$HOME]", "[]\n")]
    [InlineData("echo $0 $# [$1] [$@]", "sh 0 [] []\n")]
    public async Task Variables_expand_and_split_as_in_a_shell(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(expected, (await sandbox.ShellAsync(command)).Stdout.Text);
    }

    [Fact]
    public async Task Variables_last_for_one_command_line()
    {
        await using var sandbox = await fixture.CreateAsync();

        await sandbox.OutAsync("export KEPT=1; cd /workspace");

        Assert.Equal("[]\n/workspace\n", await sandbox.OutAsync("echo [$KEPT]; pwd"));
    }

    [Theory]
    [InlineData("ls *.csv", "a.csv\nb.csv\n")]
    [InlineData("echo *.csv", "a.csv b.csv\n")]
    [InlineData("echo ?.csv", "a.csv b.csv\n")]
    [InlineData("echo [a]*", "a.csv\n")]
    [InlineData("echo [!a]*.csv", "b.csv\n")]
    [InlineData("echo [[:lower:]].csv", "a.csv b.csv\n")]
    [InlineData("echo data/*.txt", "data/1.txt data/2.txt\n")]
    [InlineData("echo */2.txt", "data/2.txt\n")]
    [InlineData("echo /workspace/data/*", "/workspace/data/1.txt /workspace/data/2.txt /workspace/data/nested\n")]
    [InlineData("echo */", "data/\n")]
    [InlineData("echo .h*", ".hidden\n")]
    [InlineData("echo *.none", "*.none\n")]
    [InlineData("echo '*.csv' \"*.csv\" \\*.csv", "*.csv *.csv *.csv\n")]
    [InlineData("P='*.csv'; echo $P \"$P\"", "a.csv b.csv *.csv\n")]
    [InlineData("cd data && echo * ../*.csv", "1.txt 2.txt nested ../a.csv ../b.csv\n")]
    public async Task Globs_match_workspace_files(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.OutAsync("mkdir -p data/nested; touch a.csv b.csv .hidden data/1.txt data/2.txt");

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }

    [Fact]
    public async Task A_glob_that_matches_nothing_reaches_the_command_as_written()
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync("ls *.csv");

        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("ls: cannot access '*.csv': No such file or directory\n", outcome.Stderr.Text);
    }
}
