using System.Net;
using System.Net.Http;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

public sealed class ListenModeTests
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task Without_keys_the_server_says_so_and_stays_on_loopback()
    {
        var port = FreePort.Next();
        await using var server = await ServerProcess.StartAsync(urls: $"http://0.0.0.0:{port}");

        Assert.Contains("listens on loopback only", server.Output, StringComparison.Ordinal);
        Assert.Contains($"Now listening on: http://127.0.0.1:{port}", server.Output, StringComparison.Ordinal);
        using var response = await Http.SendAsync(McpHttp.Post(server.McpEndpoint, McpHttp.Request("tools/list"), key: null));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Under_the_functions_host_it_listens_on_the_port_it_is_given()
    {
        var port = FreePort.Next();
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string?>
        {
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        Assert.Contains("Azure Functions custom handler", server.Output, StringComparison.Ordinal);
        Assert.Equal(port, server.BaseAddress.Port);
        using var response = await Http.SendAsync(McpHttp.Post(server.McpEndpoint, McpHttp.Request("tools/list"), key: "any-key-the-host-accepted"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_timer_trigger_invocation_reaps_and_answers_in_the_custom_handler_format()
    {
        var port = FreePort.Next();
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string?>
        {
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // The shape the Functions host posts for a timer trigger named "reaper".
        using var invocation = new StringContent(
            """{"Data":{"timer":{"Schedule":{},"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"reaper","UtcNow":"2026-01-01T00:00:00Z","RandGuid":"00000000-0000-0000-0000-000000000000"}}}""",
            System.Text.Encoding.UTF8,
            "application/json");
        using var response = await Http.PostAsync(new Uri(server.BaseAddress, "/reaper"), invocation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(System.Text.Json.JsonValueKind.Object, body.RootElement.GetProperty("Outputs").ValueKind);
        Assert.StartsWith("Reaped 0 expired sessions", body.RootElement.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Standalone_the_trigger_routes_do_not_exist()
    {
        await using var server = await ServerProcess.StartAsync();

        using var response = await Http.PostAsync(new Uri(server.BaseAddress, "/reaper"), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Unreachable_storage_makes_health_degraded()
    {
        var notAFolder = Path.GetTempFileName();
        await using var server = await ServerProcess.StartAsync(dataPath: notAFolder, requireHealthy: false);

        using var response = await Http.GetAsync(new Uri(server.BaseAddress, "/health"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("\"degraded\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
