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
    public Module LoadModule(string name, byte[] bytes, string contentHash)
    {
        var key = $"{contentHash}-{Fingerprint}";
        return TryLoadCached(name, key) ?? Compile(name, bytes, key);
    }

    /// <summary>Identifies a module's exact bytes in cache keys.</summary>
    public static string ContentHash(byte[] bytes) => Hash(bytes)[..16];

    /// <summary>A module this engine compiled and cached under <paramref name="key"/> before, or null.</summary>
    public Module? TryLoadCached(string name, string key)
    {
        var cachePath = CachePath(name, key);
        if (cachePath is null || !File.Exists(cachePath))
        {
            return null;
        }

        try
        {
            return Module.DeserializeFile(Engine, name, cachePath);
        }
        catch (WasmtimeException ex)
        {
            LogCacheUnusable(_logger, cachePath, ex.Message);
            return null;
        }
    }

    /// <summary>Compiles a module and, with a key, caches the result for later processes.</summary>
    public Module Compile(string name, byte[] bytes, string? key)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        LogCompiling(_logger, name, bytes.Length >= 1024 * 1024 ? $"{bytes.Length / (1024.0 * 1024):0.0} MiB" : $"{bytes.Length / 1024} KiB");
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
        if (key is not null && CachePath(name, key) is { } cachePath)
        {
            TryWriteCache(cachePath, module.Serialize());
        }

        return module;
    }

    /// <summary>A small note kept beside a cached module, or null when there is none.</summary>
    public string? ReadCacheNote(string name, string key)
    {
        var path = CachePath(name, key) is { } modulePath ? modulePath + ".note" : null;
        try
        {
            return path is not null && File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Keeps a small note beside a cached module; written before the module, so a module's note is always there.</summary>
    public void WriteCacheNote(string name, string key, string note)
    {
        if (CachePath(name, key) is { } modulePath)
        {
            TryWriteCache(modulePath + ".note", System.Text.Encoding.UTF8.GetBytes(note));
        }
    }

    public void Dispose() => Engine.Dispose();

    private string? CachePath(string name, string key) => _cacheDirectory is null ? null : Path.Combine(_cacheDirectory, $"{name}-{key}.cwasm");

    private void TryWriteCache(string path, byte[] contents)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temporary, contents);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Compiling the {Module} guest ({Size} of WebAssembly) to native code; later starts load it from the cache.")]
    private static partial void LogCompiling(ILogger logger, string module, string size);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compiled the {Module} guest in {Seconds:0.0} s.")]
    private static partial void LogCompiled(ILogger logger, string module, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The compiled module {Path} cannot be used ({Reason}); compiling it again.")]
    private static partial void LogCacheUnusable(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not cache the compiled module at {Path}: {Reason}")]
    private static partial void LogCacheNotWritten(ILogger logger, string path, string reason);
}
