using Microsoft.Extensions.Options;

namespace SandboxFunctions.Sessions;

/// <summary>Session lifetime and quotas, bound from the <c>Sessions</c> section.</summary>
public sealed class SessionStoreOptions
{
    public const string SectionName = "Sessions";

    /// <summary>Idle time after which a session expires when its creator gives none.</summary>
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest idle time a caller may ask for.</summary>
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Sessions one credential may hold at once.</summary>
    public int MaxSessionsPerOwner { get; set; } = 50;

    /// <summary>How often the in-process reaper runs when the app is not hosted by Azure Functions.</summary>
    public TimeSpan ReapInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long an unreferenced snapshot may exist before the reaper deletes it (covers commits in flight).</summary>
    public TimeSpan OrphanGracePeriod { get; set; } = TimeSpan.FromMinutes(15);
}

internal sealed class SessionStoreOptionsValidator : IValidateOptions<SessionStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionStoreOptions options)
    {
        var failures = new List<string>();
        if (options.DefaultTtl <= TimeSpan.Zero || options.DefaultTtl > options.MaxTtl)
        {
            failures.Add($"Sessions:DefaultTtl is {options.DefaultTtl}; it must be positive and at most Sessions:MaxTtl ({options.MaxTtl}).");
        }

        if (options.MaxSessionsPerOwner < 1)
        {
            failures.Add($"Sessions:MaxSessionsPerOwner is {options.MaxSessionsPerOwner}; it must be at least 1.");
        }

        if (options.ReapInterval < TimeSpan.FromSeconds(1) || options.OrphanGracePeriod < TimeSpan.Zero)
        {
            failures.Add("Sessions:ReapInterval must be at least one second and Sessions:OrphanGracePeriod must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
