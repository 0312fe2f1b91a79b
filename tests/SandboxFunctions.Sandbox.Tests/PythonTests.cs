using System.Text.Json;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox.Tests;

[Collection(EngineTests.Name)]
public sealed class PythonTests(EngineFixture engine)
{
    [Fact]
    public async Task Cells_share_state_like_a_notebook()
    {
        await using var sandbox = await engine.CreateAsync("python");

        Assert.Null(await sandbox.ValueAsync("x = 20"));
        Assert.Null(await sandbox.ValueAsync("def double(n):\n    return n * 2\nclass Point:\n    def __init__(self, x): self.x = x\n    def __repr__(self): return f'Point({self.x})'"));
        Assert.Equal("42", await sandbox.ValueAsync("double(x) + 2"));
        Assert.Equal("Point(3)", await sandbox.ValueAsync("import collections\nPoint(3)"));
        Assert.Equal("2", await sandbox.ValueAsync("collections.Counter('aab')['a']"));
    }

    [Fact]
    public async Task Results_carry_repr_json_and_type()
    {
        await using var sandbox = await engine.CreateAsync("python");

        var result = await sandbox.RunAsync("{'a': [1, 2.5, None], 'b': 'text'}");

        Assert.Equal(ExecutionStatus.Ok, result.Status);
        Assert.Equal("dict", result.Result!.Type);
        Assert.Equal("{'a': [1, 2.5, None], 'b': 'text'}", result.Result.Repr);
        Assert.Equal(2.5, result.Result.Json!.Value.GetProperty("a")[1].GetDouble());
        var opaque = await sandbox.RunAsync("object()");
        Assert.Null(opaque.Result!.Json);
        Assert.StartsWith("<object object at", opaque.Result.Repr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Output_and_exceptions_are_reported_with_the_cells_own_traceback()
    {
        await using var sandbox = await engine.CreateAsync("python");

        var result = await sandbox.ExecuteAsync(new ExecutionRequest("import sys\nprint('out')\nprint('err', file=sys.stderr)\n\ndef broken():\n    return 1 / 0\nbroken()") { Name = "<cell 7>" });

        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("out\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal("ZeroDivisionError", result.Error!.Type);
        Assert.Equal("division by zero", result.Error.Message);
        Assert.Contains("File \"<cell 7>\", line 6, in broken", result.Error.Traceback, StringComparison.Ordinal);
        Assert.Contains("return 1 / 0", result.Error.Traceback, StringComparison.Ordinal);
        Assert.DoesNotContain("_sandbox", result.Error.Traceback, StringComparison.Ordinal);
        Assert.Equal("'still alive'", await sandbox.ValueAsync("'still alive'"));
    }

    [Fact]
    public async Task Syntax_errors_and_system_exit_leave_the_interpreter_alive()
    {
        await using var sandbox = await engine.CreateAsync("python");
        await sandbox.ValueAsync("kept = 5");

        var syntax = await sandbox.RunAsync("def f(:\n    pass");
        var exit = await sandbox.RunAsync("raise SystemExit(3)");

        Assert.Equal("SyntaxError", syntax.Error!.Type);
        Assert.Contains("^", syntax.Error.Traceback, StringComparison.Ordinal);
        Assert.Equal("SystemExit", exit.Error!.Type);
        Assert.Equal("5", await sandbox.ValueAsync("kept"));
    }

    [Fact]
    public async Task Top_level_await_and_asyncio_work()
    {
        await using var sandbox = await engine.CreateAsync("python");

        Assert.Equal("6", await sandbox.ValueAsync("import asyncio\nasync def twice(n):\n    await asyncio.sleep(0.01)\n    return n * 2\nawait twice(3)"));
        Assert.Equal("[2, 4]", await sandbox.ValueAsync("await asyncio.gather(twice(1), twice(2))"));
    }

    [Fact]
    public async Task Files_written_in_one_call_are_read_in_the_next()
    {
        await using var sandbox = await engine.CreateAsync("python");

        await sandbox.ValueAsync("import csv\nwith open('data.csv', 'w', newline='') as f:\n    csv.writer(f).writerows([['name', 'n'], ['a', 1], ['b', 2]])\nimport os; os.makedirs('out/nested', exist_ok=True)");

        Assert.Equal("3", await sandbox.ValueAsync("sum(int(r['n']) for r in csv.DictReader(open('/workspace/data.csv')))"));
        Assert.Equal("['data.csv', 'out']", await sandbox.ValueAsync("sorted(os.listdir('.'))"));
        var files = await sandbox.Workspace.ListAsync(recursive: true);
        Assert.Contains(files, f => f.Path == "/workspace/data.csv" && f.Size > 0);
        Assert.Contains(files, f => f.Path == "/workspace/out/nested" && f.IsDirectory);
    }

    [Fact]
    public async Task Sqlite_bz2_and_lzma_are_available()
    {
        await using var sandbox = await engine.CreateAsync("python");

        Assert.Equal("[(1, 'x')]", await sandbox.ValueAsync("import sqlite3\ndb = sqlite3.connect('app.db')\ndb.execute('create table t (id, v)')\ndb.execute(\"insert into t values (1, 'x')\")\ndb.commit()\nsqlite3.connect('app.db').execute('select * from t').fetchall()"));
        Assert.Equal("True", await sandbox.ValueAsync("import bz2, lzma, zlib\ndata = b'abc' * 1000\nbz2.decompress(bz2.compress(data)) == lzma.decompress(lzma.compress(data)) == zlib.decompress(zlib.compress(data)) == data"));
    }

    [Fact]
    public async Task Handler_mode_calls_handler_with_the_event_and_a_context()
    {
        await using var sandbox = await engine.CreateAsync("python");
        using var @event = JsonDocument.Parse("""{"n": 41, "items": ["a", "b"]}""");

        var result = await sandbox.ExecuteAsync(new ExecutionRequest(
            "def handler(event, context):\n    return {'n': event['n'] + 1, 'count': len(event['items']), 'ms_left': context.get_remaining_time_in_millis() > 0}")
        {
            Event = @event.RootElement.Clone(),
        });

        Assert.Equal(ExecutionStatus.Ok, result.Status);
        Assert.Equal(42, result.Result!.Json!.Value.GetProperty("n").GetInt32());
        Assert.Equal(2, result.Result.Json.Value.GetProperty("count").GetInt32());
        Assert.True(result.Result.Json.Value.GetProperty("ms_left").GetBoolean());
    }

    [Fact]
    public async Task Handler_mode_without_a_handler_says_how_to_define_one()
    {
        await using var sandbox = await engine.CreateAsync("python");
        using var @event = JsonDocument.Parse("{}");

        var result = await sandbox.ExecuteAsync(new ExecutionRequest("x = 1") { Event = @event.RootElement.Clone() });

        Assert.Equal("HandlerNotFound", result.Error!.Type);
        Assert.Contains("def handler(event, context)", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Standard_input_is_what_the_request_gives()
    {
        await using var sandbox = await engine.CreateAsync("python");

        var piped = await sandbox.ExecuteAsync(new ExecutionRequest("import sys\n[line.strip() for line in sys.stdin]") { Stdin = "a\nb\n"u8.ToArray() });
        var empty = await sandbox.ExecuteAsync(new ExecutionRequest("sys.stdin.read()"));

        Assert.Equal("['a', 'b']", piped.Result!.Repr);
        Assert.Equal("''", empty.Result!.Repr);
    }

    [Fact]
    public async Task Input_a_call_left_unread_does_not_reach_the_next_call()
    {
        await using var sandbox = await engine.CreateAsync("python");

        var first = await sandbox.ExecuteAsync(new ExecutionRequest("import sys\nsys.stdin.readline()") { Stdin = "first\nleft over\n"u8.ToArray() });
        var second = await sandbox.ExecuteAsync(new ExecutionRequest("sys.stdin.read()") { Stdin = "second\n"u8.ToArray() });

        Assert.Equal("'first\\n'", first.Result!.Repr);
        Assert.Equal("'second\\n'", second.Result!.Repr);
    }
}
