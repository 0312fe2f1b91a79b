namespace SandboxFunctions.Host;

/// <summary>Says at startup how callers are authenticated, so an open server never goes unnoticed.</summary>
internal sealed partial class StartupNotice(ListenPlan plan, ILogger<StartupNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (plan.KeysConfigured)
        {
            LogKeysConfigured(logger);
        }
        else
        {
            LogLoopbackOnly(logger, string.Join(", ", plan.Urls), plan.NarrowedToLoopback ? " (non-loopback addresses were narrowed to 127.0.0.1)" : string.Empty);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Function-key authentication is on: requests need a key from Auth:FunctionKeys.")]
    private static partial void LogKeysConfigured(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No function keys are configured (Auth:FunctionKeys), so the server accepts unauthenticated requests and listens on loopback only: {Urls}{Narrowed}.")]
    private static partial void LogLoopbackOnly(ILogger logger, string urls, string narrowed);
}
