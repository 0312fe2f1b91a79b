using System.Net;
using System.Net.Http;
using System.Text.Json;

namespace SandboxFunctions.Host.Tests;

[Collection(KeyedServers.Name)]
public sealed class HttpProtocolTests(KeyedServerFixture fixture)
{
    private static readonly HttpClient Http = new();

    private Uri Endpoint => fixture.Server.McpEndpoint;

    [Fact]
    public async Task Missing_key_is_401_with_a_json_rpc_body_and_no_stack_trace()
    {
        using var response = await Http.SendAsync(McpHttp.Post(Endpoint, McpHttp.Request("tools/list"), key: null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await McpHttp.ReadMessageAsync(response);
        Assert.Equal(-32001, body.GetProperty("error").GetProperty("code").GetInt32());
        var message = body.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("x-functions-key", message, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_key_is_401()
    {
        using var response = await Http.SendAsync(McpHttp.Post(Endpoint, McpHttp.Request("tools/list"), key: "not-a-key"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await McpHttp.ReadMessageAsync(response);
        Assert.Contains("not valid", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_in_the_code_query_parameter_is_accepted()
    {
        var endpoint = new Uri($"{Endpoint}?code={Uri.EscapeDataString(KeyedServerFixture.OtherKey)}");
        using var response = await Http.SendAsync(McpHttp.Post(endpoint, McpHttp.Request("tools/list"), key: null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await McpHttp.ReadMessageAsync(response);
        Assert.True(body.GetProperty("result").GetProperty("tools").GetArrayLength() > 0);
    }

    [Theory]
    [InlineData("https://evil.example", HttpStatusCode.Forbidden)]
    [InlineData("http://localhost.evil.example:7071", HttpStatusCode.Forbidden)]
    [InlineData("https://allowed.example", HttpStatusCode.OK)]
    [InlineData("http://localhost:6274", HttpStatusCode.OK)]
    [InlineData("http://127.0.0.1:3000", HttpStatusCode.OK)]
    public async Task Origin_is_checked(string origin, HttpStatusCode expected)
    {
        var request = McpHttp.Post(Endpoint, McpHttp.Request("tools/list"));
        request.Headers.Add("Origin", origin);
        using var response = await Http.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            var body = await McpHttp.ReadMessageAsync(response);
            Assert.Contains("Mcp:AllowedOrigins", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Malformed_json_is_a_parse_error()
    {
        using var response = await Http.SendAsync(McpHttp.Post(Endpoint, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": "));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await McpHttp.ReadMessageAsync(response);
        Assert.Equal(-32700, body.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Json_that_is_not_a_message_is_an_invalid_request()
    {
        using var batch = await Http.SendAsync(McpHttp.Post(Endpoint, $"[{McpHttp.Request("tools/list")}]"));
        using var notMessage = await Http.SendAsync(McpHttp.Post(Endpoint, "{\"hello\": \"world\"}"));

        var batchBody = await McpHttp.ReadMessageAsync(batch);
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        Assert.Equal(-32600, batchBody.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("batches", batchBody.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, notMessage.StatusCode);
        Assert.Equal(-32600, (await McpHttp.ReadMessageAsync(notMessage)).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Unknown_method_is_method_not_found()
    {
        var request = McpHttp.Post(Endpoint, McpHttp.Request("tools/teleport", id: 7));
        request.Headers.Add("MCP-Protocol-Version", "2025-06-18");
        using var response = await Http.SendAsync(request);

        var body = await McpHttp.ReadMessageAsync(response);
        Assert.Equal(-32601, body.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(7, body.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Unknown_method_on_the_per_request_revision_is_404()
    {
        var request = McpHttp.Post(Endpoint, McpHttp.Request("tools/teleport", PerRequestParams("2026-07-28")));
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(-32601, (await McpHttp.ReadMessageAsync(response)).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Per_request_revision_requires_its_metadata()
    {
        var request = McpHttp.Post(Endpoint, McpHttp.Request("tools/list"));
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await McpHttp.ReadMessageAsync(response);
        Assert.Equal(-32602, body.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("protocolVersion", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsupported_protocol_version_is_400_listing_the_supported_ones()
    {
        var request = McpHttp.Post(Endpoint, McpHttp.Request("tools/list"));
        request.Headers.Add("MCP-Protocol-Version", "1999-01-01");
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await McpHttp.ReadMessageAsync(response)).GetProperty("error");
        var supported = error.GetProperty("data").GetProperty("supported").EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.Contains("2025-06-18", supported);
        Assert.Contains("2026-07-28", supported);
        Assert.Equal("1999-01-01", error.GetProperty("data").GetProperty("requested").GetString());
    }

    [Fact]
    public async Task Oversized_body_is_413_with_the_limit_named()
    {
        var padding = new string('x', 70_000);
        using var response = await Http.SendAsync(McpHttp.Post(Endpoint, McpHttp.Request("tools/list", new { padding })));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var message = (await McpHttp.ReadMessageAsync(response)).GetProperty("error").GetProperty("message").GetString();
        Assert.Contains("65536", message, StringComparison.Ordinal);
        Assert.Contains("Mcp:MaxRequestBodyBytes", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accept_and_content_type_are_negotiated()
    {
        using var html = await Http.SendAsync(McpHttp.Post(Endpoint, McpHttp.Request("tools/list"), accept: "text/html"));
        using var text = await Http.SendAsync(McpHttp.Post(Endpoint, McpHttp.Request("tools/list"), contentType: "text/plain"));

        Assert.Equal(HttpStatusCode.NotAcceptable, html.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
    }

    [Fact]
    public async Task Tool_calls_stream_events_unless_only_json_is_accepted()
    {
        var call = McpHttp.Request("tools/call", new { name = "list_runtimes", arguments = new { } });
        using var streamed = await Http.SendAsync(McpHttp.Post(Endpoint, call));
        using var plain = await Http.SendAsync(McpHttp.Post(Endpoint, call, accept: "application/json"));
        using var listed = await Http.SendAsync(McpHttp.Post(Endpoint, McpHttp.Request("tools/list")));

        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
        Assert.Equal("application/json", plain.Content.Headers.ContentType?.MediaType);
        Assert.Equal("application/json", listed.Content.Headers.ContentType?.MediaType);
        foreach (var response in new[] { streamed, plain })
        {
            var body = await McpHttp.ReadMessageAsync(response);
            Assert.True(body.GetProperty("result").TryGetProperty("structuredContent", out _));
        }
    }

    [Fact]
    public async Task Notifications_are_accepted_with_202_and_no_body()
    {
        using var response = await Http.SendAsync(McpHttp.Post(Endpoint, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task Get_and_delete_are_405_because_the_server_is_stateless(string method)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), Endpoint);
        request.Headers.Add("x-functions-key", KeyedServerFixture.Key);
        request.Headers.Add("Accept", "text/event-stream");
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("POST", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Session_id_header_is_refused()
    {
        var request = McpHttp.Post(Endpoint, McpHttp.Request("tools/list"));
        request.Headers.Add("Mcp-Session-Id", "abc");
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("stateless", (await McpHttp.ReadMessageAsync(response)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_reports_status_version_runtimes_and_storage_without_secrets()
    {
        using var response = await Http.GetAsync(new Uri(fixture.Server.BaseAddress, "/health"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var health = JsonDocument.Parse(text).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(health.GetProperty("version").GetString()));
        Assert.Equal(JsonValueKind.Array, health.GetProperty("runtimes").ValueKind);
        Assert.Equal("file", health.GetProperty("storage").GetProperty("kind").GetString());
        Assert.True(health.GetProperty("storage").GetProperty("reachable").GetBoolean());
        Assert.DoesNotContain(KeyedServerFixture.Key, text, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Server.DataPath, text, StringComparison.Ordinal);
    }

    private static Dictionary<string, object> PerRequestParams(string version) => new Dictionary<string, object>
    {
        ["_meta"] = new Dictionary<string, object>
        {
            ["io.modelcontextprotocol/protocolVersion"] = version,
            ["io.modelcontextprotocol/clientCapabilities"] = new { },
        },
    };
}
