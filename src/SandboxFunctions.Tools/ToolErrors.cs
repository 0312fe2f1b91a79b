namespace SandboxFunctions.Tools;

/// <summary>Every error the tools report, with its code and the suggestions that go with it.</summary>
internal static class ToolErrors
{
    public static ToolFailureException SessionNotFound(string sessionId) => Fail("SESSION_NOT_FOUND",
        $"No session '{sessionId}' exists for this credential (it may have expired or been destroyed).",
        "Call list_sessions to see your sessions.",
        "Call create_session, or execute_code without session_id, to start a new one.");

    public static ToolFailureException SessionBusy(string sessionId) => Fail("SESSION_BUSY",
        $"Session '{sessionId}' is running another call right now.",
        "Wait for that call to finish, then retry.",
        "Use fork_session to work on a copy in parallel.");

    public static ToolFailureException SessionConflict(string message) => Fail("SESSION_CONFLICT", message,
        "Retry the call; it will run against the session's latest state.",
        "Avoid sending several calls to one session at the same time.");

    public static ToolFailureException SessionExists(string sessionId) => Fail("SESSION_EXISTS",
        $"A session with id '{sessionId}' already exists.",
        "Choose another session_id, or omit it to get a generated one.",
        "Use the existing session, or destroy_session it first.");

    public static ToolFailureException SessionLimit(int limit) => Fail("SESSION_LIMIT_REACHED",
        $"This credential already holds the maximum of {limit} sessions.",
        "Call list_sessions and destroy_session the ones you no longer need.");

    public static ToolFailureException InvalidSessionId(string sessionId) => Fail("INVALID_SESSION_ID",
        $"'{sessionId}' is not a valid session id: use 4 to 128 visible ASCII characters (letters, digits, punctuation; no spaces).",
        "Omit session_id to get a generated one.");

    public static ToolFailureException UnsupportedLanguage(string language, IEnumerable<string> available) => Fail("UNSUPPORTED_LANGUAGE",
        $"'{language}' is not a language this server runs.",
        $"Use one of: {string.Join(", ", available)}.",
        "Call list_runtimes for versions and packages.");

    public static ToolFailureException LanguageMismatch(string sessionId, string sessionLanguage, string requested) => Fail("LANGUAGE_MISMATCH",
        $"Session '{sessionId}' runs {sessionLanguage}, not {requested}.",
        $"Send {sessionLanguage} code to this session, or omit language.",
        $"Create a separate session for {requested}.");

    public static ToolFailureException UnknownFlavor(string flavor, IEnumerable<string> available) => Fail("UNKNOWN_FLAVOR",
        $"'{flavor}' is not a flavor of this server.",
        $"Use one of: {string.Join(", ", available)}; list_runtimes shows each one's limits.");

    public static ToolFailureException InvalidTimeout(double requested, int max) => Fail("INVALID_TIMEOUT",
        $"timeout_seconds must be more than 0 and at most {max} for this flavor; got {requested}.",
        $"Pass a value up to {max}, or use a larger flavor for longer runs.");

    public static ToolFailureException InvalidTtl(int requested, TimeSpan max) => Fail("INVALID_TTL",
        $"ttl_seconds must be between 60 and {(int)max.TotalSeconds}; got {requested}.",
        $"Pass a value up to {(int)max.TotalSeconds} seconds.");

    public static ToolFailureException CodeTooLarge(string message) => Fail("CODE_TOO_LARGE", message,
        "Write large data to a workspace file with write_file and read it from the code.");

    public static ToolFailureException RuntimeChanged(string sessionId) => Fail("RUNTIME_CHANGED",
        $"Session '{sessionId}' was saved by an older build of its runtime, which this server no longer runs.",
        "Call reset_session to start it again on the current runtime (its memory and files are cleared).",
        "Or create a new session.");

    public static ToolFailureException SnapshotInvalid(string sessionId, string reason) => Fail("SESSION_CORRUPTED",
        $"Session '{sessionId}' cannot be loaded: {reason}",
        "Call reset_session to start it again, or destroy_session it.");

    public static ToolFailureException StorageUnavailable(string message) => Fail("STORAGE_UNAVAILABLE", message,
        "Retry in a few seconds.",
        "If it keeps failing, check the server's storage account and its health endpoint.");

    public static ToolFailureException ServerBusy(string message) => Fail("SERVER_BUSY", message,
        "Retry in a few seconds.");

    public static ToolFailureException FileNotFound(string message) => Fail("FILE_NOT_FOUND", message,
        "Call list_files to see what the workspace holds.");

    public static ToolFailureException PathOutsideWorkspace(string message) => Fail("PATH_OUTSIDE_WORKSPACE", message,
        "Use a path relative to /workspace, e.g. 'data/input.csv'.");

    public static ToolFailureException InvalidPath(string message) => Fail("INVALID_PATH", message,
        "Use '/' between folders and plain names, e.g. 'reports/summary.txt'.");

    public static ToolFailureException IsDirectory(string message) => Fail("IS_A_DIRECTORY", message,
        "Call list_files on a directory; read_file and write_file take files.");

    public static ToolFailureException WorkspaceFull(string message) => Fail("WORKSPACE_LIMIT", message,
        "Delete files you no longer need with delete_file.",
        "Use a larger flavor for more workspace.");

    public static ToolFailureException InvalidRange(string message) => Fail("INVALID_RANGE", message,
        "Call list_files for the file's size and read within it.");

    public static ToolFailureException InvalidContent(string message) => Fail("INVALID_CONTENT", message,
        "Send text with encoding 'utf8', or base64 with encoding 'base64'.");

    private static ToolFailureException Fail(string code, string message, params string[] suggestions) => new(new ToolError(code, message, suggestions));
}
