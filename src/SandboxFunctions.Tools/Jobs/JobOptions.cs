using Microsoft.Extensions.Options;

namespace SandboxFunctions.Tools.Jobs;

/// <summary>Background jobs, bound from <c>Jobs</c>.</summary>
public sealed class JobOptions
{
    public const string SectionName = "Jobs";

    /// <summary>Timeout of a job that asks for none.</summary>
    public int DefaultTimeoutSeconds { get; set; } = 600;

    /// <summary>The longest a job may run. The Functions host's function timeout must exceed it.</summary>
    public int MaxTimeoutSeconds { get; set; } = 3600;

    /// <summary>Jobs one instance runs at once when it polls the queue itself (outside a Functions host).</summary>
    public int Concurrency { get; set; } = 2;

    /// <summary>How often a running job saves its output so far and looks for a cancel.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a job holds its session without renewing; a worker that dies frees it after this.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Starts of a job whose worker stopped mid-run (restart, crash) before it is reported failed.</summary>
    public int MaxAttempts { get; set; } = 3;
}

internal sealed class JobOptionsValidator : IValidateOptions<JobOptions>
{
    public ValidateOptionsResult Validate(string? name, JobOptions options)
    {
        var failures = new List<string>();
        if (options.DefaultTimeoutSeconds < 1 || options.DefaultTimeoutSeconds > options.MaxTimeoutSeconds || options.MaxTimeoutSeconds > 24 * 3600)
        {
            failures.Add("Jobs timeouts must satisfy 1 <= DefaultTimeoutSeconds <= MaxTimeoutSeconds <= 86400.");
        }

        if (options.Concurrency is < 1 or > 64)
        {
            failures.Add($"Jobs:Concurrency is {options.Concurrency}; it must be between 1 and 64.");
        }

        if (options.ProgressInterval <= TimeSpan.Zero || options.LeaseDuration < options.ProgressInterval * 4)
        {
            failures.Add("Jobs:ProgressInterval must be positive and Jobs:LeaseDuration at least four times as long.");
        }

        if (options.MaxAttempts is < 1 or > 10)
        {
            failures.Add($"Jobs:MaxAttempts is {options.MaxAttempts}; it must be between 1 and 10.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
