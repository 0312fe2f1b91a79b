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

    public static ToolFailureException SessionHeldByJob(string sessionId, string jobId) => Fail("SESSION_BUSY",
        $"Session '{sessionId}' is running background job {jobId}; interactive calls wait until it finishes.",
        $"Call get_job with job_id '{jobId}' (and wait_seconds) to follow it, or cancel_job to stop it.",
        "Use fork_session to work on a copy of the session's last saved state in parallel.");

    public static ToolFailureException JobNotFound(string jobId) => Fail("JOB_NOT_FOUND",
        $"No job '{jobId}' exists for this credential (jobs are deleted with their session).",
        "Call list_jobs to see your jobs.");

    public static ToolFailureException InvalidJobTimeout(double requested, int max) => Fail("INVALID_TIMEOUT",
        $"timeout_seconds must be more than 0 and at most {max} for a background job; got {requested}.",
        $"Pass a timeout_seconds up to {max}, or omit it for the default.");

    public static ToolFailureException InvalidLimit(int requested, int max) => Fail("INVALID_LIMIT",
        $"limit must be between 1 and {max}; got {requested}.",
        $"Pass a limit from 1 to {max}, or omit it for the default.");

    public static ToolFailureException InvalidWait(double requested, int max) => Fail("INVALID_WAIT",
        $"wait_seconds must be between 0 and {max}; got {requested}.",
        $"Pass a wait_seconds up to {max}, and call again if the job is still running.");

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

    public static ToolError JobNotHandled(string jobId, int deliveries) => new("JOB_NOT_HANDLED",
        $"The server could not handle job '{jobId}': each of its {deliveries} attempts failed before the job could run or record its end (storage trouble, or its stored input was unreadable). The session kept its state from before the job.",
        ["Submit the job again.", "If it keeps happening, check the server's storage account and its health endpoint."]);

    public static ToolFailureException ServerBusy(string message) => Fail("SERVER_BUSY", message,
        "Retry in a few seconds.");

    public static ToolFailureException FileNotFound(string message) => Fail("FILE_NOT_FOUND", message,
        "Call list_files to see what the workspace holds.");

    public static ToolFailureException PathOutsideWorkspace(string message) => Fail("PATH_OUTSIDE_WORKSPACE", message,
        "Use a path relative to /workspace, e.g. 'data/input.csv'.");

    public static ToolFailureException ReadOnlyPath(string message) => Fail("READ_ONLY_PATH", message,
        "Files under /data are shared and read-only; copy one into /workspace (e.g. with execute_command 'cp /data/<volume>/<file> .') and change the copy.");

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

    public static ToolFailureException PythonSessionRequired(string sessionId, string language) => Fail("PYTHON_SESSION_REQUIRED",
        $"Session '{sessionId}' runs {language}; packages can only be installed into Python sessions.",
        "Pass the id of a Python session, or create one with create_session (language 'python').",
        "For JavaScript, write the library's source into /workspace with write_file and require or import it from there.");

    public static ToolFailureException InvalidRequirement(string message) => Fail("INVALID_REQUIREMENT", message,
        "Pass the project name as published on the package index (e.g. 'python-dateutil', not 'dateutil') in package, and a version such as '2.8.2' or a specifier such as '>=2,<3' in version.");

    public static ToolFailureException PackageIndexNotConfigured(string problem) => Fail("PACKAGE_INDEX_NOT_CONFIGURED",
        $"Installing packages is not available on this server: {problem}",
        "Use the packages bundled with the runtime instead; list_runtimes lists them with their versions.",
        "The server's operator can enable installs by setting Packages:IndexUrl (environment variable Packages__IndexUrl) to the Simple API URL of a package index: the public Python Package Index's simple API, or a private mirror of it.");

    public static ToolFailureException PackageIndexUnreachable(string message) => Fail("PACKAGE_INDEX_UNREACHABLE", message,
        "Retry in a little while; the session was not changed.",
        "If it keeps failing, the server's operator should check Packages:IndexUrl and that the server can reach that index.");

    public static ToolFailureException PackageNotFound(string project, string message, IReadOnlyList<string> nearestVersions) => Fail("PACKAGE_NOT_FOUND",
        nearestVersions.Count == 0 ? message : $"{message} Versions nearest to it: {string.Join(", ", nearestVersions)}.",
        nearestVersions.Count == 0
            ? $"Check the spelling of '{project}': it is the project name on the package index, which can differ from the import name (e.g. 'beautifulsoup4' for bs4, 'PyYAML' for yaml)."
            : $"Pass one of the listed versions of '{project}', or omit version for the newest.",
        "Call list_runtimes: the package may already be bundled with the runtime.");

    public static ToolFailureException PackageNotPurePython(string project, string reason) => Fail("PACKAGE_NOT_PURE_PYTHON",
        $"'{project}' cannot be installed: {reason}. The sandbox runs only pure Python; compiled extensions cannot run in it, and it cannot build them from source.",
        "Look for a pure-Python alternative, or an older version of the package that still shipped a pure-Python (py3-none-any) wheel.",
        "Call list_runtimes to see the packages bundled with the runtime.");

    public static ToolFailureException PackageHashMismatch(string filename, string reason) => Fail("PACKAGE_HASH_MISMATCH",
        $"{filename} was refused: {reason}. Nothing was installed.",
        "Retry later: the index or a cache between it and the server may serve a damaged or changed file.",
        "If it persists, report it to whoever runs the package index.");

    public static ToolFailureException PackageTooLarge(string message) => Fail("PACKAGE_TOO_LARGE", message,
        "Install a smaller package or an older, smaller version.",
        "Install the dependencies one call at a time, so that each install stays within the limit.");

    public static ToolFailureException PackageConflict(string requirement, string reason) => Fail("PACKAGE_CONFLICT",
        $"The dependencies cannot be resolved: {requirement} cannot be met, because {reason}.",
        "Pass a version of the requested package whose dependencies agree with each other and with what the session has installed.",
        "Or install the conflicting dependency first, at a version that satisfies every package that needs it.");

    public static ToolFailureException PackageInvalid(string filename, string reason) => Fail("PACKAGE_INVALID",
        $"{filename} cannot be installed: {reason}.",
        "Try another version of the package.",
        "Report the broken file to the package's maintainers.");

    public static ToolFailureException CommandSyntax(string message, bool unsupported) => Fail("COMMAND_SYNTAX_ERROR", message,
        unsupported
            ? "Express it with what the shell supports: pipes, redirections, ;, && and ||, quotes, variables and globs; put loops, conditions and computed values in a script (python -c / node -e, or a file run with python FILE / node FILE)."
            : "Check the quoting: close every ' and \", and escape special characters (| & ; < > ( ) $ ` \\) that are meant literally, or put them in single quotes.",
        "Run `help` with execute_command for the supported syntax and commands.");

    public static ToolFailureException CommandTooLong(int length, int max) => Fail("COMMAND_TOO_LONG",
        $"The command line is {length} characters long; the limit is {max}.",
        "Write the script to a file with write_file and run it with python FILE or node FILE.",
        "Split the work into several shorter commands.");

    public static ToolFailureException CommandTimedOut(string message, int maxSeconds) => Fail("TIMEOUT", message,
        $"Give the command line more time with timeout_seconds (at most {maxSeconds} for this flavor), or make it do less (smaller input, head before sort).",
        "Run long steps as separate calls; files written before the limit are kept.");

    public static ToolFailureException CommandOutputLimit(string message) => Fail("OUTPUT_LIMIT", message,
        "Redirect large output to a file (cmd > out.txt) and look at parts of it with head, tail, grep or wc.");

    public static ToolFailureException PipelineLimit(string message) => Fail("PIPELINE_LIMIT", message,
        "Filter early in the pipeline (grep, head or cut before sort), or process the data in python or node instead of piping it.",
        "Use a larger flavor for a larger limit.");

    public static ToolFailureException CommandMemoryLimit(string message, string flavor) => Fail("MEMORY_LIMIT", message,
        "Process the data in smaller chunks, or free large objects the script no longer needs.",
        $"Create a session with a larger flavor than '{flavor}' for more memory.");

    public static ToolFailureException CommandCrashed(string message) => Fail("INTERPRETER_CRASHED", message,
        "The session went back to its last saved state; change the script (e.g. less recursion) and run it again.");

    public static ToolFailureException CommandCancelled(string message) => Fail("CANCELLED", message,
        "Run it again when needed.");

    private static ToolFailureException Fail(string code, string message, params string[] suggestions) => new(new ToolError(code, message, suggestions));
}
