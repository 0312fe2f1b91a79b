using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sessions;
using SandboxFunctions.Tools;

namespace SandboxFunctions.Host.Http;

/// <summary>How the app tells callers apart by their function keys.</summary>
public sealed class FunctionKeyOptions
{
    /// <summary>The keys this app accepts itself (<c>Auth:FunctionKeys</c>). Empty when it relies on the Functions host or runs on loopback only.</summary>
    public IReadOnlyList<string> Keys { get; set; } = [];

    /// <summary>True when the Azure Functions host runs this app and has already checked the key.</summary>
    public bool BehindFunctionsHost { get; set; }

    internal static IReadOnlyList<string> ParseKeys(string? setting) =>
        (setting ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Who is calling, or why the call is refused.</summary>
internal sealed record Caller(ClaimsPrincipal? Principal, string? Refusal);

/// <summary>
/// Reads the Azure Functions key of a request (the <c>x-functions-key</c> header or the <c>code</c> query
/// parameter), checks it against the app's own keys when there are any, and turns it into an owner id, so that
/// sessions created with one key stay invisible to another. The key's legacy owner id goes along, for the tools to
/// move what is stored under it; identifying a caller itself never waits on storage.
/// </summary>
internal sealed class CallerIdentity(IOptions<FunctionKeyOptions> options, OwnerIds ownerIds)
{
    public const string SchemeName = "FunctionKey";
    public const string KeyHeader = "x-functions-key";
    public const string KeyQueryParameter = "code";

    private readonly FunctionKeyOptions _options = options.Value;

    // Comparing hashes makes every comparison the same length whatever the keys' lengths.
    private readonly byte[][] _keyHashes = [.. options.Value.Keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))];

    public Caller Identify(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var presented = ReadPresentedKey(request);
        if (_keyHashes.Length > 0)
        {
            if (presented is null)
            {
                return new Caller(null, $"A function key is required. Send it in the {KeyHeader} header or the {KeyQueryParameter} query parameter.");
            }

            if (!MatchesConfiguredKey(presented))
            {
                return new Caller(null, "The function key is not valid for this server.");
            }
        }
        else if (!_options.BehindFunctionsHost)
        {
            return Allowed(Callers.LocalOwner);
        }

        if (presented is null)
        {
            return Allowed("anonymous");
        }

        return Allowed(ownerIds.FromKey(presented), OwnerIds.LegacyFromKey(presented));
    }

    private static string? ReadPresentedKey(HttpRequest request)
    {
        var header = request.Headers[KeyHeader].ToString();
        if (!string.IsNullOrEmpty(header))
        {
            return header;
        }

        var query = request.Query[KeyQueryParameter].ToString();
        return string.IsNullOrEmpty(query) ? null : query;
    }

    // Checking every key keeps the time independent of which key (if any) matched.
    private bool MatchesConfiguredKey(string presented)
    {
        Span<byte> presentedHash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), presentedHash);

        var matched = false;
        foreach (var keyHash in _keyHashes)
        {
            matched |= CryptographicOperations.FixedTimeEquals(presentedHash, keyHash);
        }

        return matched;
    }

    private static Caller Allowed(string owner, string? legacyOwner = null) =>
        new(new ClaimsPrincipal(new ClaimsIdentity(
            legacyOwner is null
                ? [new Claim(Callers.OwnerClaimType, owner)]
                : [new Claim(Callers.OwnerClaimType, owner), new Claim(Callers.LegacyOwnerClaimType, legacyOwner)],
            SchemeName)), null);
}
