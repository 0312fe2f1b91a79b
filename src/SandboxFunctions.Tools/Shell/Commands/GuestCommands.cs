using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Tools.Shell.Commands;

/// <summary>
/// <c>python</c> and <c>node</c>: scripts run in the session's own interpreter (its imported modules and memory),
/// each in a fresh main namespace so that the session's globals are left alone. What to run is passed to a
/// fixed runner as data (base64 or JSON), never spliced into code.
/// </summary>
internal static partial class GuestCommands
{
    private const string PythonLanguage = "python";
    private const string JavaScriptLanguage = "javascript";

    /// <summary>The name the runner's own frames carry, so that tracebacks can leave them out.</summary>
    private const string RunnerName = "<shell>";

    /// <summary>Appended to an ES module's source so that the engine evaluates it as a module; on its own line, it moves no line numbers.</summary>
    private const string ModuleMarker = "\nexport {};\n";

    private static readonly TimeSpan RestoreTimeout = TimeSpan.FromSeconds(5);

    /// <summary>What the guest's timer loop prints when process.exit is called in a timer; node itself would just exit.</summary>
    private static readonly byte[] ExitInTimer = "Uncaught ProcessExit: process.exit("u8.ToArray();

    /// <summary>
    /// Runs one command in Python: sets argv, stdin (a fresh reader, so no input is left over from earlier calls),
    /// the working directory and environment; reports SystemExit as a status and other exceptions as a traceback;
    /// then puts everything back and forgets workspace modules the script imported, so edits take effect next time.
    /// </summary>
    private const string PythonRunner = """
        import base64, builtins, importlib.machinery, io, json, os, runpy, sys, tokenize, traceback, types

        def _flush():
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass

        def _run_file(path):
            if os.path.isdir(path):
                runpy.run_path(path, run_name='__main__')
                return
            with tokenize.open(path) as source:
                code = compile(source.read(), path, 'exec')
            main = types.ModuleType('__main__')
            main.__dict__.update(__file__=path, __builtins__=builtins, __cached__=None, __spec__=None, __package__=None,
                                 __loader__=importlib.machinery.SourceFileLoader('__main__', path))
            previous = sys.modules.get('__main__')
            sys.modules['__main__'] = main
            try:
                exec(code, main.__dict__)
            finally:
                sys.modules['__main__'] = previous

        def _run(spec):
            hidden = {'<shell>', runpy.run_path.__code__.co_filename}
            saved = (sys.argv, sys.stdin, sys.path[:], os.getcwd(), dict(os.environ))
            modules = set(sys.modules)
            try:
                sys.argv = spec['argv']
                sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, 'rb', closefd=False)), encoding='utf-8')
                os.chdir(spec['cwd'])
                os.environ.clear()
                os.environ.update(spec['env'])
                try:
                    if spec['mode'] == 'file':
                        sys.path.insert(0, os.path.dirname(spec['path']))
                        _run_file(spec['path'])
                    elif spec['mode'] == 'module':
                        sys.path.insert(0, spec['cwd'])
                        runpy.run_module(spec['module'], run_name='__main__', alter_sys=True)
                    else:
                        sys.path.insert(0, spec['cwd'])
                        code = compile(spec['code'], spec['name'], 'exec')
                        exec(code, {'__name__': '__main__', '__builtins__': builtins, '__doc__': None, '__spec__': None, '__package__': None})
                    return 0
                except SystemExit as exit:
                    if exit.code is None:
                        return 0
                    if isinstance(exit.code, int):
                        return exit.code & 0xFF
                    _flush()
                    print(exit.code, file=sys.stderr)
                    return 1
                except MemoryError:
                    # The sandbox reports running out of memory as a limit of its own.
                    raise
                except BaseException as error:
                    tb = error.__traceback__
                    while tb is not None and tb.tb_frame.f_code.co_filename in hidden:
                        tb = tb.tb_next
                    _flush()
                    sys.stderr.write(''.join(traceback.TracebackException(type(error), error, tb, compact=True).format()))
                    return 1
            finally:
                _flush()
                sys.argv, sys.stdin = saved[0], saved[1]
                sys.path[:] = saved[2]
                os.chdir(saved[3])
                os.environ.clear()
                os.environ.update(saved[4])
                for name in set(sys.modules) - modules:
                    if (getattr(sys.modules.get(name), '__file__', None) or '').startswith('/workspace/'):
                        del sys.modules[name]

        status = _run(json.loads(base64.b64decode(spec)))
        """;

