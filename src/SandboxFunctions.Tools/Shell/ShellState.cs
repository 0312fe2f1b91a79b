using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools.Shell;

/// <summary>What every command of one command line shares: the sandbox, its limits, the deadline, and what was run.</summary>
internal sealed class ShellRun : IDisposable
{
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _deadline;
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _linked;

    public ShellRun(SandboxInstance sandbox, ShellLimits limits, TimeProvider time, CancellationToken callerCancellationToken)
    {
        Sandbox = sandbox;
        Limits = limits;
        Files = new ShellFileSystem(sandbox.Workspace);
        CallerCancellationToken = callerCancellationToken;
        _time = time;
        _deadline = time.GetUtcNow() + limits.Timeout;
        _timeout = new CancellationTokenSource(limits.Timeout, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, callerCancellationToken);
    }

    public SandboxInstance Sandbox { get; }

    public ShellLimits Limits { get; }

    public ShellFileSystem Files { get; }

    /// <summary>Cancelled when the caller goes away or the command line's time is up.</summary>
    public CancellationToken CancellationToken => _linked.Token;

    /// <summary>Cancelled only when the caller goes away; scripts get it, as the sandbox enforces their time itself.</summary>
    public CancellationToken CallerCancellationToken { get; }

    public TimeSpan Remaining => _deadline - _time.GetUtcNow();

    /// <summary>python and node runs, which count as executions of the session.</summary>
    public int Executions { get; private set; }

    public void CountExecution() => Executions++;

    public void ThrowIfOutOfTime()
    {
        if (Remaining <= TimeSpan.Zero)
        {
            throw ShellStopException.TimedOut(Limits.Timeout);
        }

        CancellationToken.ThrowIfCancellationRequested();
    }

    public void Dispose()
    {
        _linked.Dispose();
        _timeout.Dispose();
    }
}

/// <summary>
/// The state a command line carries from one command to the next: working directory, variables and the last
/// status. The stages of a pipeline each work on a copy, as they would in their own subshells.
/// </summary>
internal sealed class ShellState
{
    private readonly Dictionary<string, ShellVariable> _variables;

    public ShellState(ShellRun run)
    {
        Run = run;
        Cwd = ShellFileSystem.Root;
        _variables = new(StringComparer.Ordinal)
        {
            ["HOME"] = new(ShellFileSystem.Root, Exported: true),
            ["PWD"] = new(ShellFileSystem.Root, Exported: true),
            ["LANG"] = new("C.UTF-8", Exported: true),
        };
    }

    private ShellState(ShellState other)
    {
        Run = other.Run;
        Cwd = other.Cwd;
        LastStatus = other.LastStatus;
        _variables = new(other._variables, StringComparer.Ordinal);
    }

    public ShellRun Run { get; }

    public string Cwd { get; private set; }

    public int LastStatus { get; set; }

    /// <summary>The exported variables: what python and node see as their environment.</summary>
    public IReadOnlyDictionary<string, string> Environment =>
        _variables.Where(v => v.Value.Exported).OrderBy(v => v.Key, StringComparer.Ordinal).ToDictionary(v => v.Key, v => v.Value.Value, StringComparer.Ordinal);

    public string? Get(string name) => _variables.TryGetValue(name, out var variable) ? variable.Value : null;

    public void Set(string name, string value, bool export = false) =>
        _variables[name] = new(value, export || (_variables.TryGetValue(name, out var existing) && existing.Exported));

    public void Export(string name) => _variables[name] = new(Get(name) ?? string.Empty, Exported: true);

    public void Unset(string name) => _variables.Remove(name);

    public void ChangeDirectory(string absolute)
    {
        Set("OLDPWD", Cwd);
        Cwd = absolute;
        Set("PWD", absolute);
    }

    public ShellState Clone() => new(this);
}

internal sealed record ShellVariable(string Value, bool Exported);
