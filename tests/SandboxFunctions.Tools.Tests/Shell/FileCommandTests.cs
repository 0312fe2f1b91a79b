using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Tests.Shell;

/// <summary>ls, cat, mkdir, rm, rmdir, cp, mv, touch, tee, find, pwd and cd over the workspace.</summary>
[Collection(ShellTests.Name)]
public sealed partial class FileCommandTests(ShellFixture fixture)
{
    [Fact]
    public async Task Ls_lists_names_sorted_and_its_options_change_what_and_how()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("b.txt", "12345");
        await sandbox.WriteAsync("a.txt", "1");
        await sandbox.WriteAsync(".env", "x");
        await sandbox.WriteAsync("dir/inner.txt", "123");
        await sandbox.WriteAsync("dir/deeper/z.txt", "");

        Assert.Equal("a.txt\nb.txt\ndir\n", await sandbox.OutAsync("ls"));
        Assert.Equal("a.txt\nb.txt\ndir\n", await sandbox.OutAsync("ls -1"));
        Assert.Equal(".\n..\n.env\na.txt\nb.txt\ndir\n", await sandbox.OutAsync("ls -a"));
        Assert.Equal(".env\na.txt\nb.txt\ndir\n", await sandbox.OutAsync("ls -A"));
        Assert.Equal("dir\nb.txt\na.txt\n", await sandbox.OutAsync("ls -r"));
        Assert.Equal("b.txt\na.txt\n", await sandbox.OutAsync("ls -S *.txt"));
        Assert.Equal("a.txt\nb.txt\ndir/\n", await sandbox.OutAsync("ls -F"));
        Assert.Equal("deeper\ninner.txt\n", await sandbox.OutAsync("ls dir"));
        Assert.Equal("a.txt\n\ndir:\ndeeper\ninner.txt\n", await sandbox.OutAsync("ls a.txt dir"));
        Assert.Equal(".:\na.txt\nb.txt\ndir\n\n./dir:\ndeeper\ninner.txt\n\n./dir/deeper:\nz.txt\n", await sandbox.OutAsync("ls -R"));
        Assert.Equal("dir\n", await sandbox.OutAsync("ls -d dir"));

        var long_ = (await sandbox.OutAsync("ls -l")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("total 2", long_[0]);
        Assert.Matches(LongFormat(), long_[1]);
        Assert.StartsWith("-rw-r--r-- 1 sandbox sandbox 1 ", long_[1], StringComparison.Ordinal);
        Assert.EndsWith(" a.txt", long_[1], StringComparison.Ordinal);
        Assert.StartsWith("drwxr-xr-x 2 sandbox sandbox ", long_[3], StringComparison.Ordinal);
        Assert.EndsWith(" dir", long_[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ls_of_a_missing_path_says_so_and_exits_2()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("here.txt", "x");

        var outcome = await sandbox.ShellAsync("ls here.txt missing");

        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("here.txt\n", outcome.Stdout.Text);
        Assert.Equal("ls: cannot access 'missing': No such file or directory\n", outcome.Stderr.Text);
    }

    [Fact]
    public async Task Cat_concatenates_numbers_and_reports_missing_files()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("a.txt", "one\ntwo\n");
        await sandbox.WriteAsync("b.txt", "three");

        Assert.Equal("one\ntwo\nthree", await sandbox.OutAsync("cat a.txt b.txt"));
        Assert.Equal("     1\tone\n     2\ttwo\n     3\tthree", await sandbox.OutAsync("cat -n a.txt b.txt"));
        Assert.Equal("piped\none\ntwo\n", await sandbox.OutAsync("echo piped | cat - a.txt"));

        var missing = await sandbox.ShellAsync("cat a.txt x; echo $?");
        Assert.Equal("one\ntwo\n1\n", missing.Stdout.Text);
        Assert.Equal("cat: x: No such file or directory\n", missing.Stderr.Text);

        var directory = await sandbox.ShellAsync("mkdir d; cat d");
        Assert.Equal(1, directory.ExitCode);
        Assert.Equal("cat: d: Is a directory\n", directory.Stderr.Text);
    }

    [Fact]
    public async Task Mkdir_creates_directories_and_refuses_what_exists()
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(string.Empty, await sandbox.OutAsync("mkdir a && mkdir -p b/c/d && mkdir -p a"));
        Assert.Equal("a\nb\n", await sandbox.OutAsync("ls"));
        Assert.Equal("d\n", await sandbox.OutAsync("ls b/c"));
        Assert.Empty((await sandbox.Workspace.ListAsync("b/c/d")));

        var exists = await sandbox.ShellAsync("mkdir a");
        Assert.Equal(1, exists.ExitCode);
        Assert.Equal("mkdir: cannot create directory 'a': File exists\n", exists.Stderr.Text);

        var parent = await sandbox.ShellAsync("mkdir x/y");
        Assert.Equal(1, parent.ExitCode);
        Assert.Equal("mkdir: cannot create directory 'x/y': No such file or directory\n", parent.Stderr.Text);

        Assert.Equal(1, (await sandbox.ShellAsync("mkdir")).ExitCode);
    }

