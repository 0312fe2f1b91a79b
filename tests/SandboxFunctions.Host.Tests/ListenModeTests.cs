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
