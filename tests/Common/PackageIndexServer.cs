using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SandboxFunctions.Testing;

/// <summary>
/// A package index on loopback speaking the Simple repository API: project pages as JSON (PEP 691) or
/// HTML (PEP 503) by content negotiation, files with their SHA-256, and ways to misbehave on purpose.
/// </summary>
internal sealed partial class PackageIndexServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Listing>> _projects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, HttpStatusCode> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TimeSpan> _delays = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _serving;

    private PackageIndexServer()
    {
        var port = FreePort.Next();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseAddress.AbsoluteUri);
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public Uri BaseAddress { get; }

    /// <summary>Starts listening on a free loopback port.</summary>
    public static PackageIndexServer Start() => new();

    /// <summary>The Simple API root to configure as the index URL.</summary>
    public Uri IndexUrl => new(BaseAddress, "simple/");

    /// <summary>When set, project pages are HTML even for clients that accept JSON.</summary>
    public bool HtmlOnly { get; set; }

    /// <summary>Paths requested so far, e.g. <c>/simple/demo/</c>.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Builds a wheel and lists it; returns its file name.</summary>
    public string AddWheel(
        string project,
        string version,
        IReadOnlyDictionary<string, string>? files = null,
        IEnumerable<string>? requiresDist = null,
        string tag = "py3-none-any",
        string? requiresPython = null,
        bool yanked = false,
        bool withMetadata = true)
    {
        var module = project.Replace('-', '_').ToLowerInvariant();
        var content = WheelBuilder.Build(project, version, files ?? new Dictionary<string, string>
        {
            [$"{module}/__init__.py"] = $"__version__ = '{version}'\n",
        }, requiresDist, tag, requiresPython, withMetadata);
        var filename = WheelBuilder.FileName(project, version, tag);
        AddFile(project, filename, content, requiresPython: requiresPython, yanked: yanked);
        return filename;
    }

    /// <summary>Lists a file under a project.</summary>
    /// <param name="statedSha256">The hash the index states; the file's real hash when null.</param>
    /// <param name="withHash">False to state no hash at all.</param>
    public void AddFile(string project, string filename, byte[] content, string? statedSha256 = null, bool withHash = true, string? requiresPython = null, bool yanked = false)
    {
        _files[filename] = content;
        var hash = withHash ? statedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(content)) : null;
        _projects.GetOrAdd(Canonical(project), _ => new()).Enqueue(new Listing(filename, hash, requiresPython, yanked, content.Length));
    }

    /// <summary>Answers the project's page with an error status.</summary>
    public void Fail(string project, HttpStatusCode status) => _failures[Canonical(project)] = status;

    /// <summary>Answers the project's page only after a delay.</summary>
    public void Delay(string project, TimeSpan delay) => _delays[Canonical(project)] = delay;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _serving;
        }
        catch (ObjectDisposedException)
        {
        }

        _stopping.Dispose();
    }

    private static string Canonical(string project) => Separators().Replace(project, "-").ToLowerInvariant();

    private async Task ServeAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var path = context.Request.Url!.AbsolutePath;
            Requests.Enqueue(path);
            var page = ProjectPath().Match(path);
            if (page.Success)
            {
                var project = Canonical(page.Groups["project"].Value);
                if (_delays.TryGetValue(project, out var delay))
                {
                    await Task.Delay(delay, _stopping.Token);
                }

                if (_failures.TryGetValue(project, out var status))
                {
                    response.StatusCode = (int)status;
                }
                else if (!_projects.TryGetValue(project, out var listings))
                {
                    response.StatusCode = 404;
                }
                else
                {
                    var json = !HtmlOnly && (context.Request.Headers["Accept"] ?? string.Empty).Contains("application/vnd.pypi.simple.v1+json", StringComparison.Ordinal);
                    await WriteAsync(response, json ? "application/vnd.pypi.simple.v1+json" : "text/html", json ? JsonPage(project, listings) : HtmlPage(project, listings));
                }
            }
            else if (path.StartsWith("/files/", StringComparison.Ordinal) && _files.TryGetValue(Uri.UnescapeDataString(path["/files/".Length..]), out var content))
            {
                response.ContentType = "application/octet-stream";
                response.ContentLength64 = content.Length;
                await response.OutputStream.WriteAsync(content);
            }
            else
            {
                response.StatusCode = 404;
            }
        }
        catch (Exception ex) when (ex is HttpListenerException or OperationCanceledException or ObjectDisposedException)
        {
            return;
        }

        try
        {
            response.Close();
        }
        catch (HttpListenerException)
        {
        }
    }

    private static async Task WriteAsync(HttpListenerResponse response, string contentType, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentType = contentType;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }

    // File URLs are relative to the page, as real indexes often make them.
    private static string JsonPage(string project, IEnumerable<Listing> listings) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["meta"] = new Dictionary<string, string> { ["api-version"] = "1.0" },
        ["name"] = project,
        ["files"] = listings.Select(l => new Dictionary<string, object?>
        {
            ["filename"] = l.Filename,
            ["url"] = $"../../files/{Uri.EscapeDataString(l.Filename)}",
            ["hashes"] = l.Sha256 is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["sha256"] = l.Sha256 },
            ["requires-python"] = l.RequiresPython,
            ["yanked"] = l.Yanked,
            ["size"] = l.Size,
        }).ToList(),
    });

    private static string HtmlPage(string project, IEnumerable<Listing> listings)
    {
        var html = new StringBuilder($"<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for {project}</title></head><body><h1>Links for {project}</h1>\n");
        foreach (var listing in listings)
        {
            var href = $"../../files/{Uri.EscapeDataString(listing.Filename)}{(listing.Sha256 is null ? string.Empty : "#sha256=" + listing.Sha256)}";
            html.Append($"<a href=\"{WebUtility.HtmlEncode(href)}\"");
            if (listing.RequiresPython is not null)
            {
                html.Append($" data-requires-python=\"{WebUtility.HtmlEncode(listing.RequiresPython)}\"");
            }

            if (listing.Yanked)
            {
                html.Append(" data-yanked=\"\"");
            }

            html.Append($">{WebUtility.HtmlEncode(listing.Filename)}</a><br/>\n");
        }

        return html.Append("</body></html>\n").ToString();
    }

    [GeneratedRegex("^/simple/(?<project>[^/]+)/?$", RegexOptions.ExplicitCapture)]
    private static partial Regex ProjectPath();

    [GeneratedRegex("[-_.]+")]
    private static partial Regex Separators();

    private sealed record Listing(string Filename, string? Sha256, string? RequiresPython, bool Yanked, long Size);
}
