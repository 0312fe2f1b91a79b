using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>
/// What the server exports: spans and metrics to an OTLP endpoint and to Application Insights, and never code or
/// output unless told to. The receivers here stand in for a collector and for Application Insights' ingestion
/// endpoint, which have no local equivalent; they only record what arrives.
/// </summary>
public sealed class TelemetryTests
{
    private const string Key = "telemetry-key-0123456789";
    private const string Secret = "TOPSECRET-4711";

    [Fact]
    public async Task Application_insights_receives_requests_executions_storage_and_metrics_without_code()
    {
        await using var ingestion = TelemetryReceiver.Start();
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
                && all.Any(e => Name(e) == "sandbox.execution" && all.Any(r => Type(r) == "RequestData" && OperationId(r) == OperationId(e))),
            server);
        Assert.All(items, i => Assert.Equal("11111111-2222-3333-4444-555555555555", i.GetProperty("iKey").GetString()));
        Assert.All(ingestion.Paths, p => Assert.Equal("/v2.1/track", p));

        var execution = Assert.Single(items, i => Name(i) == "sandbox.execution");
        var request = Assert.Single(items, i => Type(i) == "RequestData" && OperationId(i) == OperationId(execution));
        Assert.Equal("POST /mcp", Name(request));
        Assert.Equal("200", Data(request).GetProperty("responseCode").GetString());
        Assert.Equal("RemoteDependencyData", Type(execution));
        Assert.Equal("python", Property(execution, "sandbox.runtime"));
        Assert.Equal("small", Property(execution, "sandbox.flavor"));
        Assert.Equal("ok", Property(execution, "sandbox.status"));
        Assert.Contains(items, i => Name(i) == "session.save" && long.Parse(Property(i, "sandbox.session.snapshot.size")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Contains(items, i => Metric(i) == "sandbox.tool.calls");
        Assert.DoesNotContain(Secret, ingestion.AllText(), StringComparison.Ordinal);
        Assert.DoesNotContain(Key, ingestion.AllText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Otlp_receives_spans_and_metrics_and_code_only_when_enabled(bool includeCode)
    {
        await using var collector = TelemetryReceiver.Start();
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
            () => (Traces: collector.TextOf("/v1/traces"), Metrics: collector.TextOf("/v1/metrics")),
            sent => sent.Traces.Contains("sandbox.status", StringComparison.Ordinal)
                && sent.Metrics.Contains("sandbox.execution.duration", StringComparison.Ordinal),
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
    public async Task A_connection_string_without_an_ingestion_endpoint_stops_the_server_with_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(Settings(new()
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=11111111-2222-3333-4444-555555555555",
        })));

        Assert.Contains("IngestionEndpoint", error.Message, StringComparison.Ordinal);
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

    /// <summary>An HTTP endpoint on loopback that accepts any POST and keeps its path and body.</summary>
    private sealed class TelemetryReceiver : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();
        private readonly Task _loop;

        private TelemetryReceiver(int port)
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(BaseAddress.ToString());
            _listener.Start();
            _loop = Task.Run(AcceptAsync);
        }

        public Uri BaseAddress { get; }

        public IReadOnlyList<string> Paths => [.. _received.Select(r => r.Path)];

        public static TelemetryReceiver Start() => new(FreePort.Next());

        public string AllText() => string.Concat(_received.Select(r => Encoding.UTF8.GetString(r.Body)));

        public string TextOf(string path) => string.Concat(_received.Where(r => r.Path == path).Select(r => Encoding.UTF8.GetString(r.Body)));

        public IEnumerable<JsonElement> JsonItems() =>
            _received.SelectMany(r => JsonDocument.Parse(r.Body).RootElement.EnumerateArray().Select(e => e.Clone()));

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

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop.ConfigureAwait(false);
        }

        private async Task AcceptAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                _received.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync("""{"itemsReceived":0,"itemsAccepted":0,"errors":[]}"""u8.ToArray());
                context.Response.Close();
            }
        }
    }
}
