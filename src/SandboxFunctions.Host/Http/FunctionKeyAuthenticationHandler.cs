using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sessions;
using SandboxFunctions.Tools;

namespace SandboxFunctions.Host.Http;

public sealed class FunctionKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>The keys this app accepts itself. Empty when it relies on the Functions host or runs on loopback only.</summary>
    public IReadOnlyList<string> Keys { get; set; } = [];

    /// <summary>True when the Azure Functions host runs this app and has already checked the key.</summary>
    public bool BehindFunctionsHost { get; set; }
}

/// <summary>
/// Checks Azure Functions keys (the <c>x-functions-key</c> header or the <c>code</c> query parameter) and
/// turns the key into an owner id, so that sessions created with one key stay invisible to another. The first
/// time it sees a key, it moves the sessions stored under the key's legacy owner id to the current one.
/// </summary>
internal sealed class FunctionKeyAuthenticationHandler(
    IOptionsMonitor<FunctionKeyAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    OwnerIds ownerIds,
    OwnerMigration migration)
    : AuthenticationHandler<FunctionKeyAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "FunctionKey";
    private const string KeyHeader = "x-functions-key";
    private const string KeyQueryParameter = "code";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ReadPresentedKey();
        if (Options.Keys.Count > 0)
        {
            if (presented is null)
            {
                return AuthenticateResult.Fail(
                    $"A function key is required. Send it in the {KeyHeader} header or the {KeyQueryParameter} query parameter.");
            }

            if (!MatchesConfiguredKey(presented))
            {
                return AuthenticateResult.Fail("The function key is not valid for this server.");
            }
        }
        else if (!Options.BehindFunctionsHost)
        {
            return Success(Callers.LocalOwner);
        }

        if (presented is null)
        {
            return Success("anonymous");
        }

        var owner = ownerIds.FromKey(presented);
        await migration.EnsureMovedAsync(OwnerIds.LegacyFromKey(presented), owner, Context.RequestAborted).ConfigureAwait(false);
        return Success(owner);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
        Response.Headers.WWWAuthenticate = SchemeName;
        await JsonRpcErrors.WriteAsync(
            Context,
            StatusCodes.Status401Unauthorized,
            JsonRpcErrors.Unauthorized,
            $"Unauthorized: {result.Failure?.Message ?? "a valid function key is required."}").ConfigureAwait(false);
    }

    private string? ReadPresentedKey()
    {
        var header = Request.Headers[KeyHeader].ToString();
        if (!string.IsNullOrEmpty(header))
        {
            return header;
        }

        var query = Request.Query[KeyQueryParameter].ToString();
        return string.IsNullOrEmpty(query) ? null : query;
    }

    // Hashing first makes every comparison the same length, and checking every key keeps the time
    // independent of which key (if any) matched.
    private bool MatchesConfiguredKey(string presented)
    {
        Span<byte> presentedHash = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> keyHash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), presentedHash);

        var matched = false;
        foreach (var key in Options.Keys)
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(key), keyHash);
            matched |= CryptographicOperations.FixedTimeEquals(presentedHash, keyHash);
        }

        return matched;
    }

    private static AuthenticateResult Success(string owner)
    {
        var identity = new ClaimsIdentity([new Claim(Callers.OwnerClaimType, owner)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
