using System.Text.Json;
using Microsoft.Extensions.Logging;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Interop;
using SandboxFunctions.Sandbox.Vfs;

namespace SandboxFunctions.Sandbox.Runtimes;

/// <summary>
/// Python on CPython 3.11, compiled as a WASI reactor with a small entry shim: JSON requests go in
/// through <c>sf_call</c>, JSON responses come back, and everything else is ordinary WASI.
/// </summary>
internal sealed class CPythonRuntime : GuestRuntime
{
    public const string StandardLibraryPath = "/usr/local/lib/python311.zip";

    /// <summary>The pure-Python packages that ship with the runtime, read-only.</summary>
    public const string BundledPackagesPath = "/usr/local/lib/python3.11/site-packages.zip";

    /// <summary>Where packages installed into a session go; saved with the session like /workspace.</summary>
    public const string PackagesRoot = "/packages";

    private const ulong OpRunCell = 1;
    private const ulong OpRunHandler = 2;

    private static readonly IReadOnlySet<string> NoHostImports = new HashSet<string>();

    private readonly ReadOnlyMemory<byte> _standardLibrary;
    private readonly ReadOnlyMemory<byte> _bundledPackages;
    private readonly GuestFunction _initialize;
    private readonly GuestFunction _init;
    private readonly GuestFunction _alloc;
    private readonly GuestFunction _free;
    private readonly GuestFunction _call;
    private readonly GuestFunction _resultPointer;
    private readonly GuestFunction _resultLength;
    private readonly GuestFunction _interruptSlots;
    private InterruptSlots? _slots;

    public CPythonRuntime(RuntimeInfo info, GuestModule module, byte[] standardLibrary, byte[] bundledPackages, GuestThreadPool pool, TimeProvider time, ILogger logger)
        : base(info, module, NoHostImports, pool, time, logger)
    {
        _standardLibrary = standardLibrary;
        _bundledPackages = bundledPackages;
        _initialize = module.GetExport("_initialize");
        _init = module.GetExport("sf_init");
        _alloc = module.GetExport("sf_alloc");
        _free = module.GetExport("sf_free");
        _call = module.GetExport("sf_call");
        _resultPointer = module.GetExport("sf_result_ptr");
        _resultLength = module.GetExport("sf_result_len");
        _interruptSlots = module.GetExport("sf_interrupt_slots");
    }

    protected override IReadOnlyList<string> Arguments => ["python"];

    protected override IReadOnlyList<string> UserRoots => [.. base.UserRoots, PackagesRoot];

    protected override void MountSystemFiles(VirtualFileSystem files)
    {
        files.MountSystemFile(StandardLibraryPath, _standardLibrary);
        files.MountSystemFile(BundledPackagesPath, _bundledPackages);
    }

    protected override void Boot(GuestContext context)
    {
        var stderr = new OutputCapture(64 * 1024, 64 * 1024);
        context.Wasi.Stderr = stderr;
        context.Instance.Call(_initialize);
        if (context.Instance.Call(_init) != 0)
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"The Python interpreter failed to start: {stderr.GetText()}");
        }

        context.Wasi.Stderr = null;
        _slots = ReadInterruptSlots(context);
    }

    internal override GuestOutcome Run(GuestContext context, ExecutionRequest request)
    {
        var slots = _slots ??= ReadInterruptSlots(context);

        // A timeout that arrived after the previous call returned must not hit this one.
        context.Instance.WriteVolatile(slots.AsyncExceptionAddress, 0);

        var payload = request.Event is { } @event
            ? JsonSerializer.SerializeToUtf8Bytes(new
            {
                code = request.Code,
                filename = request.Name,
                @event,
                context = new
                {
                    request_id = Guid.NewGuid().ToString(),
                    function_name = request.Name,
                    deadline_ms = Time.GetUtcNow().Add(request.Timeout).ToUnixTimeMilliseconds(),
                },
            })
            : JsonSerializer.SerializeToUtf8Bytes(new { code = request.Code, filename = request.Name });

        var input = (uint)context.Instance.Call(_alloc, (ulong)payload.Length);
        if (input == 0)
        {
            return new GuestOutcome(null, new GuestError("MemoryError", "There was no memory left to receive the code.", null), OutOfMemory: true);
        }

        payload.CopyTo(context.Instance.Memory.Span(input, (uint)payload.Length));
        ulong status;
        try
        {
            status = context.Instance.Call(_call, request.Event is null ? OpRunCell : OpRunHandler, input, (ulong)payload.Length);
        }
        finally
        {
            if (!context.Instance.IsFaulted)
            {
                context.Instance.Call(_free, input);
            }
        }

        if (status != 0)
        {
            return new GuestOutcome(null, new GuestError("InternalError", "The Python runtime failed to run the request; see stderr.", null));
        }

        var pointer = (uint)context.Instance.Call(_resultPointer);
        var length = (uint)context.Instance.Call(_resultLength);
        var outcome = GuestOutcome.FromJson(context.Instance.Memory.Span(pointer, length), static error => error.Type == "MemoryError");

        // The interrupt raises the bare TimeoutError type, which has no message of its own.
        return context.InterruptRequested && outcome.Error is { Type: "TimeoutError", Message: "" } timeout
            ? outcome with { Error = timeout with { Message = "The execution ran past its time limit and was interrupted." } }
            : outcome;
    }

    internal override void RequestSoftInterrupt(GuestContext context)
    {
        if (_slots is not { } slots)
        {
            return;
        }

        context.Instance.WriteVolatile(slots.AsyncExceptionAddress, slots.TimeoutException);
        context.Instance.WriteVolatile(slots.EvalBreakerAddress, 1);
    }

    private InterruptSlots ReadInterruptSlots(GuestContext context)
    {
        var address = (uint)context.Instance.Call(_interruptSlots);
        var memory = context.Instance.Memory;
        return new InterruptSlots(memory.ReadU32(address), memory.ReadU32(address + 4), memory.ReadU32(address + 8));
    }

    /// <summary>Where CPython keeps its eval-breaker flag and pending async exception, and the exception to raise.</summary>
    private sealed record InterruptSlots(uint EvalBreakerAddress, uint AsyncExceptionAddress, uint TimeoutException);
}
