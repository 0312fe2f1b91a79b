using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Interop;
using SandboxFunctions.Sandbox.Vfs;

namespace SandboxFunctions.Sandbox.Runtimes;

/// <summary>
/// JavaScript on QuickJS-NG, driven through the C API the reactor exports. The guest-side bootstrap
/// (sandbox.js) supplies console, timers and a Node-style fs; this class runs cells, the event loop
/// between them, and the host functions the bootstrap calls.
/// </summary>
internal sealed partial class QuickJsRuntime : GuestRuntime
{
    private const uint EvalModule = 1 << 0;
    private const uint EvalAsync = 1 << 7;
    private const int MaxStackBytes = 512 * 1024;
    private const double StateDone = -2;
    private const double StateIdle = -1;

    private static readonly IReadOnlySet<string> HostImports = new HashSet<string>(StringComparer.Ordinal)
    {
        "env.host_call",
        "env.host_interrupt",
        "env.host_promise_rejection",
        "env.host_module_normalize",
        "env.host_module_load",
        "env.host_get_timezone_offset",
    };

    private readonly string _bootstrap;
    private readonly Exports _exports;

    public QuickJsRuntime(RuntimeInfo info, GuestModule module, string bootstrap, GuestThreadPool pool, TimeProvider time, ILogger logger)
        : base(info, module, HostImports, pool, time, logger)
    {
        _bootstrap = bootstrap;
        _exports = new Exports(module);
    }

    protected override IReadOnlyList<string> Arguments => ["node"];

    protected override void MountSystemFiles(VirtualFileSystem files)
    {
    }

