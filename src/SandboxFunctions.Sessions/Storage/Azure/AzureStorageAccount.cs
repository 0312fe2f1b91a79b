using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Where an Azure Storage account's services are and how requests to them are authorized: a Shared Key from a
/// connection string, or a Microsoft Entra ID token. Never reveals the key.
/// </summary>
public sealed class AzureStorageAccount
{

    internal const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The storage emulator's fixed, publicly documented key; it protects nothing.</summary>
    internal const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly byte[]? _sharedKey;

    private AzureStorageAccount(string accountName, Uri blobServiceUri, Uri tableServiceUri, Uri queueServiceUri, TokenCredential? tokenCredential, byte[]? sharedKey)
    {
        AccountName = accountName;
        BlobServiceUri = blobServiceUri;
        TableServiceUri = tableServiceUri;
        QueueServiceUri = queueServiceUri;
        TokenCredential = tokenCredential;
        _sharedKey = sharedKey;
    }

    public string AccountName { get; }

    public Uri BlobServiceUri { get; }

    public Uri TableServiceUri { get; }

    public Uri QueueServiceUri { get; }

    /// <summary>The Microsoft Entra ID credential, or null when requests are signed with the account key.</summary>
    public TokenCredential? TokenCredential { get; }

    public bool UsesSharedKey => _sharedKey is not null;

    /// <summary>Whether this is the local storage emulator's well-known account.</summary>
    public bool IsDevelopmentStorage => UsesSharedKey && AccountName == DevelopmentAccountName;

    /// <summary>
    /// Reads an account connection string (<c>AccountName</c>, <c>AccountKey</c>, optional <c>DefaultEndpointsProtocol</c>,
    /// <c>EndpointSuffix</c>, <c>BlobEndpoint</c>, <c>TableEndpoint</c>, <c>QueueEndpoint</c>) or <c>UseDevelopmentStorage=true</c>.
    /// </summary>
    /// <exception cref="FormatException">The connection string is incomplete or malformed; the message never repeats its values.</exception>
    public static AzureStorageAccount FromConnectionString(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var settings = ParseConnectionString(connectionString);

        if (settings.TryGetValue("UseDevelopmentStorage", out var useDevelopment))
        {
            if (!bool.TryParse(useDevelopment, out var isDevelopment) || !isDevelopment)
            {
                throw new FormatException("UseDevelopmentStorage must be 'true' when present.");
            }

            if (settings.ContainsKey("DevelopmentStorageProxyUri"))
            {
                throw new FormatException("DevelopmentStorageProxyUri is not supported; give the emulator's endpoints with BlobEndpoint, TableEndpoint and QueueEndpoint instead.");
            }

            return DevelopmentStorage();
        }

        if (settings.ContainsKey("SharedAccessSignature"))
        {
            throw new FormatException("Connection strings with a SharedAccessSignature are not supported; use one with an AccountKey, or an identity-based connection.");
        }

        if (!settings.TryGetValue("AccountName", out var accountName) || accountName.Length == 0)
        {
            throw new FormatException("The connection string has no AccountName.");
        }

        if (!settings.TryGetValue("AccountKey", out var accountKey) || accountKey.Length == 0)
        {
            throw new FormatException("The connection string has no AccountKey; identity-based connections use separate settings such as <name>__accountName.");
        }

        var key = DecodeKey(accountKey);
        var protocol = settings.GetValueOrDefault("DefaultEndpointsProtocol", "https");
        if (protocol is not ("https" or "http"))
        {
            throw new FormatException("DefaultEndpointsProtocol must be 'https' or 'http'.");
        }

        var suffix = settings.GetValueOrDefault("EndpointSuffix", "core.windows.net").Trim('.');
        Uri Endpoint(string setting, string service) => settings.TryGetValue(setting, out var explicitEndpoint)
            ? ParseServiceUri(explicitEndpoint, setting, requireHttps: false)
            : ParseServiceUri($"{protocol}://{accountName}.{service}.{suffix}", $"AccountName/EndpointSuffix", requireHttps: false);

        return new AzureStorageAccount(
            accountName,
            Endpoint("BlobEndpoint", "blob"),
            Endpoint("TableEndpoint", "table"),
            Endpoint("QueueEndpoint", "queue"),
            tokenCredential: null,
            key);
    }

