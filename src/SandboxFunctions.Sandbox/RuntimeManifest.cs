using System.Text.Json;
using System.Text.Json.Serialization;

namespace SandboxFunctions.Sandbox;

/// <summary>Describes a built guest runtime folder; written by the build (native/build.sh) as runtime.json.</summary>
internal sealed record RuntimeManifest(
    [property: JsonPropertyName("language")] string Language,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("engine")] string Engine,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("module")] string Module,
    [property: JsonPropertyName("build_id")] string BuildId,
    [property: JsonPropertyName("files")] IReadOnlyDictionary<string, string> Files,
    [property: JsonPropertyName("packages")] IReadOnlyList<string> Packages)
{
    public const string FileName = "runtime.json";

    public static RuntimeManifest Read(string path) =>
        JsonSerializer.Deserialize<RuntimeManifest>(File.ReadAllBytes(path))
        ?? throw new SandboxException(SandboxErrorKind.RuntimeUnavailable, $"{path} is empty.");

    /// <summary>
    /// The runtime as this process runs it. The build id also names the engine, so that state saved under one
    /// Wasmtime build or configuration is never loaded into another.
    /// </summary>
    public RuntimeInfo ToInfo(Interop.WasmEngine engine) =>
        new(Language, Version, $"{Engine} on {engine.Description}", $"{BuildId}.{engine.Fingerprint}", Packages);
}
