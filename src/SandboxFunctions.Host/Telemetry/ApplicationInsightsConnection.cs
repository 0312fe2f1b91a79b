namespace SandboxFunctions.Host.Telemetry;

/// <summary>
/// Where Application Insights takes telemetry, from its connection string, and how to authenticate: with the
/// managed identity named in the authentication string (<c>Authorization=AAD;ClientId=…</c>) when local
/// authentication is disabled on the resource.
/// </summary>
internal sealed record ApplicationInsightsConnection(string InstrumentationKey, Uri IngestionEndpoint, bool UseEntraId, string? ClientId)
{
    public static ApplicationInsightsConnection? Parse(string? connectionString, string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }

        var parts = Split(connectionString);
        if (!parts.TryGetValue("InstrumentationKey", out var key) || !parts.TryGetValue("IngestionEndpoint", out var endpoint)
            || !Uri.TryCreate(endpoint.EndsWith('/') ? endpoint : endpoint + "/", UriKind.Absolute, out var ingestion))
        {
            throw new InvalidOperationException(
                "APPLICATIONINSIGHTS_CONNECTION_STRING must hold InstrumentationKey and IngestionEndpoint; copy the whole connection string from the Application Insights resource.");
        }

        var authentication = Split(authenticationString ?? string.Empty);
        var entra = authentication.TryGetValue("Authorization", out var mode) && mode.Equals("AAD", StringComparison.OrdinalIgnoreCase);
        return new ApplicationInsightsConnection(key, ingestion, entra, authentication.GetValueOrDefault("ClientId"));
    }

    private static Dictionary<string, string> Split(string text) =>
        text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
}
