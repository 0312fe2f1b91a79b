using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SandboxFunctions.Tools.Packages;

/// <summary>
/// Reads a package index through the Simple repository API: project pages as JSON (PEP 691) or HTML
/// (PEP 503), and files whose SHA-256 must match what the page states.
/// </summary>
internal sealed partial class PackageIndexClient
{
    private const string JsonPageType = "application/vnd.pypi.simple.v1+json";

    // One client for the process: connections are pooled and renewed, so DNS changes are seen.
    private static readonly HttpClient SharedHttp = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = DecompressionMethods.All,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { UserAgent = { new ProductInfoHeaderValue("SandboxFunctions", typeof(PackageIndexClient).Assembly.GetName().Version?.ToString(3)) } },
    };

    private readonly HttpClient _http;
    private readonly Uri _indexUrl;

    public PackageIndexClient(Uri indexUrl)
        : this(SharedHttp, indexUrl)
    {
    }

    internal PackageIndexClient(HttpClient http, Uri indexUrl)
    {
        _http = http;
        _indexUrl = indexUrl.AbsoluteUri.EndsWith('/') ? indexUrl : new Uri(indexUrl.AbsoluteUri + "/");
    }

    /// <summary>The files the index lists for a project, or null when it does not know the project.</summary>
    public async Task<IReadOnlyList<DistributionFile>?> GetProjectFilesAsync(string project, CancellationToken cancellationToken)
    {
        var pageUrl = new Uri(_indexUrl, PackageName.Canonicalize(project) + "/");
        using var request = new HttpRequestMessage(HttpMethod.Get, pageUrl);
        request.Headers.Accept.ParseAdd($"{JsonPageType}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1");
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return null;
        }

        EnsureSuccess(response, $"the page of '{project}'");
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var baseUrl = response.RequestMessage?.RequestUri ?? pageUrl;
        try
        {
            return response.Content.Headers.ContentType?.MediaType == JsonPageType ? ParseJsonPage(body, baseUrl) : ParseHtmlPage(body, baseUrl);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or UriFormatException)
        {
            throw ToolErrors.PackageIndexUnreachable($"The package index answered with a page for '{project}' that is not a valid project page.");
        }
    }

    /// <summary>
    /// Downloads a file and checks its SHA-256 against the index; returns null when it is larger than
    /// <paramref name="maxBytes"/>, without reading more than that.
    /// </summary>
    public async Task<byte[]?> DownloadAsync(DistributionFile file, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Sha256 is null)
        {
            throw ToolErrors.PackageHashMismatch(file.Filename, "the package index states no SHA-256 for it, so it cannot be verified");
        }

        if (file.Size > maxBytes)
        {
            return null;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, file.Filename);
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            return null;
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var content = new MemoryStream();
            var buffer = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (content.Length + read > maxBytes)
                {
                    return null;
                }

                content.Write(buffer, 0, read);
            }

            var bytes = content.ToArray();
            var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (!string.Equals(actual, file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw ToolErrors.PackageHashMismatch(file.Filename, $"its SHA-256 is {actual}, but the package index states {file.Sha256}");
            }

            return bytes;
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw ToolErrors.PackageIndexUnreachable($"The package index could not be reached ({Describe(ex)}).");
        }
    }

    private static void EnsureSuccess(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw ToolErrors.PackageIndexUnreachable($"The package index answered {(int)response.StatusCode} ({response.ReasonPhrase}) for {what}.");
        }
    }

    // The message names what failed without the index's address, which may carry credentials.
    private static string Describe(HttpRequestException exception) => exception.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => "its host name could not be resolved",
        HttpRequestError.ConnectionError => "the connection was refused or dropped",
        HttpRequestError.SecureConnectionError => "the TLS connection failed",
        _ => "the request failed",
    };

    private static List<DistributionFile> ParseJsonPage(string body, Uri baseUrl)
    {
        using var document = JsonDocument.Parse(body);
        var files = new List<DistributionFile>();
        foreach (var file in document.RootElement.GetProperty("files").EnumerateArray())
        {
            var hashes = file.TryGetProperty("hashes", out var h) && h.ValueKind == JsonValueKind.Object ? h : default;
            files.Add(new DistributionFile(
                file.GetProperty("filename").GetString()!,
                new Uri(baseUrl, file.GetProperty("url").GetString()!),
                hashes.ValueKind == JsonValueKind.Object && hashes.TryGetProperty("sha256", out var sha) ? sha.GetString() : null,
                file.TryGetProperty("requires-python", out var requires) && requires.ValueKind == JsonValueKind.String ? requires.GetString() : null,
                file.TryGetProperty("yanked", out var yanked) && yanked.ValueKind is JsonValueKind.True or JsonValueKind.String,
                file.TryGetProperty("size", out var size) && size.TryGetInt64(out var bytes) ? bytes : null));
        }

        return files;
    }

    private static List<DistributionFile> ParseHtmlPage(string body, Uri baseUrl)
    {
        var files = new List<DistributionFile>();
        foreach (Match anchor in Anchor().Matches(body))
        {
            var attributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (Match attribute in Attribute().Matches(anchor.Groups["attributes"].Value))
            {
                var value = attribute.Groups["double"].Success ? attribute.Groups["double"].Value
                    : attribute.Groups["single"].Success ? attribute.Groups["single"].Value
                    : attribute.Groups["bare"].Value;
                attributes[attribute.Groups["name"].Value] = WebUtility.HtmlDecode(value);
            }

            if (!attributes.TryGetValue("href", out var href))
            {
                continue;
            }

            var url = new Uri(baseUrl, href);
            var fragment = url.Fragment.TrimStart('#');
            var sha256 = fragment.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase) ? fragment["sha256=".Length..] : null;
            var text = WebUtility.HtmlDecode(Tags().Replace(anchor.Groups["text"].Value, string.Empty)).Trim();
            var filename = text.Length > 0 ? text : Uri.UnescapeDataString(url.Segments[^1]);
            files.Add(new DistributionFile(
                filename,
                url,
                sha256,
                attributes.GetValueOrDefault("data-requires-python"),
                attributes.ContainsKey("data-yanked"),
                null));
        }

        return files;
    }

    [GeneratedRegex(@"<a\s(?<attributes>[^>]*)>(?<text>.*?)</a\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.ExplicitCapture)]
    private static partial Regex Anchor();

    [GeneratedRegex("""(?<name>[A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"(?<double>[^"]*)"|'(?<single>[^']*)'|(?<bare>[^\s"'=<>`]+)))?""", RegexOptions.ExplicitCapture)]
    private static partial Regex Attribute();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();
}