    /// <summary>An account reached with Microsoft Entra ID tokens; every endpoint must use https.</summary>
    public static AzureStorageAccount FromTokenCredential(Uri blobServiceUri, Uri tableServiceUri, Uri queueServiceUri, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(blobServiceUri);
        ArgumentNullException.ThrowIfNull(tableServiceUri);
        ArgumentNullException.ThrowIfNull(queueServiceUri);
        ArgumentNullException.ThrowIfNull(credential);
        foreach (var uri in new[] { blobServiceUri, tableServiceUri, queueServiceUri })
        {
            if (!uri.IsAbsoluteUri || uri.Scheme != Uri.UriSchemeHttps)
            {
                throw new ArgumentException($"'{uri}' is not an absolute https URI; tokens are only sent over TLS.", nameof(blobServiceUri));
            }
        }

        return new AzureStorageAccount(AccountNameOf(blobServiceUri), blobServiceUri, tableServiceUri, queueServiceUri, credential, sharedKey: null);
    }

    /// <summary>The local storage emulator at its default ports.</summary>
    public static AzureStorageAccount DevelopmentStorage() => new(
        DevelopmentAccountName,
        new Uri($"http://127.0.0.1:10000/{DevelopmentAccountName}"),
        new Uri($"http://127.0.0.1:10002/{DevelopmentAccountName}"),
        new Uri($"http://127.0.0.1:10001/{DevelopmentAccountName}"),
        tokenCredential: null,
        Convert.FromBase64String(DevelopmentAccountKey));

    public override string ToString() =>
        $"Azure Storage account '{AccountName}' at {BlobServiceUri.GetLeftPart(UriPartial.Authority)} ({(UsesSharedKey ? "shared key" : "Microsoft Entra ID")})";

    internal TableServiceClient CreateTableServiceClient(TableClientOptions options) => _sharedKey is not null
        ? new TableServiceClient(TableServiceUri, new TableSharedKeyCredential(AccountName, Convert.ToBase64String(_sharedKey)), options)
        : new TableServiceClient(TableServiceUri, TokenCredential!, options);

    internal BlobServiceClient CreateBlobServiceClient(BlobClientOptions options) => _sharedKey is not null
        ? new BlobServiceClient(BlobServiceUri, new StorageSharedKeyCredential(AccountName, Convert.ToBase64String(_sharedKey)), options)
        : new BlobServiceClient(BlobServiceUri, TokenCredential!, options);

    internal QueueServiceClient CreateQueueServiceClient(QueueClientOptions options) => _sharedKey is not null
        ? new QueueServiceClient(QueueServiceUri, new StorageSharedKeyCredential(AccountName, Convert.ToBase64String(_sharedKey)), options)
        : new QueueServiceClient(QueueServiceUri, TokenCredential!, options);

    /// <summary>https://myaccount.blob.core.windows.net gives "myaccount"; any other host is named as it is.</summary>
    internal static string AccountNameOf(Uri serviceUri)
    {
        var host = serviceUri.Host;
        var firstDot = host.IndexOf('.', StringComparison.Ordinal);
        return firstDot > 0 && !System.Net.IPAddress.TryParse(host, out _) ? host[..firstDot] : host;
    }

    internal static Uri ParseServiceUri(string value, string setting, bool requireHttps)
    {
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new FormatException($"{setting} is not an absolute http(s) URI.");
        }

        if (requireHttps && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new FormatException($"{setting} must use https: tokens are only sent over TLS.");
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new FormatException($"{setting} must not have a query or fragment; SAS tokens are not supported.");
        }

        return uri;
    }

    private static Dictionary<string, string> ParseConnectionString(string connectionString)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException("The connection string is not a list of name=value pairs separated by ';'.");
            }

            var name = part[..equals].Trim();
            if (!settings.TryAdd(name, part[(equals + 1)..].Trim()))
            {
                throw new FormatException($"The connection string sets {name} twice.");
            }
        }

        if (settings.Count == 0)
        {
            throw new FormatException("The connection string is empty.");
        }

        return settings;
    }

    private static byte[] DecodeKey(string accountKey)
    {
        var buffer = new byte[accountKey.Length];
        if (!Convert.TryFromBase64String(accountKey, buffer, out var written) || written == 0)
        {
            throw new FormatException("AccountKey is not valid base64.");
        }

        return buffer[..written];
    }
}