    protected override void Boot(GuestContext context)
    {
        var js = new Js(context, _exports);
        context.Instance.Call(_exports.Initialize);
        if (js.Call(_exports.Init) != 0)
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, "QuickJS failed to create its runtime.");
        }

        js.Call(_exports.SetInterruptHandler, 1);
        js.Call(_exports.SetModuleLoader, 1);
        js.Call(_exports.SetMaxStackSize, MaxStackBytes);

        var hostObject = js.Call(_exports.NewObject);
        foreach (var name in new[] { "write", "fs", "random", "stdin" })
        {
            var function = js.WithString(name, (pointer, length) => js.Call(_exports.NewHostFunction, pointer, length, 0));
            js.WithCString(name, namePointer => js.Call(_exports.SetPropString, hostObject, namePointer, function));
            js.Call(_exports.FreeValue, function);
        }

        var global = js.Call(_exports.GetGlobal);
        js.WithCString("__sandboxHost", namePointer => js.Call(_exports.SetPropString, global, namePointer, hostObject));
        js.Call(_exports.FreeValue, hostObject);
        js.Call(_exports.FreeValue, global);

        var result = js.Eval(_bootstrap, "<sandbox>", 0);
        if (js.IsException(result))
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"The JavaScript bootstrap failed: {js.TakeExceptionText()}");
        }

        js.Call(_exports.FreeValue, result);
    }

    internal override GuestOutcome Run(GuestContext context, ExecutionRequest request)
    {
        var js = new Js(context, _exports);
        var isModule = ModuleSyntax().IsMatch(request.Code);
        var mode = isModule ? "module" : "script";
        var value = js.Eval(request.Code, request.Name, isModule ? EvalModule : 0);
        var ok = !js.IsException(value);
        if (!ok)
        {
            value = js.Call(_exports.GetException);
            if (!isModule && MayUseTopLevelAwait(js, value, request.Code))
            {
                // Top-level await needs an async script, whose declarations stay local to the cell;
                // plain scripts keep theirs for later cells, so they are only used for awaiting cells.
                js.Call(_exports.FreeValue, value);
                mode = "async";
                value = js.Eval(request.Code, request.Name, EvalAsync);
                ok = !js.IsException(value);
                if (!ok)
                {
                    value = js.Call(_exports.GetException);
                }
            }
        }

        var global = js.Call(_exports.GetGlobal);
        js.WithCString("__sandboxValue", namePointer => js.Call(_exports.SetPropString, global, namePointer, value));
        js.Call(_exports.FreeValue, value);
        js.Call(_exports.FreeValue, global);

        var invocation = request.Event is { } @event ? JsonSerializer.Serialize(JsonSerializer.Serialize(new
        {
            @event,
            context = new
            {
                request_id = Guid.NewGuid().ToString(),
                function_name = request.Name,
                deadline_ms = Time.GetUtcNow().Add(request.Timeout).ToUnixTimeMilliseconds(),
            },
        })) : "undefined";
        var settle = $"(v => (delete globalThis.__sandboxValue, __sandbox.settle({(ok ? "true" : "false")}, v, '{mode}', {invocation})))(globalThis.__sandboxValue)";
        if (!js.EvalDiscard(settle) || !RunEventLoop(context, js))
        {
            return Interrupted(context, js);
        }

        var outcome = js.EvalString("__sandbox.takeResult()");
        if (outcome is null)
        {
            return Interrupted(context, js);
        }

        var result = GuestOutcome.FromJson(Encoding.UTF8.GetBytes(outcome), static error => error.Type == "InternalError" && error.Message.Contains("out of memory", StringComparison.Ordinal));
        return context.InterruptRequested && result.Error is { Type: "InternalError", Message: "interrupted" } interrupted
            ? result with { Error = interrupted with { Type = "TimeoutError", Message = "The execution was interrupted because it ran out of time." } }
            : result;
    }

    // A line starting with an import declaration (not import() or import.meta) or an export makes a module.
    [GeneratedRegex("""^\s*(import\s*[\w{*'"]|export\s)""", RegexOptions.Multiline)]
    private static partial Regex ModuleSyntax();

    [GeneratedRegex(@"\bawait\b")]
    private static partial Regex AwaitKeyword();

    private static bool MayUseTopLevelAwait(Js js, uint exception, string code) =>
        AwaitKeyword().IsMatch(code) && (js.ReadString(exception) ?? string.Empty).StartsWith("SyntaxError", StringComparison.Ordinal);

    internal override void RequestSoftInterrupt(GuestContext context)
    {
        // QuickJS polls host_interrupt, which reads the context's flag.
    }

    internal override ulong InvokeHostFunction(GuestContext context, GuestFunction import, ReadOnlySpan<ulong> args)
    {
        var js = new Js(context, _exports);
        return import.Name switch
        {
            "host_interrupt" => context.InterruptRequested ? 1UL : 0UL,
            "host_call" => HostCall(context, js, (uint)args[0], (uint)args[1], (uint)args[3], (uint)args[4]),
            "host_module_normalize" => NormalizeModule(js, (uint)args[0], (uint)args[1]),
            "host_module_load" => LoadModule(context, js, (uint)args[0], (uint)args[1]),
            "host_promise_rejection" => ReleaseRejection(js, (uint)args[0], (uint)args[1]),
            "host_get_timezone_offset" => 0,
            _ => throw new InvalidOperationException($"Unknown QuickJS host import {import.Name}."),
        };
    }

    private static ulong ReleaseRejection(Js js, uint promise, uint reason)
    {
        js.Call(js.Exports.FreeValue, promise);
        js.Call(js.Exports.FreeValue, reason);
        return 0;
    }

    private bool RunEventLoop(GuestContext context, Js js)
    {
        while (true)
        {
            while (js.Call(_exports.IsJobPending) != 0)
            {
                if ((int)js.Call(_exports.ExecutePendingJob) < 0)
                {
                    var failure = js.TakeExceptionText();
                    if (context.InterruptRequested)
                    {
                        return false;
                    }

                    js.WriteStderr($"Uncaught (in promise) {failure}\n");
                }
            }

            var state = js.EvalNumber("__sandbox.state()");
            if (state is null)
            {
                return false;
            }

            if (state is StateDone or StateIdle)
            {
                return true;
            }

            if (state > 0)
            {
                context.Wasi.Interrupted.Wait(TimeSpan.FromMilliseconds(state.Value));
            }

            if (context.InterruptRequested || !js.EvalDiscard("__sandbox.fireTimers()"))
            {
                return false;
            }
        }
    }

    private static GuestOutcome Interrupted(GuestContext context, Js js)
    {
        if (!context.InterruptRequested)
        {
            return new GuestOutcome(null, new GuestError("InternalError", js.LastFailure ?? "The JavaScript engine failed.", null));
        }

        return new GuestOutcome(null, new GuestError("TimeoutError", "The execution was interrupted because it ran out of time.", null));
    }

    private static ulong HostCall(GuestContext context, Js js, uint namePointer, uint nameLength, uint argc, uint argv)
    {
        var memory = context.Instance.Memory;
        var name = memory.ReadUtf8(namePointer, nameLength);
        var args = new string[argc];
        for (uint i = 0; i < argc; i++)
        {
            args[i] = js.ReadString(memory.ReadU32(argv + (i * 4))) ?? string.Empty;
        }

        try
        {
            var result = name switch
            {
                "write" => Write(context, args),
                "fs" => GuestFileSystem.Handle(context.Files, args.Length > 0 ? args[0] : "{}"),
                "random" => RandomBytes(args),
                "stdin" => TakeStdin(context),
                _ => throw new InvalidOperationException($"No host function '{name}'."),
            };
            return js.NewString(result);
        }
        catch (GuestMemoryException)
        {
            throw;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            js.ThrowError(ex.Message);
            return 0;
        }
    }

    private static string TakeStdin(GuestContext context)
    {
        var input = Convert.ToBase64String(context.Wasi.Stdin.Span);
        context.Wasi.Stdin = default;
        return input;
    }

    private static string RandomBytes(string[] args)
    {
        var count = args.Length > 0 && int.TryParse(args[0], out var n) && n is >= 0 and <= 65536
            ? n
            : throw new ArgumentException("random takes a byte count between 0 and 65536.");
        return Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(count));
    }

    private static string Write(GuestContext context, string[] args)
    {
        var capture = args.Length > 0 && args[0] == "2" ? context.Wasi.Stderr : context.Wasi.Stdout;
        var text = args.Length > 1 ? args[1] : string.Empty;
        capture?.Write(Encoding.UTF8.GetBytes(text));
        if ((context.Wasi.Stdout?.TotalBytes ?? 0) + (context.Wasi.Stderr?.TotalBytes ?? 0) > context.Wasi.OutputHardLimit)
        {
            context.Instance.Trap(TrapCode.OutputLimit, $"The code wrote more than {context.Wasi.OutputHardLimit} bytes of output and was stopped.");
        }

        return string.Empty;
    }

    private static ulong NormalizeModule(Js js, uint basePointer, uint namePointer)
    {
        var memory = js.Context.Instance.Memory;
        var baseName = memory.ReadCString(basePointer);
        var name = memory.ReadCString(namePointer);
        string normalized;
        if (name.StartsWith("./", StringComparison.Ordinal) || name.StartsWith("../", StringComparison.Ordinal))
        {
            var baseDirectory = baseName.StartsWith('/') ? baseName[..baseName.LastIndexOf('/')] : SandboxWorkspace.Root;
            normalized = CombinePath(baseDirectory, name);
        }
        else if (name.StartsWith('/'))
        {
            normalized = CombinePath("/", name);
        }
        else
        {
            normalized = "builtin:" + (name.StartsWith("node:", StringComparison.Ordinal) ? name[5..] : name);
        }

        return js.AllocateCString(normalized);
    }

    private static ulong LoadModule(GuestContext context, Js js, uint namePointer, uint lengthOut)
    {
        var name = context.Instance.Memory.ReadCString(namePointer);
        string? source;
        if (name.StartsWith("builtin:", StringComparison.Ordinal))
        {
            source = js.EvalString($"__sandbox.builtinSource({JsonSerializer.Serialize(name["builtin:".Length..])})");
            if (source is null)
            {
                return 0;
            }
        }
        else
        {
            var status = context.Files.Lookup(context.Files.Root, name, out var node);
            if (status != Wasi.Errno.Success || node is not VfsFile file)
            {
                js.ThrowError($"Cannot find module '{name}'.");
                return 0;
            }

            source = Encoding.UTF8.GetString(file.Content);
        }

        var bytes = Encoding.UTF8.GetBytes(source);
        var pointer = js.AllocateBytes(bytes, terminate: true);
        context.Instance.Memory.WriteU32(lengthOut, (uint)bytes.Length);
        return pointer;
    }

    private static string CombinePath(string directory, string relative)
    {
        var parts = directory.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
            }
            else if (part != ".")
            {
                parts.Add(part);
            }
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>The reactor's exports this runtime uses, resolved once.</summary>
    internal sealed class Exports(GuestModule module)
    {
        public GuestFunction Initialize { get; } = module.GetExport("_initialize");
        public GuestFunction Init { get; } = module.GetExport("qjs_init");
        public GuestFunction SetInterruptHandler { get; } = module.GetExport("qjs_set_interrupt_handler");
        public GuestFunction SetModuleLoader { get; } = module.GetExport("qjs_set_module_loader");
        public GuestFunction SetMaxStackSize { get; } = module.GetExport("qjs_set_max_stack_size");
        public GuestFunction Eval { get; } = module.GetExport("qjs_eval");
        public GuestFunction IsException { get; } = module.GetExport("qjs_is_exception");
        public GuestFunction GetException { get; } = module.GetExport("qjs_get_exception");
        public GuestFunction FreeValue { get; } = module.GetExport("qjs_free_value");
        public GuestFunction GetStringLength { get; } = module.GetExport("qjs_get_string_len");
        public GuestFunction FreeCString { get; } = module.GetExport("qjs_free_cstring");
        public GuestFunction NewString { get; } = module.GetExport("qjs_new_string");
        public GuestFunction NewObject { get; } = module.GetExport("qjs_new_object");
        public GuestFunction NewError { get; } = module.GetExport("qjs_new_error");
        public GuestFunction Throw { get; } = module.GetExport("qjs_throw");
        public GuestFunction NewHostFunction { get; } = module.GetExport("qjs_new_host_function");
        public GuestFunction GetGlobal { get; } = module.GetExport("qjs_get_global");
        public GuestFunction SetPropString { get; } = module.GetExport("qjs_set_prop_string");
        public GuestFunction GetFloat64 { get; } = module.GetExport("qjs_get_float64");
        public GuestFunction IsJobPending { get; } = module.GetExport("qjs_is_job_pending");
        public GuestFunction ExecutePendingJob { get; } = module.GetExport("qjs_execute_pending_job");
        public GuestFunction Malloc { get; } = module.GetExport("wasm_malloc");
        public GuestFunction Free { get; } = module.GetExport("wasm_free");
    }
}