    /// <summary>
    /// Prepares a JavaScript run: sets process.argv, process.env and the working directory, records the status process.exit is called with,
    /// and runs a CommonJS file (through the guest's require), code given with -e, or nothing (an ES module runs next,
    /// as its own cell). The previous values are kept on a symbol, for <see cref="JavaScriptRestore"/>.
    /// </summary>
    private const string JavaScriptSetup = """
        ((spec) => {
          const saved = { argv: process.argv, env: process.env, exit: process.exit, cwd: process.cwd(), code: undefined };
          Object.defineProperty(globalThis, Symbol.for('sandbox.shell'), { value: saved, configurable: true });
          process.argv = spec.argv;
          process.env = spec.env;
          process.chdir(spec.cwd);
          process.exit = (code = 0) => { if (saved.code === undefined) saved.code = code; return saved.exit(code); };
          if (spec.mode === 'require') {
            require(spec.path);
          } else if (spec.mode === 'eval') {
            const AsyncFunction = (async () => {}).constructor;
            const module = { exports: {} };
            return new AsyncFunction('require', 'module', 'exports', '__filename', '__dirname', spec.code)(require, module, module.exports, spec.name, spec.cwd).then(() => undefined);
          } else if (spec.mode === 'print') {
            // A direct eval inside a function keeps the code's var declarations out of the session's globals.
            console.log(((code) => eval(code))(spec.code));
          }
          return undefined;
        })
        """;

    /// <summary>Puts process back as it was and returns the status process.exit was called with, or null.</summary>
    private const string JavaScriptRestore = """
        (() => {
          const key = Symbol.for('sandbox.shell');
          const saved = globalThis[key];
          if (saved === undefined) return null;
          delete globalThis[key];
          process.argv = saved.argv;
          process.env = saved.env;
          process.exit = saved.exit;
          try { process.chdir(saved.cwd); } catch { process.chdir('/workspace'); }
          if (saved.code === undefined) return null;
          const code = Number(saved.code);
          return Number.isInteger(code) ? code : 1;
        })()
        """;

