using Microsoft.Extensions.Options;

namespace SandboxFunctions.Host.Http;

/// <summary>Settings of the MCP Streamable HTTP endpoint, bound from the <c>Mcp</c> section.</summary>
public sealed class McpHttpOptions
{
    public const string SectionName = "Mcp";

    /// <summary>
    /// Comma-separated browser origins allowed to call the endpoint, besides loopback origins; <c>*</c> allows any.
    /// Requests without an Origin header (non-browser clients) are always allowed.
    /// </summary>
    public string? AllowedOrigins { get; set; }

    /// <summary>The largest request body accepted, in bytes.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    internal IReadOnlyList<string> GetAllowedOrigins() =>
        (AllowedOrigins ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

internal sealed class McpHttpOptionsValidator : IValidateOptions<McpHttpOptions>
{
    private const long MinBodyBytes = 1024;
    private const long MaxBodyBytes = 256L * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, McpHttpOptions options)
    {
        if (options.MaxRequestBodyBytes is < MinBodyBytes or > MaxBodyBytes)
        {
            return ValidateOptionsResult.Fail(
                $"Mcp:MaxRequestBodyBytes is {options.MaxRequestBodyBytes}; set it between {MinBodyBytes} and {MaxBodyBytes}.");
        }

        foreach (var origin in options.GetAllowedOrigins())
        {
            if (origin != "*" && !Uri.TryCreate(origin, UriKind.Absolute, out _))
            {
                return ValidateOptionsResult.Fail(
                    $"Mcp:AllowedOrigins contains '{origin}', which is not an absolute origin such as https://example.com.");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
