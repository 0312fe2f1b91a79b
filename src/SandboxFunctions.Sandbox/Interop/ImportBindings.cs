using SandboxFunctions.Sandbox.Wasi;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// Routes a guest's imports: WASI functions to the sandbox's <see cref="WasiPreview1"/>, everything else to
/// the runtime's own host functions. Built once per library, so every import is known to be served
/// before any instance exists.
/// </summary>
internal sealed class ImportBindings
{
    private readonly WasiFunction?[] _wasi;

    public ImportBindings(GuestLibrary library, IReadOnlySet<string> runtimeImports)
    {
        _wasi = new WasiFunction?[library.Imports.Count];
        var unknown = new List<string>();
        foreach (var import in library.Imports)
        {
            if (import.Module == WasiFunctions.ModuleName && WasiFunctions.TryParse(import.Name, out var function))
            {
                _wasi[import.Index] = function;
            }
            else if (!runtimeImports.Contains($"{import.Module}.{import.Name}"))
            {
                unknown.Add($"{import.Module}.{import.Name}");
            }
        }

        if (unknown.Count > 0)
        {
            throw new SandboxException(SandboxErrorKind.RuntimeUnavailable,
                $"The {library.ModuleName} guest imports functions this host does not provide: {string.Join(", ", unknown)}.");
        }
    }

    public bool TryGetWasi(GuestFunction import, out WasiFunction function)
    {
        var bound = _wasi[import.Index];
        function = bound.GetValueOrDefault();
        return bound.HasValue;
    }
}
