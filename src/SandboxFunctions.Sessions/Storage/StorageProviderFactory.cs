using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>Which store was chosen and a description of it for logs and health, without keys.</summary>
/// <param name="Kind"><c>azure</c> or <c>file</c>.</param>
/// <param name="Summary">E.g. <c>azure account 'myacct' (managed identity) from setting 'SessionStorage'</c> or <c>file store at /data</c>.</param>
public sealed record StorageDescription(string Kind, string Summary)
{
    public override string ToString() => Summary;
}

/// <summary>
/// Chooses the session store the way Azure Functions resolves a storage connection: the connection named
/// <c>SessionStorage</c>, else <c>AzureWebJobsStorage</c>, else the embedded file store. A connection is either
/// a connection string under its name, or identity-based settings under <c>&lt;name&gt;__*</c>
/// (<c>accountName</c>; or <c>blobServiceUri</c>, <c>tableServiceUri</c>, <c>queueServiceUri</c>;
/// optional <c>credential=managedidentity</c> and <c>clientId</c>).
/// </summary>
public static class StorageProviderFactory
{
    public const string ConnectionName = "SessionStorage";

    public const string FallbackConnectionName = "AzureWebJobsStorage";

    private static readonly string[] IdentitySettings = ["accountName", "blobServiceUri", "tableServiceUri", "queueServiceUri", "credential", "clientId"];

    /// <summary>The store the configuration names, or the file store under <paramref name="dataPath"/>.</summary>
    /// <exception cref="InvalidOperationException">A connection is configured but incomplete or malformed; the message names the setting.</exception>
    public static IStorageProvider Create(IConfiguration configuration, string dataPath, TimeProvider timeProvider, AzureStorageClientOptions? azureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return Resolve(configuration) is { } resolved
            ? new AzureStorageProvider(resolved.Account, azureOptions)
            : new FileStorageProvider(dataPath, timeProvider);
    }

    /// <summary>Which store <see cref="Create"/> chooses for the same settings, described for logs and health.</summary>
    /// <exception cref="InvalidOperationException">As <see cref="Create"/>.</exception>
    public static StorageDescription Describe(IConfiguration configuration, string dataPath)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
        return Resolve(configuration) is { } resolved
            ? new StorageDescription("azure", resolved.Description)
            : new StorageDescription("file", $"file store at {Path.GetFullPath(dataPath)}");
    }

    private static (AzureStorageAccount Account, string Description)? Resolve(IConfiguration configuration)
    {
        foreach (var connectionName in new[] { ConnectionName, FallbackConnectionName })
        {
            if (ResolveAccount(configuration, connectionName) is { } resolved)
            {
                return (resolved.Account, $"{resolved.Description} from setting '{connectionName}'");
            }
        }

        return null;
    }

    private static (AzureStorageAccount Account, string Description)? ResolveAccount(IConfiguration configuration, string connectionName)
    {
        var connectionString = configuration[connectionName];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return FromConnectionString(connectionName, connectionString);
        }

        var section = configuration.GetSection(connectionName);
        if (!string.IsNullOrWhiteSpace(section["serviceUri"]))
        {
            // Functions triggers read <connection>__serviceUri as the endpoint of their own service, so for a
            // connection that serves blobs, tables and a queue trigger it cannot mean one endpoint.
            throw new InvalidOperationException(
                $"{connectionName}__serviceUri is ambiguous: set {connectionName}__blobServiceUri, {connectionName}__tableServiceUri and {connectionName}__queueServiceUri, or {connectionName}__accountName.");
        }

        return IdentitySettings.Any(key => !string.IsNullOrWhiteSpace(section[key])) ? FromIdentitySettings(connectionName, section) : null;
    }

    private static (AzureStorageAccount Account, string Description) FromConnectionString(string connectionName, string connectionString)
    {
        AzureStorageAccount account;
        try
        {
            account = AzureStorageAccount.FromConnectionString(connectionString);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"Setting '{connectionName}' holds an invalid storage connection string: {ex.Message}", ex);
        }

        var description = account.IsDevelopmentStorage
            ? $"azure storage emulator account '{account.AccountName}' at {account.BlobServiceUri.GetLeftPart(UriPartial.Authority)} (shared key)"
            : $"azure account '{account.AccountName}' (shared key)";
        return (account, description);
    }

    private static (AzureStorageAccount Account, string Description) FromIdentitySettings(string connectionName, IConfigurationSection section)
    {
        string? Setting(string key) => section[key] is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

        Uri? ExplicitUri(string key)
        {
            if (Setting(key) is not { } value)
            {
                return null;
            }

            try
            {
                return AzureStorageAccount.ParseServiceUri(value, $"{connectionName}__{key}", requireHttps: true);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"Setting '{connectionName}__{key}' is invalid: {ex.Message}", ex);
            }
        }

        var (credential, credentialDescription) = CreateCredential(connectionName, Setting("credential"), Setting("clientId"));
        var accountName = Setting("accountName");
        if (accountName is not null && !StorageValidation.IsAccountName(accountName))
        {
            throw Invalid(connectionName, "accountName", "a storage account name is 3-24 lowercase letters and digits");
        }

        var blobUri = ExplicitUri("blobServiceUri") ?? DerivedUri(accountName, null, "blob");
        var tableUri = ExplicitUri("tableServiceUri") ?? DerivedUri(accountName, blobUri, "table");
        var queueUri = ExplicitUri("queueServiceUri") ?? DerivedUri(accountName, blobUri, "queue");
        if (blobUri is null || tableUri is null || queueUri is null)
        {
            var missing = blobUri is null ? "blobServiceUri" : tableUri is null ? "tableServiceUri" : "queueServiceUri";
            throw Invalid(connectionName, missing, $"set it, or set {connectionName}__accountName to derive every service URI");
        }

        var account = AzureStorageAccount.FromTokenCredential(blobUri, tableUri, queueUri, credential);
        return (account, $"azure account '{account.AccountName}' ({credentialDescription})");
    }

    /// <summary>https://&lt;account&gt;.&lt;service&gt;.core.windows.net, or the blob URI's host with its service label swapped.</summary>
    private static Uri? DerivedUri(string? accountName, Uri? blobUri, string service)
    {
        if (accountName is not null)
        {
            return new Uri($"https://{accountName}.{service}.core.windows.net");
        }

        var labels = blobUri?.Host.Split('.');
        if (blobUri is null || labels is null || labels.Length < 3 || labels[1] != "blob")
        {
            return null;
        }

        labels[1] = service;
        return new UriBuilder(blobUri) { Host = string.Join('.', labels) }.Uri;
    }

    private static (TokenCredential Credential, string Description) CreateCredential(string connectionName, string? credential, string? clientId)
    {
        if (credential is null)
        {
            var options = new DefaultAzureCredentialOptions();
            if (clientId is not null)
            {
                options.ManagedIdentityClientId = clientId;
            }

            return (new DefaultAzureCredential(options), clientId is null ? "DefaultAzureCredential" : $"DefaultAzureCredential, managed identity client id {clientId}");
        }

        if (!credential.Equals("managedidentity", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(connectionName, "credential", "the only supported value is 'managedidentity'; leave it out to use DefaultAzureCredential");
        }

        return clientId is null
            ? (new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned), "system-assigned managed identity")
            : (new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId)), $"managed identity, client id {clientId}");
    }

    private static InvalidOperationException Invalid(string connectionName, string key, string reason) =>
        new($"Setting '{connectionName}__{key}' is invalid or missing: {reason}.");
}
