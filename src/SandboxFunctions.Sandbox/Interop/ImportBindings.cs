using SandboxFunctions.Sandbox.Wasi;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// Routes a guest's imports: WASI functions to the sandbox's <see cref="WasiPreview1"/>, everything else to
/// the runtime's own host functions. Built once per module, so every import is known to be served
/// before any instance exists.
/// </summary>
internal sealed class ImportBindings
{
    private readonly WasiFunction?[] _wasi;

    public ImportBindings(GuestModule module, IReadOnlySet<string> runtimeImports)
    {
        _wasi = new WasiFunction?[module.Imports.Count];
        var unknown = new List<string>();
        foreach (var import in module.Imports)
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
                $"The {module.Name} guest imports functions this host does not provide: {string.Join(", ", unknown)}.");
        }
    }

    public bool TryGetWasi(GuestFunction import, out WasiFunction function)
    {
        var bound = _wasi[import.Index];
        function = bound.GetValueOrDefault();
        return bound.HasValue;
    }
}
