using System.Net;

namespace SandboxFunctions.Host;

/// <summary>
/// Where the standalone HTTP server listens: <c>--urls</c>, or 127.0.0.1:7071 by default. Without function keys it
/// would let anyone who can reach it run code, so it is held to loopback.
/// </summary>
internal sealed record ListenPlan(IReadOnlyList<string> Urls, bool KeysConfigured, bool NarrowedToLoopback)
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static ListenPlan Create(IConfiguration configuration, bool keysConfigured)
    {
        var requested = (configuration["urls"] ?? DefaultUrl)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (keysConfigured)
        {
            return new ListenPlan(requested, keysConfigured, NarrowedToLoopback: false);
        }

        var urls = requested.Select(ToLoopback).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        return new ListenPlan(urls, keysConfigured, NarrowedToLoopback: !urls.SequenceEqual(requested));
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
