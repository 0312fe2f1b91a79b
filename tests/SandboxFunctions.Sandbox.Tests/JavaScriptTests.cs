using System.Text.Json;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox.Tests;

[Collection(EngineTests.Name)]
public sealed class JavaScriptTests(EngineFixture engine)
{
    [Fact]
    public async Task Scripts_share_state_and_return_their_last_expression()
    {
        await using var sandbox = await engine.CreateAsync("javascript");

        await sandbox.ValueAsync("function double(n) { return n * 2 }\nconst base = 20; let extra = 2; class Point { constructor(x) { this.x = x } }");

        Assert.Equal("42", await sandbox.ValueAsync("double(base) + extra"));
        Assert.Equal("Point { x: 3 }", await sandbox.ValueAsync("new Point(3)"));
        Assert.Equal("[ 1, 'two', { three: 3 } ]", await sandbox.ValueAsync("[1, 'two', { three: 3 }]"));
    }

    [Fact]
    public async Task Require_resolves_against_the_requiring_file_and_sees_edits_in_later_calls()
    {
        await using var sandbox = await engine.CreateAsync("javascript");
        await sandbox.Workspace.WriteAsync("lib/index.js", "const helper = require('./helper');\nmodule.exports = { answer: () => helper.base * 2, config: require('../config.json') };"u8.ToArray());
        await sandbox.Workspace.WriteAsync("lib/helper.js", "exports.base = 21;\nexports.self = require('./helper');"u8.ToArray());
        await sandbox.Workspace.WriteAsync("config.json", "{\"name\": \"demo\"}"u8.ToArray());
        await sandbox.Workspace.WriteAsync("lib/broken.js", "// line 1\n// line 2\nthrow new Error('from line 3');"u8.ToArray());

        Assert.Equal("[ 42, 'demo', true ]", await sandbox.ValueAsync("const lib = require('./lib'); [lib.answer(), lib.config.name, require('./lib/helper.js').self.base === 21]"));
        await sandbox.Workspace.WriteAsync("lib/helper.js", "exports.base = 50;"u8.ToArray());
        Assert.Equal("100", await sandbox.ValueAsync("require('./lib').answer()"));

        var broken = await sandbox.ExecuteAsync(new ExecutionRequest("require('./lib/broken.js')"));
        Assert.Equal(ExecutionStatus.Error, broken.Status);
        Assert.Contains(":3", broken.Error!.Traceback, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Console_goes_to_stdout_and_stderr_and_errors_carry_stacks()
    {
        await using var sandbox = await engine.CreateAsync("javascript");

        var result = await sandbox.ExecuteAsync(new ExecutionRequest("console.log('out', { a: 1 }); console.error('err');\nfunction broken() { throw new TypeError('bad value') }\nbroken()") { Name = "<cell 3>" });

        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("out { a: 1 }\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal("TypeError", result.Error!.Type);
        Assert.Equal("bad value", result.Error.Message);
        Assert.Contains("at broken (<cell 3>:2", result.Error.Traceback, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promises_timers_and_top_level_await_settle_before_the_result()
    {
        await using var sandbox = await engine.CreateAsync("javascript");

        var result = await sandbox.RunAsync("const order = [];\nsetTimeout(() => order.push('timer'), 20);\nPromise.resolve().then(() => order.push('micro'));\nconst value = await new Promise(r => setTimeout(() => r(7), 40));\n[value, order]");

        Assert.Equal(ExecutionStatus.Ok, result.Status);
        Assert.Equal("[ 7, [ 'micro', 'timer' ] ]", result.Result!.Repr);
        Assert.Equal("7", await sandbox.ValueAsync("value"));
    }

    [Fact]
    public async Task Modules_import_workspace_files_and_builtins()
    {
        await using var sandbox = await engine.CreateAsync("javascript");
        await sandbox.Workspace.WriteAsync("lib/math.js", "export const add = (a, b) => a + b;"u8.ToArray());

        var result = await sandbox.RunAsync("import { add } from './lib/math.js';\nimport fs from 'fs';\nimport { join } from 'node:path';\nfs.writeFileSync(join('/workspace', 'sum.txt'), String(add(2, 3)));");

        Assert.Equal(ExecutionStatus.Ok, result.Status);
        Assert.Equal("'5'", await sandbox.ValueAsync("fs.readFileSync('sum.txt', 'utf8')"));
    }

    [Fact]
    public async Task Node_style_fs_reads_and_writes_the_workspace()
    {
        await using var sandbox = await engine.CreateAsync("javascript");

        await sandbox.ValueAsync("fs.mkdirSync('data/raw', { recursive: true }); fs.writeFileSync('data/raw/a.json', JSON.stringify({ n: 1 })); fs.appendFileSync('log.txt', 'one\\n'); fs.appendFileSync('log.txt', 'two\\n');");

        Assert.Equal("1", await sandbox.ValueAsync("JSON.parse(fs.readFileSync('/workspace/data/raw/a.json', 'utf8')).n"));
        Assert.Equal("'one\\ntwo\\n'", await sandbox.ValueAsync("fs.readFileSync('log.txt', 'utf8')"));
        Assert.Equal("[ 'data', 'log.txt' ]", await sandbox.ValueAsync("fs.readdirSync('.')"));
        var missing = await sandbox.RunAsync("fs.readFileSync('nope.txt')");
        Assert.Contains("ENOENT", missing.Error!.Message, StringComparison.Ordinal);
        var bytes = await sandbox.Workspace.ReadAsync("log.txt");
        Assert.Equal("one\ntwo\n"u8.ToArray(), bytes);
    }

    [Fact]
    public async Task Process_chdir_moves_the_directory_relative_paths_resolve_against_for_later_calls_too()
    {
        await using var sandbox = await engine.CreateAsync("javascript");
        await sandbox.Workspace.WriteAsync("reports/q1.txt", "first quarter"u8.ToArray());

        await sandbox.ValueAsync("process.chdir('reports')");

        Assert.Equal("'/workspace/reports'", await sandbox.ValueAsync("process.cwd()"));
        Assert.Equal("'first quarter'", await sandbox.ValueAsync("fs.readFileSync('q1.txt', 'utf8')"));
        Assert.Equal("'/workspace/reports/q2.txt'", await sandbox.ValueAsync("fs.writeFileSync('q2.txt', 'x'); path.resolve('q2.txt')"));
        Assert.True((await sandbox.Workspace.ReadAsync("reports/q2.txt")).Length == 1);
        var missing = await sandbox.RunAsync("process.chdir('/workspace/nowhere')");
        var file = await sandbox.RunAsync("process.chdir('q1.txt')");
        Assert.Contains("ENOENT", missing.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("ENOTDIR", file.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("'/workspace/reports'", await sandbox.ValueAsync("process.chdir('..'); process.chdir('./reports'); process.cwd()"));
    }

    [Fact]
    public async Task Handler_mode_awaits_async_handlers_in_scripts_and_modules()
    {
        await using var sandbox = await engine.CreateAsync("javascript");
        using var @event = JsonDocument.Parse("""{"name": "Ada"}""");

        var script = await sandbox.ExecuteAsync(new ExecutionRequest("async function handler(event, context) { return { greeting: `hi ${event.name}`, id: typeof context.awsRequestId } }") { Event = @event.RootElement.Clone() });
        var module = await sandbox.ExecuteAsync(new ExecutionRequest("export const handler = async (event) => ({ upper: event.name.toUpperCase() });") { Event = @event.RootElement.Clone() });

        Assert.Equal("hi Ada", script.Result!.Json!.Value.GetProperty("greeting").GetString());
        Assert.Equal("string", script.Result.Json.Value.GetProperty("id").GetString());
        Assert.Equal("ADA", module.Result!.Json!.Value.GetProperty("upper").GetString());
    }

    [Fact]
    public async Task Standard_input_is_readable_as_file_descriptor_zero()
    {
        await using var sandbox = await engine.CreateAsync("javascript");

        var result = await sandbox.ExecuteAsync(new ExecutionRequest("fs.readFileSync(0, 'utf8').split('\\n').length") { Stdin = "x\ny\nz"u8.ToArray() });

        Assert.Equal("3", result.Result!.Repr);
    }
}
