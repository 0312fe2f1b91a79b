using System.Net;
using Microsoft.Extensions.Options;

namespace SandboxFunctions.Host.Http;

/// <summary>
/// Decides which browser origins may call the MCP endpoint. Checking Origin stops a web page the user
/// happens to visit from driving a local server through DNS rebinding.
/// </summary>
internal sealed class OriginPolicy(IOptions<McpHttpOptions> options)
{
    private readonly IReadOnlyList<string> _allowed = options.Value.GetAllowedOrigins().Select(Normalize).ToArray();

    public bool IsAllowed(string? origin)
    {
        if (string.IsNullOrEmpty(origin))
        {
            return true;
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri))
        {
            return false;
        }

        if (IsLoopback(uri.Host))
        {
            return true;
        }

        var normalized = Normalize(origin);
        return _allowed.Any(a => a == "*" || string.Equals(a, normalized, StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static string Normalize(string origin) => origin.TrimEnd('/');
}
