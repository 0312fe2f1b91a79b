namespace SandboxFunctions.Sandbox.Wasi;

/// <summary>The functions of WASI preview1 (module <c>wasi_snapshot_preview1</c>).</summary>
internal enum WasiFunction
{
    ArgsGet,
    ArgsSizesGet,
    EnvironGet,
    EnvironSizesGet,
    ClockResGet,
    ClockTimeGet,
    FdAdvise,
    FdAllocate,
    FdClose,
    FdDatasync,
    FdFdstatGet,
    FdFdstatSetFlags,
    FdFdstatSetRights,
    FdFilestatGet,
    FdFilestatSetSize,
    FdFilestatSetTimes,
    FdPread,
    FdPrestatGet,
    FdPrestatDirName,
    FdPwrite,
    FdRead,
    FdReaddir,
    FdRenumber,
    FdSeek,
    FdSync,
    FdTell,
    FdWrite,
    PathCreateDirectory,
    PathFilestatGet,
    PathFilestatSetTimes,
    PathLink,
    PathOpen,
    PathReadlink,
    PathRemoveDirectory,
    PathRename,
    PathSymlink,
    PathUnlinkFile,
    PollOneoff,
    ProcExit,
    ProcRaise,
    RandomGet,
    SchedYield,
    SockAccept,
    SockRecv,
    SockSend,
    SockShutdown,
}

internal static class WasiFunctions
{
    public const string ModuleName = "wasi_snapshot_preview1";

    private static readonly Dictionary<string, WasiFunction> ByName = Enum.GetValues<WasiFunction>()
        .ToDictionary(ToImportName, f => f, StringComparer.Ordinal);

    public static bool TryParse(string name, out WasiFunction function) => ByName.TryGetValue(name, out function);

    private static string ToImportName(WasiFunction function)
    {
        var name = function.ToString();
        var builder = new System.Text.StringBuilder();
        foreach (var ch in name)
        {
            if (char.IsUpper(ch) && builder.Length > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(ch));
        }

        return builder.ToString();
    }
}
