using System.Security.Claims;

namespace SandboxFunctions.Tools;

/// <summary>
/// Who is calling. Sessions belong to the credential that created them, so every tool that touches a
/// session resolves the caller's owner id from the authenticated principal.
/// </summary>
public static class Callers
{
    /// <summary>The claim that carries the owner id derived from the caller's credential.</summary>
    public const string OwnerClaimType = "sandbox:owner";

    /// <summary>
    /// The claim that carries the owner id earlier versions derived from the same credential; sessions stored under it
    /// move to the current owner id the first time the caller uses a session.
    /// </summary>
    public const string LegacyOwnerClaimType = "sandbox:legacy-owner";

    /// <summary>The owner of calls that carry no credential: stdio and unauthenticated loopback use.</summary>
    public const string LocalOwner = "local";

    public static string GetOwner(ClaimsPrincipal? principal) =>
        principal?.FindFirst(OwnerClaimType)?.Value ?? LocalOwner;
}