    [Fact]
    public async Task Rm_removes_files_and_trees_with_r_and_keeps_quiet_with_f()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.OutAsync("mkdir -p d/e; touch f.txt g.txt d/e/h.txt");

        var directory = await sandbox.ShellAsync("rm d");
        Assert.Equal(1, directory.ExitCode);
        Assert.Equal("rm: cannot remove 'd': Is a directory\n", directory.Stderr.Text);

        var missing = await sandbox.ShellAsync("rm nope");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("rm: cannot remove 'nope': No such file or directory\n", missing.Stderr.Text);

        Assert.Equal(string.Empty, await sandbox.OutAsync("rm -f nope f.txt && rm -r d"));
        Assert.Equal("g.txt\n", await sandbox.OutAsync("ls"));

        var root = await sandbox.ShellAsync("rm -rf /workspace");
        Assert.Equal(1, root.ExitCode);
        Assert.Contains("refusing to remove", root.Stderr.Text, StringComparison.Ordinal);
        Assert.Equal("g.txt\n", await sandbox.OutAsync("rm -rf .; ls"));
    }

    [Fact]
    public async Task Rmdir_removes_only_empty_directories()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.OutAsync("mkdir -p empty full; touch full/x");

        var outcome = await sandbox.ShellAsync("rmdir empty full");

        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal("rmdir: failed to remove 'full': Directory not empty\n", outcome.Stderr.Text);
        Assert.Equal("full\n", await sandbox.OutAsync("ls"));
    }

    [Fact]
    public async Task Cp_copies_files_and_with_r_trees()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("src/a.txt", "A");
        await sandbox.WriteAsync("src/sub/b.txt", "B");
        await sandbox.WriteAsync("one.txt", "1");

        await sandbox.OutAsync("cp one.txt two.txt && mkdir dest && cp one.txt two.txt dest && cp -r src copy && cp -r src dest");

        Assert.Equal("1", await sandbox.ReadAsync("two.txt"));
        Assert.Equal("one.txt\nsrc\ntwo.txt\n", await sandbox.OutAsync("ls dest"));
        Assert.Equal("copy/a.txt\ncopy/sub/b.txt\n", await sandbox.OutAsync("find copy -type f"));
        Assert.Equal("B", await sandbox.ReadAsync("dest/src/sub/b.txt"));
        Assert.Equal("A", await sandbox.ReadAsync("src/a.txt"));

        var directory = await sandbox.ShellAsync("cp src other");
        Assert.Equal(1, directory.ExitCode);
        Assert.Equal("cp: -r not specified; omitting directory 'src'\n", directory.Stderr.Text);

        var into = await sandbox.ShellAsync("cp -r src src/sub");
        Assert.Equal(1, into.ExitCode);
        Assert.Contains("into itself", into.Stderr.Text, StringComparison.Ordinal);

        var missing = await sandbox.ShellAsync("cp nope x");
        Assert.Equal("cp: cannot stat 'nope': No such file or directory\n", missing.Stderr.Text);
    }

    [Fact]
    public async Task Mv_renames_files_and_directories()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("a.txt", "A");
        await sandbox.WriteAsync("tree/x/y.txt", "Y");

        await sandbox.OutAsync("mv a.txt b.txt && mkdir into && mv b.txt into && mv tree moved");

        Assert.Equal("into\nmoved\n", await sandbox.OutAsync("ls"));
        Assert.Equal("A", await sandbox.ReadAsync("into/b.txt"));
        Assert.Equal("Y", await sandbox.ReadAsync("moved/x/y.txt"));

        var outcome = await sandbox.ShellAsync("mv nope x");
        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal("mv: cannot stat 'nope': No such file or directory\n", outcome.Stderr.Text);
    }

    [Fact]
    public async Task Touch_creates_empty_files_and_keeps_contents()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("kept.txt", "content");

        await sandbox.OutAsync("touch new.txt kept.txt");

        Assert.Equal(string.Empty, await sandbox.ReadAsync("new.txt"));
        Assert.Equal("content", await sandbox.ReadAsync("kept.txt"));
        Assert.Equal("touch: cannot touch 'no/such.txt': No such file or directory\n", (await sandbox.ShellAsync("touch no/such.txt")).Stderr.Text);
    }

    [Fact]
    public async Task Tee_copies_its_input_to_files_and_stdout()
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal("x\n", await sandbox.OutAsync("echo x | tee a.txt b.txt && echo y | tee -a a.txt > /dev/null"));
        Assert.Equal("x\ny\n", await sandbox.ReadAsync("a.txt"));
        Assert.Equal("x\n", await sandbox.ReadAsync("b.txt"));
    }

    [Fact]
    public async Task Find_walks_the_tree_with_tests()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.OutAsync("mkdir -p src/lib empty; touch src/main.py src/lib/util.py src/lib/README.md top.py");

        Assert.Equal(".\n./empty\n./src\n./src/lib\n./src/lib/README.md\n./src/lib/util.py\n./src/main.py\n./top.py\n", await sandbox.OutAsync("find"));
        Assert.Equal("./src/lib/util.py\n./src/main.py\n./top.py\n", await sandbox.OutAsync("find . -name '*.py'"));
        Assert.Equal("src/lib/README.md\n", await sandbox.OutAsync("find src -iname 'readme*'"));
        Assert.Equal("./empty\n./src\n./src/lib\n", await sandbox.OutAsync("find . -mindepth 1 -type d"));
        Assert.Equal("./src/main.py\n./top.py\n", await sandbox.OutAsync("find . -maxdepth 2 -type f -name '*.py'"));
        Assert.Equal("./empty\n", await sandbox.OutAsync("find . -type d -empty"));
        Assert.Equal("./src/lib/README.md\n", await sandbox.OutAsync("find . -type f ! -name '*.py'"));
        Assert.Equal("/workspace/src/lib/util.py\n", await sandbox.OutAsync("find /workspace -path '*/lib/*.py'"));

        var missing = await sandbox.ShellAsync("find nope");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("find: 'nope': No such file or directory\n", missing.Stderr.Text);
        var exec = await sandbox.ShellAsync("find . -exec rm {} ;");
        Assert.Equal(1, exec.ExitCode);
        Assert.Contains("-exec is not supported", exec.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cd_changes_the_directory_for_the_rest_of_the_line()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("sub/inner/f.txt", "F");

        Assert.Equal("/workspace\n/workspace/sub/inner\nF/workspace/sub\n/workspace\n", await sandbox.OutAsync("pwd; cd sub/inner; pwd; cat f.txt; cd ..; pwd; cd; pwd"));
        Assert.Equal("/workspace/sub\n/workspace\n", await sandbox.OutAsync("cd sub && echo $PWD && cd - > /dev/null && pwd"));

        var missing = await sandbox.ShellAsync("cd nope; pwd");
        Assert.Equal("cd: nope: No such file or directory\n", missing.Stderr.Text);
        Assert.Equal("/workspace\n", missing.Stdout.Text);
        Assert.Equal("cd: sub/inner/f.txt: Not a directory\n", (await sandbox.ShellAsync("cd sub/inner/f.txt")).Stderr.Text);
    }

    [Theory]
    [InlineData("cat /etc/passwd", "cat: /etc/passwd: Permission denied (outside /workspace)\n")]
    [InlineData("cat ../../etc/passwd", "cat: ../../etc/passwd: Permission denied (outside /workspace)\n")]
    [InlineData("cd ..", "cd: ..: Permission denied (outside /workspace)\n")]
    [InlineData("cd /", "cd: /: Permission denied (outside /workspace)\n")]
    [InlineData("ls /", "ls: cannot access '/': Permission denied (outside /workspace)\n")]
    [InlineData("echo x > /tmp/x", "sh: /tmp/x: Permission denied (outside /workspace)\n")]
    [InlineData("cat < /etc/hosts", "sh: /etc/hosts: Permission denied (outside /workspace)\n")]
    [InlineData("cp /etc/passwd .", "cp: cannot copy '/etc/passwd': Permission denied (outside /workspace)\n")]
    [InlineData("rm -rf ../x", "rm: cannot remove '../x': Permission denied (outside /workspace)\n")]
    [InlineData("mkdir /opt/x", "mkdir: cannot create directory '/opt/x': Permission denied (outside /workspace)\n")]
    [InlineData("find /", "find: '/': Permission denied (outside /workspace)\n")]
    [InlineData("grep -r x /etc", "grep: /etc: Permission denied (outside /workspace)\n")]
    public async Task Paths_outside_the_workspace_are_refused(string command, string stderr)
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync(command);

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Equal(stderr, outcome.Stderr.Text);
        Assert.False(outcome.WorkspaceChanged);
    }

    [GeneratedRegex(@"^-rw-r--r-- 1 sandbox sandbox +\d+ [A-Z][a-z]{2} [ \d]\d (\d\d:\d\d| \d{4}) a\.txt$")]
    private static partial Regex LongFormat();
}
