using AssemblyInformationalVersionAttribute = System.Reflection.AssemblyInformationalVersionAttribute;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// The process's one Wasmtime engine: compiles guest modules (once per module, engine build and configuration,
/// cached on disk) and stops running guests through epoch interruption.
/// </summary>
internal sealed partial class WasmEngine : IDisposable
{
    private readonly ILogger _logger;
    private readonly string? _cacheDirectory;

    public WasmEngine(int maxWasmStackBytes, string? cacheDirectory, ILogger logger)
    {
        _logger = logger;
        _cacheDirectory = cacheDirectory;

        // .NET handles SIGSEGV itself (NullReferenceException); Wasmtime's handler, installed after it, breaks
        // that under GC pressure. Without signals, Wasmtime checks bounds and stack depth explicitly.
        // Epochs stop guests in any code, C loops included. Memory that never moves lets the watchdog reach
        // the interpreter's interrupt flag from another thread.
        var settings = $"signals-based-traps=off epoch-interruption=on max-wasm-stack={maxWasmStackBytes} memory-may-move=off";
        using var config = new Config()
            .WithSignalsBasedTraps(false)
            .WithEpochInterruption(true)
            .WithMaximumStackSize(maxWasmStackBytes)
            .WithMemoryMayMove(false)
            .WithOptimizationLevel(OptimizationLevel.Speed);
        Engine = new Engine(config);

        var version = typeof(Engine).Assembly.GetCustomAttributes(typeof(AssemblyInformationalVersionAttribute), false).OfType<AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
            ?? typeof(Engine).Assembly.GetName().Version?.ToString()
            ?? "unknown";
        Description = $"Wasmtime {version.Split('+')[0]}";
        Fingerprint = Hash($"{version} {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} {settings}")[..8];
    }

    public Engine Engine { get; }

    /// <summary>The engine and its version, for people.</summary>
    public string Description { get; }

    /// <summary>Changes with the Wasmtime build, the architecture and the engine's settings.</summary>
    public string Fingerprint { get; }

    /// <summary>
    /// Makes every running guest check whether it must stop. A guest that was asked to stop traps at its next
    /// function entry or loop iteration; the others carry on.
    /// </summary>
    public void Interrupt() => Engine.IncrementEpoch();

    /// <summary>
    /// The compiled form of a module: from the cache when this engine compiled it before, else compiled now
    /// (seconds for a large guest) and cached. A cached module that no longer loads is compiled again.
    /// </summary>
    public Module LoadModule(string name, string wasmPath)
    {
        if (!File.Exists(wasmPath))
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable,
                $"The guest module '{Path.GetFileName(wasmPath)}' is missing; rebuild the solution to build the guest runtimes.");
        }

        var bytes = File.ReadAllBytes(wasmPath);
        var cachePath = _cacheDirectory is null ? null : Path.Combine(_cacheDirectory, $"{name}-{Hash(bytes)[..16]}-{Fingerprint}.cwasm");
        if (cachePath is not null && File.Exists(cachePath))
        {
            try
            {
                return Module.DeserializeFile(Engine, name, cachePath);
            }
            catch (WasmtimeException ex)
            {
                LogCacheUnusable(_logger, cachePath, ex.Message);
            }
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        LogCompiling(_logger, name, bytes.Length / (1024 * 1024));
        Module module;
        try
        {
            module = Module.FromBytes(Engine, name, bytes);
        }
        catch (WasmtimeException ex)
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"The {name} guest module does not compile: {ex.Message}", ex);
        }

        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        LogCompiled(_logger, name, seconds);
        if (cachePath is not null)
        {
            TryWriteCache(cachePath, module);
        }

        return module;
    }

    public void Dispose() => Engine.Dispose();

    private void TryWriteCache(string path, Module module)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temporary, module.Serialize());
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only start-up time is lost: the next process compiles again.
            LogCacheNotWritten(_logger, path, ex.Message);
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    private static string Hash(string text) => Hash(Encoding.UTF8.GetBytes(text));

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [LoggerMessage(Level = LogLevel.Information, Message = "Compiling the {Module} guest ({MiB} MiB of WebAssembly) to native code; later starts load it from the cache.")]
    private static partial void LogCompiling(ILogger logger, string module, int miB);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compiled the {Module} guest in {Seconds:0.0} s.")]
    private static partial void LogCompiled(ILogger logger, string module, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The compiled module {Path} cannot be used ({Reason}); compiling it again.")]
    private static partial void LogCacheUnusable(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not cache the compiled module at {Path}: {Reason}")]
    private static partial void LogCacheNotWritten(ILogger logger, string path, string reason);
}
