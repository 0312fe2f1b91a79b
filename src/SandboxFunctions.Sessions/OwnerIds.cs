using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace SandboxFunctions.Sessions;

/// <summary>
/// Turns a caller's credential into the owner id its sessions are stored under. The id is an HMAC of the credential
/// under a server secret, so that a copy of the storage account does not let anyone test guesses of weak keys
/// offline. Earlier versions stored an unsalted hash; it is still derived, to find the sessions stored under it.
/// </summary>
public sealed class OwnerIds
{
    /// <summary>The secret used when none is configured: publicly known, so fit for local use only.</summary>
    public const string LocalSecret = "sandboxfunctions-local-owner-secret";

    private const string Purpose = "sandboxfunctions/owner/";

    private readonly byte[] _secret;

    public OwnerIds(IOptions<OwnerIdOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _secret = string.IsNullOrWhiteSpace(options.Value.OwnerSecret)
            ? Encoding.UTF8.GetBytes(LocalSecret)
            : Convert.FromBase64String(options.Value.OwnerSecret);
    }

    /// <summary>The owner id of a function key.</summary>
    public string FromKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(Purpose + key), mac);
        return "owner-" + Convert.ToHexStringLower(mac[..16]);
    }

    /// <summary>The owner id earlier versions derived from a function key, by hashing it without a secret.</summary>
    public static string LegacyFromKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(Purpose + key), hash);
        return "key-" + Convert.ToHexStringLower(hash[..16]);
    }
}

/// <summary>Settings of owner ids, bound from the <c>Auth</c> section.</summary>
public sealed class OwnerIdOptions
{
    public const string SectionName = "Auth";

    /// <summary>Base64 secret (at least 32 bytes) owner ids are derived under; <see cref="OwnerIds.LocalSecret"/> when unset.</summary>
    public string? OwnerSecret { get; set; }
}

internal sealed class OwnerIdOptionsValidator : IValidateOptions<OwnerIdOptions>
{
    public ValidateOptionsResult Validate(string? name, OwnerIdOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.OwnerSecret))
        {
            return ValidateOptionsResult.Success;
        }

        var buffer = new byte[options.OwnerSecret.Length];
        return Convert.TryFromBase64String(options.OwnerSecret.Trim(), buffer, out var length) && length >= 32
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Auth:OwnerSecret must be base64 of at least 32 random bytes (e.g. the output of 'openssl rand -base64 48').");
    }
}
