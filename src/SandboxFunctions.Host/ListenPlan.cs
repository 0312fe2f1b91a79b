using System.Net;

namespace SandboxFunctions.Host;

/// <summary>
/// Where the HTTP server listens. Under the Azure Functions host the port comes from
/// <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>; standalone it comes from <c>--urls</c> or defaults to 127.0.0.1:7071.
/// Without function keys a standalone server would let anyone who can reach it run code, so it is held to loopback.
/// </summary>
internal sealed record ListenPlan(IReadOnlyList<string> Urls, bool BehindFunctionsHost, bool KeysConfigured, bool NarrowedToLoopback)
{
    public const string CustomHandlerPortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static ListenPlan Create(IConfiguration configuration, bool keysConfigured)
    {
        var customHandlerPort = configuration[CustomHandlerPortVariable];
        if (!string.IsNullOrWhiteSpace(customHandlerPort))
        {
            if (!int.TryParse(customHandlerPort, out var port) || port is < 1 or > 65535)
            {
                throw new InvalidOperationException(
                    $"{CustomHandlerPortVariable} is '{customHandlerPort}', which is not a TCP port number.");
            }

            return new ListenPlan([$"http://127.0.0.1:{port}"], BehindFunctionsHost: true, keysConfigured, NarrowedToLoopback: false);
        }

        var requested = (configuration["urls"] ?? DefaultUrl)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (keysConfigured)
        {
            return new ListenPlan(requested, BehindFunctionsHost: false, keysConfigured, NarrowedToLoopback: false);
        }

        var urls = requested.Select(ToLoopback).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        return new ListenPlan(urls, BehindFunctionsHost: false, keysConfigured, NarrowedToLoopback: !urls.SequenceEqual(requested));
    }

    private static string ToLoopback(string url)
    {
        var builder = new UriBuilder(url.Replace("://*", "://wildcard", StringComparison.Ordinal).Replace("://+", "://wildcard", StringComparison.Ordinal));
        if (IsLoopback(builder.Host))
        {
            return url;
        }

        builder.Host = "127.0.0.1";
        return builder.Uri.GetLeftPart(UriPartial.Authority);
    }

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
