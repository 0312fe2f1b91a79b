using Azure.Core;
using Azure.Identity;

namespace SandboxFunctions.Host.Telemetry;

/// <summary>
/// The Application Insights resource from its connection string, and how to authenticate: with the managed identity
/// named in the authentication string (<c>Authorization=AAD;ClientId=…</c>) when local authentication is disabled
/// on the resource.
/// </summary>
internal sealed record ApplicationInsightsConnection(string ConnectionString, TokenCredential? Credential)
{
    public static ApplicationInsightsConnection? Parse(string? connectionString, string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }

        if (!Split(connectionString).TryGetValue("InstrumentationKey", out var key) || string.IsNullOrWhiteSpace(key))
        {
            throw new InvalidOperationException(
                "APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey; copy the whole connection string from the Application Insights resource.");
        }

        var authentication = Split(authenticationString ?? string.Empty);
        if (!authentication.TryGetValue("Authorization", out var mode))
        {
            return new ApplicationInsightsConnection(connectionString, null);
        }

        if (!mode.Equals("AAD", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"APPLICATIONINSIGHTS_AUTHENTICATION_STRING asks for Authorization={mode}; the only kind supported is Authorization=AAD, optionally with ClientId=<client ID of a user-assigned managed identity>.");
        }

        var identity = authentication.TryGetValue("ClientId", out var clientId) ? ManagedIdentityId.FromUserAssignedClientId(clientId) : ManagedIdentityId.SystemAssigned;
        return new ApplicationInsightsConnection(connectionString, new ManagedIdentityCredential(identity));
    }

    private static Dictionary<string, string> Split(string text) =>
        text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
}
