using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>
/// What the server exports: spans, metrics and logs to an OTLP endpoint and to Application Insights, and never code or
/// output unless told to. The receivers here stand in for a collector and for Application Insights' ingestion
/// endpoint, which have no local equivalent; they only record what arrives.
/// </summary>
public sealed class TelemetryTests
{
    private const string Key = "telemetry-key-0123456789";
    private const string Secret = "TOPSECRET-4711";

    [Fact]
    public async Task Application_insights_receives_requests_executions_storage_metrics_and_logs_without_code()
    {
        await using var ingestion = await TelemetryReceiver.StartAsync();
        await using var server = await ServerProcess.StartAsync(Settings(new()
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = $"InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint={ingestion.BaseAddress}",
        }));
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);

        await client.OkAsync("execute_code", new { code = $"token = '{Secret}'\nprint(token)" });

        var items = await ingestion.WaitForAsync(
            () => ingestion.JsonItems().ToList(),
            all => all.Any(i => Metric(i) == "sandbox.execution.duration")
                && all.Any(i => Metric(i) == "sandbox.tool.calls")
                && all.Any(i => Name(i) == "session.save")
                && all.Any(i => Type(i) == "MessageData")
                && all.Any(e => Name(e) == "sandbox.execution" && all.Any(r => Type(r) == "RequestData" && OperationId(r) == OperationId(e))),
            server);
        Assert.All(items, i => Assert.Equal("11111111-2222-3333-4444-555555555555", i.GetProperty("iKey").GetString()));
        Assert.All(ingestion.Paths, p => Assert.Equal("/v2.1/track", p));

        var execution = Assert.Single(items, i => Name(i) == "sandbox.execution");
        // The HTTP request, and the MCP SDK's span of the tool call inside it.
        var request = Assert.Single(items, i => Type(i) == "RequestData" && Name(i) == "POST /mcp" && OperationId(i) == OperationId(execution));
        Assert.Equal("200", Data(request).GetProperty("responseCode").GetString());
        Assert.Equal(new Uri(server.McpEndpoint.GetLeftPart(UriPartial.Path)), new Uri(Data(request).GetProperty("url").GetString()!));
        Assert.Single(items, i => Type(i) == "RequestData" && Name(i) == "tools/call execute_code" && OperationId(i) == OperationId(execution));
        Assert.Equal("RemoteDependencyData", Type(execution));
        Assert.Equal("python", Property(execution, "sandbox.runtime"));
        Assert.Equal("small", Property(execution, "sandbox.flavor"));
        Assert.Equal("ok", Property(execution, "sandbox.status"));
        Assert.Contains(items, i => Name(i) == "session.save" && long.Parse(Property(i, "sandbox.session.snapshot.size")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Contains(items, i => Metric(i) == "sandbox.tool.calls");
        Assert.Contains(items, i => Type(i) == "MessageData" && Data(i).GetProperty("message").GetString()!.Length > 0);
        Assert.DoesNotContain(Secret, ingestion.AllText(), StringComparison.Ordinal);
        Assert.DoesNotContain(Key, ingestion.AllText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Otlp_receives_spans_metrics_and_logs_and_code_only_when_enabled(bool includeCode)
    {
        await using var collector = await TelemetryReceiver.StartAsync();
        await using var server = await ServerProcess.StartAsync(Settings(new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseAddress.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["Telemetry__IncludeCode"] = includeCode ? "true" : "false",
        }));
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);

        await client.OkAsync("execute_code", new { language = "javascript", code = $"const token = '{Secret}'; console.log(token)" });

        // Spans and metrics leave in separate batches; only the execution span carries sandbox.status.
        await collector.WaitForAsync(
            () => (Traces: collector.TextOf("/v1/traces"), Metrics: collector.TextOf("/v1/metrics"), Logs: collector.TextOf("/v1/logs")),
            sent => sent.Traces.Contains("sandbox.status", StringComparison.Ordinal)
                && sent.Metrics.Contains("sandbox.execution.duration", StringComparison.Ordinal)
                && sent.Logs.Length > 0,
            server);
        Assert.Contains("/v1/traces", collector.Paths);
        Assert.Contains("/v1/metrics", collector.Paths);
        var traces = collector.TextOf("/v1/traces");
        Assert.Contains("sandbox.runtime", traces, StringComparison.Ordinal);
        Assert.Contains("javascript", traces, StringComparison.Ordinal);
        Assert.Equal(includeCode, traces.Contains(Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(Key, collector.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_entra_authentication_telemetry_carries_the_managed_identity_token()
    {
        // The exporter sends bearer tokens over HTTPS only, so the ingestion endpoint gets a certificate the server trusts.
        using var certificate = LoopbackCertificate();
        var trusted = Path.Combine(Directory.CreateTempSubdirectory("telemetry-ca-").FullName, "loopback.pem");
        await File.WriteAllTextAsync(trusted, certificate.ExportCertificatePem());
        await using var ingestion = await TelemetryReceiver.StartAsync(certificate);
        await using var identity = await ManagedIdentityEndpoint.StartAsync();
        await using var server = await ServerProcess.StartAsync(Settings(new()
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = $"InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint={ingestion.BaseAddress}",
            ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Authorization=AAD;ClientId=22222222-3333-4444-5555-666666666666",
            ["IDENTITY_ENDPOINT"] = identity.Address.ToString(),
            ["IDENTITY_HEADER"] = ManagedIdentityEndpoint.Header,
            ["SSL_CERT_FILE"] = trusted,
        }));
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);

        await client.OkAsync("execute_code", new { code = "1 + 1" });

        await ingestion.WaitForAsync(() => ingestion.JsonItems().ToList(), all => all.Any(i => Name(i) == "sandbox.execution"), server);
        Assert.All(ingestion.Authorizations, a => Assert.Equal($"Bearer {ManagedIdentityEndpoint.Token}", a));
        Assert.Contains(identity.Requests, q => q["client_id"] == "22222222-3333-4444-5555-666666666666" && q["resource"].ToString().StartsWith("https://monitor.azure.com", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_connection_string_without_an_instrumentation_key_stops_the_server_with_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(Settings(new()
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "IngestionEndpoint=https://ingestion.example/",
        })));

        Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_authentication_string_of_an_unknown_kind_stops_the_server_with_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(Settings(new()
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=https://ingestion.example/",
            ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Authorization=Basic",
        })));

        Assert.Contains("Authorization=AAD", error.Message, StringComparison.Ordinal);
    }

    private static X509Certificate2 LoopbackCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));

        // Kestrel needs the key in a form it can load on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }

    private static Dictionary<string, string?> Settings(Dictionary<string, string?> extra)
    {
        extra["Auth__FunctionKeys"] = Key;
        extra["OTEL_METRIC_EXPORT_INTERVAL"] = "500";
        extra["OTEL_BSP_SCHEDULE_DELAY"] = "200";
        return extra;
    }

    private static JsonElement Data(JsonElement item) => item.GetProperty("data").GetProperty("baseData");

    private static string? Type(JsonElement item) => item.GetProperty("data").GetProperty("baseType").GetString();

    private static string? Name(JsonElement item) => Data(item).TryGetProperty("name", out var name) ? name.GetString() : null;

    private static string? OperationId(JsonElement item) => item.GetProperty("tags").GetProperty("ai.operation.id").GetString();

    private static string? Metric(JsonElement item) =>
        Type(item) == "MetricData" ? Data(item).GetProperty("metrics")[0].GetProperty("name").GetString() : null;

    private static string? Property(JsonElement item, string name) =>
        Data(item).TryGetProperty("properties", out var properties) && properties.TryGetProperty(name, out var value) ? value.GetString() : null;

    /// <summary>
    /// An endpoint on loopback, plain HTTP or HTTPS with a certificate made for the test, that accepts any POST and
    /// keeps its path, Authorization header and (decompressed) body.
    /// </summary>
    private sealed class TelemetryReceiver : IAsyncDisposable
    {
        private readonly ConcurrentQueue<(string Path, string? Authorization, byte[] Body)> _received = new();
        private readonly WebApplication _app;

        private TelemetryReceiver(WebApplication app, Uri baseAddress)
        {
            _app = app;
            BaseAddress = baseAddress;
        }

        public Uri BaseAddress { get; }

        public IReadOnlyList<string> Paths => [.. _received.Select(r => r.Path)];

        public IReadOnlyList<string?> Authorizations => [.. _received.Select(r => r.Authorization)];

        public static async Task<TelemetryReceiver> StartAsync(X509Certificate2? certificate = null)
        {
            var port = FreePort.Next();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            }));
            var app = builder.Build();
            var receiver = new TelemetryReceiver(app, new Uri($"{(certificate is null ? "http" : "https")}://127.0.0.1:{port}/"));
            app.MapPost("/{**path}", receiver.ReceiveAsync);
            await app.StartAsync();
            return receiver;
        }

        public string AllText() => string.Concat(_received.Select(r => Encoding.UTF8.GetString(r.Body)));

        public string TextOf(string path) => string.Concat(_received.Where(r => r.Path == path).Select(r => Encoding.UTF8.GetString(r.Body)));

        /// <summary>The telemetry items posted to Application Insights' track endpoint, one JSON object per line.</summary>
        public IEnumerable<JsonElement> JsonItems() =>
            _received.Where(r => r.Path == "/v2.1/track")
                .SelectMany(r => Encoding.UTF8.GetString(r.Body).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                .Select(line => JsonDocument.Parse(line).RootElement.Clone());

        public async Task<T> WaitForAsync<T>(Func<T> read, Func<T, bool> done, ServerProcess server)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                var value = read();
                if (done(value))
                {
                    return value;
                }

                await Task.Delay(200);
            }

            throw new TimeoutException($"The expected telemetry did not arrive. Received {_received.Count} posts to {string.Join(", ", Paths.Distinct())}. Server output:\n{server.Output}");
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();

        private async Task ReceiveAsync(HttpContext context)
        {
            using var body = new MemoryStream();
            var encoding = context.Request.Headers.ContentEncoding.ToString();
            await using (var content = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase)
                ? new GZipStream(context.Request.Body, CompressionMode.Decompress)
                : context.Request.Body)
            {
                await content.CopyToAsync(body);
            }

            _received.Enqueue((context.Request.Path.Value!, context.Request.Headers.Authorization.FirstOrDefault(), body.ToArray()));
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"itemsReceived":0,"itemsAccepted":0,"errors":[]}""");
        }
    }

    /// <summary>
    /// The token endpoint that App Service and Azure Functions give a managed identity (IDENTITY_ENDPOINT, guarded by
    /// IDENTITY_HEADER); there is no Microsoft Entra ID here, so it hands out a fixed token and records who asked.
    /// </summary>
    private sealed class ManagedIdentityEndpoint : IAsyncDisposable
    {
        public const string Header = "identity-header-for-tests";
        public const string Token = "token-for-the-monitor-scope";

        private readonly ConcurrentQueue<IQueryCollection> _requests = new();
        private readonly WebApplication _app;

        private ManagedIdentityEndpoint(WebApplication app, Uri address)
        {
            _app = app;
            Address = address;
        }

        public Uri Address { get; }

        public IReadOnlyList<IQueryCollection> Requests => [.. _requests];

        public static async Task<ManagedIdentityEndpoint> StartAsync()
        {
            var port = FreePort.Next();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            var app = builder.Build();
            var endpoint = new ManagedIdentityEndpoint(app, new Uri($"http://127.0.0.1:{port}/msi/token"));
            app.MapGet("/msi/token", (HttpContext context) =>
            {
                if (context.Request.Headers["X-IDENTITY-HEADER"] != Header)
                {
                    return Results.StatusCode(StatusCodes.Status401Unauthorized);
                }

                endpoint._requests.Enqueue(context.Request.Query);
                return Results.Json(new Dictionary<string, string>
                {
                    ["access_token"] = Token,
                    ["expires_on"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                    ["resource"] = context.Request.Query["resource"].ToString(),
                    ["token_type"] = "Bearer",
                    ["client_id"] = context.Request.Query["client_id"].ToString(),
                });
            });
            await app.StartAsync();
            return endpoint;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