    private static readonly string PythonRunnerBase64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(PythonRunner));

    public static async Task<int> PythonAsync(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (WrongLanguage(context, PythonLanguage) is { } refused)
        {
            return refused;
        }

        var arguments = context.Arguments;
        var stdin = context.Stdin;
        GuestRun? run = null;
        for (var i = 0; i < arguments.Count && run is null; i++)
        {
            var argument = arguments[i];
            var rest = arguments.Skip(i + 1).ToList();
            switch (argument)
            {
                case "-c" or "-m" when rest.Count == 0:
                    context.Stderr.WriteLine($"Argument expected for the {argument} option");
                    return 2;
                case "-c":
                    run = new GuestRun("code", ["-c", .. rest.Skip(1)]) { Code = rest[0], Name = "<string>" };
                    break;
                case "-m":
                    run = new GuestRun("module", [rest[0], .. rest.Skip(1)]) { Module = rest[0] };
                    break;
                case "-":
                    run = new GuestRun("code", ["-", .. rest]) { Code = TextLines.Decode(stdin), Name = "<stdin>" };
                    stdin = ReadOnlyMemory<byte>.Empty;
                    break;
                case "-V" or "--version":
                    context.Stdout.WriteLine($"Python {context.Run.Sandbox.Runtime.Version}");
                    return 0;
                case "-h" or "--help":
                    context.Stdout.WriteLine("usage: python [-c cmd | -m mod | file | -] [arg] ...\nRuns in this session's Python interpreter (no network; standard library and bundled packages only).");
                    return 0;
                case "-W" or "-X":
                    i++;
                    break;
                default:
                    if (argument.StartsWith('-') && argument.Length > 1)
                    {
                        if (argument.Skip(1).All(c => "uBEsSIqObdv".Contains(c, StringComparison.Ordinal)) || argument.StartsWith("-W", StringComparison.Ordinal) || argument.StartsWith("-X", StringComparison.Ordinal))
                        {
                            break;
                        }

                        context.Stderr.WriteLine($"unknown option {argument}\nusage: python [-c cmd | -m mod | file | -] [arg] ...");
                        return 2;
                    }

                    var path = context.Resolve(argument);
                    if (await context.Files.StatAsync(path, context.CancellationToken).ConfigureAwait(false) is null)
                    {
                        context.Stderr.WriteLine($"python: can't open file '{path}': [Errno 2] No such file or directory");
                        return 2;
                    }

                    run = new GuestRun("file", [argument, .. rest]) { Path = path };
                    break;
            }
        }

        if (run is null)
        {
            run = new GuestRun("code", [string.Empty]) { Code = TextLines.Decode(stdin), Name = "<stdin>" };
            stdin = ReadOnlyMemory<byte>.Empty;
        }

        run = run with { Cwd = context.Shell.Cwd, Env = context.Shell.Environment };
        var spec = Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(run, GuestJson.Default.GuestRun));
        var code = $"(lambda g: (__import__('builtins').exec(__import__('builtins').compile(__import__('base64').b64decode('{PythonRunnerBase64}'), '{RunnerName}', 'exec'), g), g['status'])[1])({{'spec': '{spec}'}})";

        context.Run.CountExecution();
        var result = await RunCellAsync(context, code, stdin, RunnerName).ConfigureAwait(false);
        ThrowIfStopped(context, result);
        if (result.Status == ExecutionStatus.Error)
        {
            context.Stderr.WriteLine(result.Error?.Traceback?.TrimEnd() ?? result.Message ?? "python: the interpreter stopped");
            return 1;
        }

        return result.Result?.Json is { ValueKind: JsonValueKind.Number } status && status.TryGetInt32(out var exitCode) ? exitCode : 0;
    }

    public static async Task<int> NodeAsync(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (WrongLanguage(context, JavaScriptLanguage) is { } refused)
        {
            return refused;
        }

        var arguments = context.Arguments;
        var stdin = context.Stdin;
        var moduleInput = false;
        GuestRun? run = null;
        string? moduleSource = null;
        for (var i = 0; i < arguments.Count && run is null; i++)
        {
            var argument = arguments[i];
            var rest = arguments.Skip(i + 1).ToList();
            switch (argument)
            {
                case "-e" or "--eval" or "-p" or "--print" when rest.Count == 0:
                    context.Stderr.WriteLine($"node: {argument} requires an argument");
                    return 9;
                case "-e" or "--eval" when moduleInput || ModuleSyntax().IsMatch(rest[0]):
                    run = new GuestRun("none", ["node", .. rest.Skip(1)]) { Name = $"{context.Shell.Cwd}/[eval1]" };
                    moduleSource = rest[0];
                    break;
                case "-e" or "--eval":
                    run = new GuestRun("eval", ["node", .. rest.Skip(1)]) { Code = rest[0], Name = "[eval]" };
                    break;
                case "-p" or "--print":
                    run = new GuestRun("print", ["node", .. rest.Skip(1)]) { Code = rest[0], Name = "[eval]" };
                    break;
                case "-v" or "--version":
                    context.Stdout.WriteLine($"{context.Run.Sandbox.Runtime.Engine.Split(',')[0]} ({context.Run.Sandbox.Runtime.Version})");
                    return 0;
                case "-h" or "--help":
                    context.Stdout.WriteLine("usage: node [-e code | -p code | file | -] [arg] ...\nRuns in this session's QuickJS interpreter with Node-style fs, path and process (no network, no npm).");
                    return 0;
                case "--input-type=module":
                    moduleInput = true;
                    break;
                case "-":
                    run = new GuestRun("eval", ["node", .. rest]) { Code = TextLines.Decode(stdin), Name = "[stdin]" };
                    stdin = ReadOnlyMemory<byte>.Empty;
                    break;
                default:
                    if (argument.StartsWith('-'))
                    {
                        context.Stderr.WriteLine($"node: bad option: {argument}");
                        return 9;
                    }

                    var path = context.Resolve(argument);
                    byte[] source;
                    try
                    {
                        source = await context.Files.ReadAsync(path, context.CancellationToken).ConfigureAwait(false);
                    }
                    catch (WorkspaceException)
                    {
                        context.Stderr.WriteLine($"node: Cannot find module '{path}'");
                        return 1;
                    }

                    var text = TextLines.Decode(source);
                    var isModule = path.EndsWith(".mjs", StringComparison.Ordinal) || (!path.EndsWith(".cjs", StringComparison.Ordinal) && ModuleSyntax().IsMatch(text));
                    run = new GuestRun(isModule ? "none" : "require", ["node", path, .. rest]) { Path = path, Name = path };
                    moduleSource = isModule ? text : null;
                    break;
            }
        }

        if (run is null)
        {
            var code = TextLines.Decode(stdin);
            stdin = ReadOnlyMemory<byte>.Empty;
            run = moduleInput || ModuleSyntax().IsMatch(code)
                ? new GuestRun("none", ["node"]) { Name = $"{context.Shell.Cwd}/[stdin]" }
                : new GuestRun("eval", ["node"]) { Code = code, Name = "[stdin]" };
            moduleSource = run.Mode == "none" ? code : null;
        }

        run = run with { Cwd = context.Shell.Cwd, Env = context.Shell.Environment };
        var setup = $"{JavaScriptSetup}({JsonSerializer.Serialize(run, GuestJson.Default.GuestRun)})";

        context.Run.CountExecution();
        var main = await RunCellAsync(context, setup, moduleSource is null ? stdin : ReadOnlyMemory<byte>.Empty, RunnerName, hideExitInTimer: true).ConfigureAwait(false);
        if (moduleSource is not null && main.Status == ExecutionStatus.Ok)
        {
            main = await RunCellAsync(context, moduleSource + ModuleMarker, stdin, run.Name!, hideExitInTimer: true).ConfigureAwait(false);
        }

        var restored = await RunCellAsync(context, JavaScriptRestore, ReadOnlyMemory<byte>.Empty, RunnerName, RestoreTimeout).ConfigureAwait(false);
        ThrowIfStopped(context, main);
        if (restored.Result?.Json is { ValueKind: JsonValueKind.Number } status && status.TryGetInt32(out var exitCode))
        {
            return exitCode & 0xFF;
        }

        if (main.Status != ExecutionStatus.Error)
        {
            return 0;
        }

        var traceback = main.Error?.Traceback ?? main.Error?.Message ?? string.Empty;
        var frames = traceback.Split('\n').Where(line => !line.Contains(RunnerName, StringComparison.Ordinal) && !line.Contains("<sandbox>", StringComparison.Ordinal));
        context.Stderr.WriteLine($"Uncaught {string.Join('\n', frames).TrimEnd()}");
        return 1;
    }

    private static int? WrongLanguage(CommandContext context, string language)
    {
        var session = context.Run.Sandbox.Runtime.Language;
        if (session == language)
        {
            return null;
        }

        var other = language == PythonLanguage ? "node" : "python";
        context.Fail($"this is a {session} session, so {context.Name} cannot run here; use {other} (or create a separate {language} session for {context.Name})");
        return 127;
    }

    private static async Task<ExecutionResult> RunCellAsync(CommandContext context, string code, ReadOnlyMemory<byte> stdin, string name, TimeSpan? timeout = null, bool hideExitInTimer = false)
    {
        var remaining = context.Run.Remaining;
        if (timeout is null)
        {
            context.Run.ThrowIfOutOfTime();
        }

        var recorder = new OutputRecorder(context.Run.Limits.PipeBytes, hideExitInTimer ? ExitInTimer : null, context.Stdout as CapturedOutput, context.Stderr as CapturedOutput);
        var request = new ExecutionRequest(code)
        {
            Timeout = timeout ?? remaining,
            Stdin = stdin,
            Name = name,
            OnOutput = recorder.Record,
        };

        ExecutionResult result;
        try
        {
            result = await context.Run.Sandbox.ExecuteAsync(request, timeout is null ? context.Run.CallerCancellationToken : CancellationToken.None).ConfigureAwait(false);
        }
        catch (SandboxException ex) when (ex.Kind == SandboxErrorKind.CodeTooLarge)
        {
            return new ExecutionResult { Status = ExecutionStatus.Error, Error = new GuestError("CodeTooLarge", ex.Message, ex.Message) };
        }

        recorder.Replay(context.Stdout, context.Stderr);
        return result;
    }

    /// <summary>Ends the command line when the interpreter hit a limit or had to go back to its saved state; its output so far has been written already.</summary>
    private static void ThrowIfStopped(CommandContext context, ExecutionResult result)
    {
        var reason = result.Status switch
        {
            ExecutionStatus.Timeout => ShellStopReason.Timeout,
            ExecutionStatus.Cancelled => context.Run.CallerCancellationToken.IsCancellationRequested ? ShellStopReason.Cancelled : ShellStopReason.Timeout,
            ExecutionStatus.MemoryLimit => ShellStopReason.MemoryLimit,
            ExecutionStatus.OutputLimit => ShellStopReason.OutputLimit,
            ExecutionStatus.Crashed => ShellStopReason.InterpreterCrashed,
            _ when result.StateRolledBack => ShellStopReason.InterpreterCrashed,
            _ => (ShellStopReason?)null,
        };

        if (reason is { } stop)
        {
            throw new ShellStopException(stop, $"{context.Name}: {result.Message ?? $"stopped ({result.Status})."}", result.StateRolledBack);
        }
    }

    // The engine's own test for module code: a line that starts with an import declaration or an export.
    [GeneratedRegex("""^\s*(import\s*[\w{*'"]|export\s)""", RegexOptions.Multiline)]
    private static partial Regex ModuleSyntax();

    /// <summary>
    /// Collects a run's output in order, on the guest's thread, to pass on once the run is over. Consecutive writes
    /// to one stream are kept as one run of bytes, so a script that prints a million lines costs no more than its text.
    /// Output bound for the command line's own stdout or stderr is also sent ahead live as the script writes it.
    /// </summary>
    /// <param name="hiddenErrorPrefix">Error output starting with these bytes is left out.</param>
    private sealed class OutputRecorder(long limit, byte[]? hiddenErrorPrefix, CapturedOutput? liveStdout, CapturedOutput? liveStderr)
    {
        private readonly Lock _gate = new();
        private readonly ArrayBufferWriter<byte> _data = new();
        private readonly List<(OutputKind Kind, int Length)> _runs = [];
        private bool _overflowed;
        private bool _closed;

        public void Record(OutputChunk chunk)
        {
            var data = chunk.Data.Span;
            if (hiddenErrorPrefix is not null && chunk.Kind == OutputKind.Stderr && data.StartsWith(hiddenErrorPrefix))
            {
                return;
            }

            // A guest that ignored a hard timeout may still be writing from its abandoned thread after the run returned.
            lock (_gate)
            {
                if (_closed)
                {
                    return;
                }

                if (_data.WrittenCount + (long)data.Length > limit)
                {
                    _overflowed = true;
                    return;
                }

                _data.Write(data);
                (chunk.Kind == OutputKind.Stderr ? liveStderr : liveStdout)?.SendAhead(data);
                if (_runs.Count > 0 && _runs[^1].Kind == chunk.Kind)
                {
                    _runs[^1] = (chunk.Kind, _runs[^1].Length + data.Length);
                }
                else
                {
                    _runs.Add((chunk.Kind, data.Length));
                }
            }
        }

        public void Replay(ShellOutput stdout, ShellOutput stderr)
        {
            lock (_gate)
            {
                _closed = true;
            }

            var offset = 0;
            foreach (var (kind, length) in _runs)
            {
                (kind == OutputKind.Stderr ? stderr : stdout).Write(_data.WrittenSpan.Slice(offset, length));
                offset += length;
            }

            if (_overflowed)
            {
                throw new ShellStopException(ShellStopReason.PipelineLimit, $"A script wrote more than the {limit / (1024 * 1024)} MiB a pipe may carry.");
            }
        }
    }
}

/// <summary>What a python or node command runs, as its runner receives it.</summary>
internal sealed record GuestRun(string Mode, IReadOnlyList<string> Argv)
{
    public string? Path { get; init; }

    public string? Code { get; init; }

    public string? Module { get; init; }

    /// <summary>The file name tracebacks show for code given inline (<c>&lt;string&gt;</c>, <c>[eval]</c>).</summary>
    public string? Name { get; init; }

    public string Cwd { get; init; } = ShellFileSystem.Root;

    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(GuestRun))]
internal sealed partial class GuestJson : JsonSerializerContext;
