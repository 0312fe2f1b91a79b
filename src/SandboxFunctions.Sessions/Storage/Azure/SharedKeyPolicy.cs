using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace SandboxFunctions.Sessions.Storage;

internal enum StorageService
{
    Blob,
    Table,
    Queue,
}

internal enum SharedKeyScheme
{
    /// <summary>The Blob and Queue form: verb, standard headers, canonicalized x-ms- headers, then the resource with every query parameter.</summary>
    BlobAndQueue,

    /// <summary>The Table form: verb, Content-MD5, Content-Type, date, then the resource with only the comp parameter.</summary>
    Table,
}

/// <summary>
/// Signs every attempt of a request with the account key (the "SharedKey" scheme), after the retry policy so
/// that each attempt carries a fresh x-ms-date.
/// </summary>
internal sealed class SharedKeyPolicy(string accountName, byte[] key, SharedKeyScheme scheme) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        request.Headers.SetValue("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
        var stringToSign = scheme == SharedKeyScheme.Table ? TableStringToSign(request) : BlobAndQueueStringToSign(request);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.SetValue("Authorization", $"SharedKey {accountName}:{signature}");
    }

    internal string BlobAndQueueStringToSign(Request request)
    {
        var uri = request.Uri.ToUri();
        var builder = new StringBuilder(256);
        builder.Append(request.Method.Method).Append('\n');
        AppendHeader(builder, request, "Content-Encoding");
        AppendHeader(builder, request, "Content-Language");

        // Since version 2015-02-21 a zero length is signed as an empty string.
        if (request.Content is not null && request.Content.TryComputeLength(out var length) && length > 0)
        {
            builder.Append(length.ToString(CultureInfo.InvariantCulture));
        }

        builder.Append('\n');
        AppendHeader(builder, request, "Content-MD5");
        AppendHeader(builder, request, "Content-Type");

        // The Date header stays empty because x-ms-date is always sent.
        builder.Append('\n');
        AppendHeader(builder, request, "If-Modified-Since");
        AppendHeader(builder, request, "If-Match");
        AppendHeader(builder, request, "If-None-Match");
        AppendHeader(builder, request, "If-Unmodified-Since");
        AppendHeader(builder, request, "Range");

        var msHeaders = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in request.Headers)
        {
            if (header.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            {
                msHeaders[LowerInvariant(header.Name)] = header.Value.Trim();
            }
        }

        foreach (var (name, value) in msHeaders)
        {
            builder.Append(name).Append(':').Append(value).Append('\n');
        }

        builder.Append('/').Append(accountName).Append(uri.AbsolutePath);
        var parameters = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, value) in QueryParameters(uri))
        {
            var lowerName = LowerInvariant(name);
            if (!parameters.TryGetValue(lowerName, out var values))
            {
                parameters[lowerName] = values = [];
            }

            values.Add(value);
        }

        foreach (var (name, values) in parameters)
        {
            values.Sort(StringComparer.Ordinal);
            builder.Append('\n').Append(name).Append(':').AppendJoin(',', values);
        }

        return builder.ToString();
    }

    internal string TableStringToSign(Request request)
    {
        var uri = request.Uri.ToUri();
        var builder = new StringBuilder(256);
        builder.Append(request.Method.Method).Append('\n');
        AppendHeader(builder, request, "Content-MD5");
        AppendHeader(builder, request, "Content-Type");
        AppendHeader(builder, request, "x-ms-date");
        builder.Append('/').Append(accountName).Append(uri.AbsolutePath);
        foreach (var (name, value) in QueryParameters(uri))
        {
            if (name.Equals("comp", StringComparison.OrdinalIgnoreCase))
            {
                builder.Append("?comp=").Append(value);
            }
        }

        return builder.ToString();
    }

    private static void AppendHeader(StringBuilder builder, Request request, string name)
    {
        if (request.Headers.TryGetValue(name, out var value))
        {
            builder.Append(value);
        }

        builder.Append('\n');
    }

    private static IEnumerable<(string Name, string Value)> QueryParameters(Uri uri)
    {
        var query = uri.Query.AsMemory();
        if (query.Length > 0 && query.Span[0] == '?')
        {
            query = query[1..];
        }

        foreach (var pair in query.ToString().Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            yield return equals < 0
                ? (Uri.UnescapeDataString(pair), string.Empty)
                : (Uri.UnescapeDataString(pair[..equals]), Uri.UnescapeDataString(pair[(equals + 1)..]));
        }
    }

    // The canonical form is lowercase by definition, so uppercasing (CA1308) would sign the wrong string.
#pragma warning disable CA1308
    private static string LowerInvariant(string value) => value.ToLowerInvariant();
#pragma warning restore CA1308
}
