using SandboxFunctions.Tools.Shell;

namespace SandboxFunctions.Tools.Tests.Shell;

/// <summary>Pipes, redirections, sequencing and exit statuses.</summary>
[Collection(ShellTests.Name)]
public sealed class PipelineTests(ShellFixture fixture)
{
    [Fact]
    public async Task A_pipeline_passes_each_output_to_the_next_command()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("data.csv", "name,city\nann,oslo\nbob,rome\ncid,oslo\ndan,lima\n");

        Assert.Equal("2\n", await sandbox.OutAsync("cat data.csv | grep oslo | wc -l"));
        Assert.Equal("      2 oslo\n      1 rome\n      1 lima\n", await sandbox.OutAsync("tail -n +2 data.csv | cut -d, -f2 | sort | uniq -c | sort -k1,1nr -k2,2r"));
        Assert.Equal("OSLO\n", await sandbox.OutAsync("grep ann data.csv|cut -d, -f2|tr a-z A-Z"));
    }

    [Fact]
    public async Task The_status_of_a_pipeline_is_that_of_its_last_command()
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(1, (await sandbox.ShellAsync("echo x | grep y")).ExitCode);
        Assert.Equal(0, (await sandbox.ShellAsync("grep y nope.txt | cat")).ExitCode);
        Assert.Equal(0, (await sandbox.ShellAsync("! echo x | grep y")).ExitCode);
        Assert.Equal(1, (await sandbox.ShellAsync("! true")).ExitCode);
    }

    [Fact]
    public async Task Output_redirections_create_truncate_and_append()
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync("echo one > out.txt; echo two >> out.txt; echo three >> new.txt; ls nope > err.txt 2>&1; cat missing 2> e2.txt; echo quiet > /dev/null; : > empty.txt");

        Assert.Equal(string.Empty, outcome.Stdout.Text);
        Assert.Equal(string.Empty, outcome.Stderr.Text);
        Assert.Equal("one\ntwo\n", await sandbox.ReadAsync("out.txt"));
        Assert.Equal("three\n", await sandbox.ReadAsync("new.txt"));
        Assert.Equal("ls: cannot access 'nope': No such file or directory\n", await sandbox.ReadAsync("err.txt"));
        Assert.Equal("cat: missing: No such file or directory\n", await sandbox.ReadAsync("e2.txt"));
        Assert.Equal(string.Empty, await sandbox.ReadAsync("empty.txt"));
        Assert.True(outcome.WorkspaceChanged);
    }

    [Fact]
    public async Task Descriptors_are_duplicated_in_the_order_written()
    {
        await using var sandbox = await fixture.CreateAsync();

        var toFile = await sandbox.ShellAsync("ls nope > both.txt 2>&1");
        var toTerminal = await sandbox.ShellAsync("ls nope 2>&1 > only.txt");
        var everything = await sandbox.ShellAsync("ls nope &> all.txt; echo to-err >&2; echo both 1>&2 | cat");
        var piped = await sandbox.ShellAsync("ls nope 2>&1 | wc -l; ls nope |& tr a-z A-Z");

        Assert.Equal(string.Empty, toFile.Stderr.Text);
        Assert.Contains("nope", await sandbox.ReadAsync("both.txt"), StringComparison.Ordinal);
        Assert.Equal("ls: cannot access 'nope': No such file or directory\n", toTerminal.Stdout.Text);
        Assert.Equal(string.Empty, await sandbox.ReadAsync("only.txt"));
        Assert.Equal("ls: cannot access 'nope': No such file or directory\n", await sandbox.ReadAsync("all.txt"));
        Assert.Equal("to-err\nboth\n", everything.Stderr.Text);
        Assert.Equal("1\nLS: CANNOT ACCESS 'NOPE': NO SUCH FILE OR DIRECTORY\n", piped.Stdout.Text);
    }

    [Fact]
    public async Task Input_comes_from_files_here_strings_and_dev_null()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("in.txt", "b\na\n");

        Assert.Equal("a\nb\n", await sandbox.OutAsync("sort < in.txt"));
        Assert.Equal("a\nb\n", await sandbox.OutAsync("< in.txt sort"));
        Assert.Equal("HI THERE\n", await sandbox.OutAsync("tr a-z A-Z <<< 'hi there'"));
        Assert.Equal("0\n", await sandbox.OutAsync("wc -l < /dev/null"));

        var missing = await sandbox.ShellAsync("sort < nope.txt; echo $?");
        Assert.Equal("sh: nope.txt: No such file or directory\n", missing.Stderr.Text);
        Assert.Equal("1\n", missing.Stdout.Text);
    }

    [Fact]
    public async Task A_redirection_into_a_missing_folder_fails_the_command()
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync("echo x > no/such/file.txt; echo $?");

        Assert.Equal("sh: no/such/file.txt: No such file or directory\n", outcome.Stderr.Text);
        Assert.Equal("1\n", outcome.Stdout.Text);
        Assert.Empty(await sandbox.Workspace.ListAsync());
    }

    [Theory]
    [InlineData("true && echo a; false && echo b; echo c", "a\nc\n", 0)]
    [InlineData("false || echo a || echo b", "a\n", 0)]
    [InlineData("true || echo skipped && echo runs", "runs\n", 0)]
    [InlineData("false; echo $?; false || true; echo $?", "1\n0\n", 0)]
    [InlineData("echo last; false", "last\n", 1)]
    [InlineData("grep -q x /dev/null && echo found || echo missing", "missing\n", 0)]
    [InlineData("test -f nope || echo no-file; [ 3 -gt 2 ] && echo bigger", "no-file\nbigger\n", 0)]
    [InlineData("[ a = a ] && [ -n \"x\" ] && [ -z '' ] && ! [ 1 -eq 2 ] && echo all", "all\n", 0)]
    [InlineData("echo before; exit 3; echo after", "before\n", 3)]
    [InlineData("false; exit", "", 1)]
    [InlineData("exit 2 | cat; echo $?", "0\n", 0)]
    [InlineData("cd /workspace/../workspace | pwd", "/workspace\n", 0)]
    public async Task Sequencing_follows_exit_statuses(string command, string stdout, int exitCode)
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync(command);

        Assert.Equal((stdout, exitCode), (outcome.Stdout.Text, outcome.ExitCode));
    }

    [Fact]
    public async Task Pipeline_stages_do_not_change_the_shell_around_them()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.OutAsync("mkdir sub");

        Assert.Equal("/workspace\n[]\n", await sandbox.OutAsync("cd sub | true; pwd; X=1 | true; echo [$X]"));
    }

    [Fact]
    public async Task An_unknown_command_exits_127_and_lists_what_is_available()
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync("frobnicate --now; echo $?");
        var network = await sandbox.ShellAsync("pip install pandas");
        var path = await sandbox.ShellAsync("./script.py");

        Assert.Equal("127\n", outcome.Stdout.Text);
        var lines = outcome.Stderr.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("sh: frobnicate: command not found", lines[0]);
        Assert.Equal($"Available commands: {string.Join(", ", ShellCommands.Names)}.", lines[1]);
        var listed = lines[1]["Available commands: ".Length..].TrimEnd('.').Split(", ");
        Assert.Superset(
            new HashSet<string> { "ls", "cat", "head", "tail", "wc", "grep", "sort", "uniq", "cut", "tr", "echo", "printf", "mkdir", "rm", "cp", "mv", "touch", "find", "pwd", "cd", "env", "python", "python3", "node" },
            new HashSet<string>(listed));

        Assert.Equal(127, network.ExitCode);
        Assert.Contains("no network", network.Stderr.Text, StringComparison.Ordinal);
        Assert.Contains("python FILE", path.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_describes_the_syntax_and_commands()
    {
        await using var sandbox = await fixture.CreateAsync();

        var help = await sandbox.OutAsync("help");

        Assert.Contains("Not supported: $(...)", help, StringComparison.Ordinal);
        Assert.Contains("grep", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reading_commands_leave_the_workspace_unchanged()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("a.txt", "x\n");

        var read = await sandbox.ShellAsync("ls -la; cat a.txt | grep x | wc -l; find .; test -f a.txt");
        var write = await sandbox.ShellAsync("echo y >> a.txt");

        Assert.False(read.WorkspaceChanged);
        Assert.Equal(0, read.Executions);
        Assert.True(write.WorkspaceChanged);
    }
}
