using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Tools.Tests.Shell;

/// <summary>python and node, run in the session's own interpreter.</summary>
[Collection(ShellTests.Name)]
public sealed class GuestCommandTests(ShellFixture fixture)
{
    [Fact]
    public async Task Python_files_get_argv_stdin_cwd_and_environment()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("tools/show.py", "import os, sys\nprint(sys.argv)\nprint(sys.stdin.read().strip().upper())\nprint(os.getcwd(), os.environ.get('MODE'), __name__)\n");

        var outcome = await sandbox.ShellAsync("cd tools && printf 'piped in' | MODE=fast python show.py 'two words' --flag");

        Assert.Equal("['show.py', 'two words', '--flag']\nPIPED IN\n/workspace/tools fast __main__\n", outcome.Stdout.Text);
        Assert.Equal((0, 1), (outcome.ExitCode, outcome.Executions));
    }

    [Theory]
    [InlineData("python -c 'print(1)'", 0, "1\n", "")]
    [InlineData("python -c 'import sys; sys.exit(3)'", 3, "", "")]
    [InlineData("python -c 'import sys; sys.exit(\"bad input\")'", 1, "", "bad input\n")]
    [InlineData("python -c 'raise SystemExit'", 0, "", "")]
    [InlineData("python -c 'exit(4)'", 4, "", "")]
    [InlineData("python3 -c 'import sys; print(sys.argv)' a b", 0, "['-c', 'a', 'b']\n", "")]
    [InlineData("python -c 'print(\"out\"); 1/0'", 1, "out\n", "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nZeroDivisionError: division by zero\n")]
    [InlineData("python -c 'print('", 1, "", "  File \"<string>\", line 1\n    print(\n         ^\nSyntaxError: '(' was never closed\n")]
    [InlineData("python nope.py", 2, "", "python: can't open file '/workspace/nope.py': [Errno 2] No such file or directory\n")]
    [InlineData("python -c", 2, "", "Argument expected for the -c option\n")]
    [InlineData("python --version", 0, "Python 3.11.2\n", "")]
    [InlineData("echo 'print(6 * 7)' | python", 0, "42\n", "")]
    [InlineData("python -m json.tool <<< '{\"a\":1}'", 0, "{\n    \"a\": 1\n}\n", "")]
    public async Task Python_reports_its_exit_status(string command, int exitCode, string stdout, string stderr)
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync(command);

        Assert.Equal((exitCode, stdout, stderr), (outcome.ExitCode, outcome.Stdout.Text, outcome.Stderr.Text));
    }

    [Fact]
    public async Task A_python_traceback_shows_the_script_frames_only()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("fail.py", "def inner():\n    raise ValueError('nope')\n\ninner()\n");

        var outcome = await sandbox.ShellAsync("python fail.py && echo unreachable");

        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal(string.Empty, outcome.Stdout.Text);
        Assert.Equal(
            "Traceback (most recent call last):\n  File \"/workspace/fail.py\", line 4, in <module>\n    inner()\n  File \"/workspace/fail.py\", line 2, in inner\n    raise ValueError('nope')\nValueError: nope\n",
            outcome.Stderr.Text);
    }

    [Fact]
    public async Task Python_scripts_share_the_interpreter_but_not_its_globals()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.ExecuteAsync(new ExecutionRequest("import fractions\nkept = 'session value'\nimport sys\nsys.argv = ['session']"));
        await sandbox.WriteAsync("helper.py", "VALUE = 1\n");
        await sandbox.WriteAsync("use.py", "import helper, sys\nkept = 'script value'\nprint(helper.VALUE, 'fractions' in sys.modules)\n");

        Assert.Equal("1 True\n", await sandbox.OutAsync("python use.py"));
        await sandbox.WriteAsync("helper.py", "VALUE = 2\n");
        Assert.Equal("2 True\n", await sandbox.OutAsync("python use.py"));

        var after = await sandbox.ExecuteAsync(new ExecutionRequest("(kept, sys.argv, 'helper' in sys.modules, __name__)"));
        Assert.Equal("('session value', ['session'], False, '__main__')", after.Result?.Repr);
    }

    [Fact]
    public async Task Python_output_flows_through_pipes_and_redirections()
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync("python -c 'import sys\nfor i in range(5): print(i)\nprint(\"warn\", file=sys.stderr)' 2>err.txt | sort -rn | head -2 > top.txt; cat top.txt err.txt");

        Assert.Equal("4\n3\nwarn\n", outcome.Stdout.Text);
        Assert.True(outcome.WorkspaceChanged);
        Assert.Equal(1, outcome.Executions);
    }

    [Fact]
    public async Task Python_reads_input_from_a_file_and_writes_files()
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("in.csv", "a,1\nb,2\n");

        await sandbox.OutAsync("python -c 'import sys, csv; rows = list(csv.reader(sys.stdin)); open(\"total.txt\", \"w\").write(str(sum(int(r[1]) for r in rows)))' < in.csv");

        Assert.Equal("3", await sandbox.ReadAsync("total.txt"));
    }

    [Fact]
    public async Task Node_runs_commonjs_files_with_argv_stdin_and_exit_codes()
    {
        await using var sandbox = await fixture.CreateAsync("javascript");
        await sandbox.WriteAsync("app.js", "const input = fs.readFileSync(0, 'utf8');\nconsole.log(process.argv.slice(2).join('|'), input.trim().toUpperCase(), process.env.MODE);\nif (process.argv.includes('--fail')) process.exit(4);\n");

        var outcome = await sandbox.ShellAsync("echo hello | MODE=dev node app.js one 'two three'; echo $?; node app.js --fail < /dev/null; echo $?");

        Assert.Equal("one|two three HELLO dev\n0\n--fail  undefined\n4\n", outcome.Stdout.Text);
        Assert.Equal((string.Empty, 2), (outcome.Stderr.Text, outcome.Executions));
    }

    [Fact]
    public async Task Node_runs_in_the_shells_directory_and_leaves_the_sessions_as_it_was()
    {
        await using var sandbox = await fixture.CreateAsync("javascript");
        await sandbox.WriteAsync("tools/data.txt", "from tools\n");
        await sandbox.WriteAsync("tools/show.js", "console.log(process.cwd(), fs.readFileSync('data.txt', 'utf8').trim(), __dirname);\n");

        var outcome = await sandbox.ShellAsync("cd tools && node show.js && node -e 'console.log(process.cwd(), fs.existsSync(\"data.txt\"))'");
        var after = await sandbox.ExecuteAsync(new ExecutionRequest("process.cwd()"));

        Assert.Equal("/workspace/tools from tools /workspace/tools\n/workspace/tools true\n", outcome.Stdout.Text);
        Assert.Equal(string.Empty, outcome.Stderr.Text);
        Assert.Equal("'/workspace'", after.Result?.Repr);
    }

    [Fact]
    public async Task Node_runs_es_modules_every_time_with_their_imports()
    {
        await using var sandbox = await fixture.CreateAsync("javascript");
        await sandbox.WriteAsync("lib/value.mjs", "export const value = 41;\n");
        await sandbox.WriteAsync("lib/main.mjs", "import { value } from './value.mjs';\nconst answer = await Promise.resolve(value + 1);\nconsole.log(answer, process.argv[2]);\n");

        Assert.Equal("42 first\n42 second\n", await sandbox.OutAsync("node lib/main.mjs first && node lib/main.mjs second"));
    }

    [Theory]
    [InlineData("node -e 'console.log(1 + 2)'", 0, "3\n", "")]
    [InlineData("node -e 'console.log(process.argv.slice(1))' a b", 0, "[ 'a', 'b' ]\n", "")]
    [InlineData("node -e 'await null; console.log(\"awaited\")'", 0, "awaited\n", "")]
    [InlineData("node -e 'process.exit(5)'", 5, "", "")]
    [InlineData("node -e 'setTimeout(() => process.exit(6), 1)'", 6, "", "")]
    [InlineData("node -p '6 * 7'", 0, "42\n", "")]
    [InlineData("echo 'console.log(\"from stdin\")' | node", 0, "from stdin\n", "")]
    [InlineData("node -e 'import fs from \"fs\"; console.log(typeof fs.readFileSync)'", 0, "function\n", "")]
    [InlineData("node -e 'throw 5'", 1, "", "Uncaught 5\n")]
    [InlineData("node -p 'var leaked = 3; leaked' && node -e 'console.log(typeof leaked)'", 0, "3\nundefined\n", "")]
    [InlineData("node missing.js", 1, "", "node: Cannot find module '/workspace/missing.js'\n")]
    [InlineData("node --bogus x.js", 9, "", "node: bad option: --bogus\n")]
    public async Task Node_reports_its_exit_status(string command, int exitCode, string stdout, string stderr)
    {
        await using var sandbox = await fixture.CreateAsync("javascript");

        var outcome = await sandbox.ShellAsync(command);

        Assert.Equal((exitCode, stdout, stderr), (outcome.ExitCode, outcome.Stdout.Text, outcome.Stderr.Text));
    }

    [Fact]
    public async Task An_uncaught_javascript_error_exits_1_with_its_stack()
    {
        await using var sandbox = await fixture.CreateAsync("javascript");
        await sandbox.WriteAsync("bad.mjs", "function fail() {\n  throw new TypeError('broken');\n}\nfail();\n");

        var outcome = await sandbox.ShellAsync("node bad.mjs");

        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal("Uncaught TypeError: broken\n    at fail (/workspace/bad.mjs:2:13)\n    at <anonymous> (/workspace/bad.mjs:4:1)\n", outcome.Stderr.Text);
    }

    [Fact]
    public async Task An_uncaught_error_in_a_commonjs_file_exits_1()
    {
        await using var sandbox = await fixture.CreateAsync("javascript");
        await sandbox.WriteAsync("bad.js", "function fail() {\n  throw new Error('boom');\n}\nfail();\n");

        var outcome = await sandbox.ShellAsync("node bad.js || echo failed $?");

        Assert.Equal("failed 1\n", outcome.Stdout.Text);
        Assert.StartsWith("Uncaught Error: boom\n    at fail (", outcome.Stderr.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("<shell>", outcome.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_scripts_leave_the_session_globals_and_process_alone()
    {
        await using var sandbox = await fixture.CreateAsync("javascript");
        await sandbox.ExecuteAsync(new ExecutionRequest("var kept = 'session'; globalThis.counter = 1"));
        await sandbox.WriteAsync("script.js", "var kept = 'script'; counter++; console.log(counter)");

        Assert.Equal("2\n", await sandbox.OutAsync("node script.js"));
        Assert.Equal("0\n", (await sandbox.ShellAsync("node -e 'var kept = 1; process.exit(0)'; echo $?")).Stdout.Text);

        var after = await sandbox.ExecuteAsync(new ExecutionRequest("[kept, process.argv, typeof process.exit, counter]"));
        Assert.Equal("[ 'session', [ 'node', '/workspace/main.js' ], 'function', 2 ]", after.Result?.Repr);
    }

    [Theory]
    [InlineData("python", "node -e 1", "node: this is a python session, so node cannot run here")]
    [InlineData("javascript", "python -c 1", "python: this is a javascript session, so python cannot run here")]
    public async Task A_session_runs_only_its_own_language(string language, string command, string message)
    {
        await using var sandbox = await fixture.CreateAsync(language);

        var outcome = await sandbox.ShellAsync(command);

        Assert.Equal(127, outcome.ExitCode);
        Assert.StartsWith(message, outcome.Stderr.Text, StringComparison.Ordinal);
        Assert.Equal(0, outcome.Executions);
    }

    [Fact]
    public async Task Odd_file_names_are_passed_as_data()
    {
        await using var sandbox = await fixture.CreateAsync();
        var name = "it's \"odd\" $x'''; print('injected').py";
        await sandbox.WriteAsync(name, "import sys\nprint(sys.argv[0])\n");

        var outcome = await sandbox.ShellAsync("python \"it's \\\"odd\\\" \\$x'''; print('injected').py\" && python -c 'import sys; print(sys.argv[1])' \"'''\\\"\"");

        Assert.Equal($"{name}\n'''\"\n", outcome.Stdout.Text);
    }
}
