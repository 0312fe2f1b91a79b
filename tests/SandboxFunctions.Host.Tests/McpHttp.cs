using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SandboxFunctions.Host.Tests;

/// <summary>Raw HTTP requests to the MCP endpoint, for what an SDK client would never send.</summary>
internal static class McpHttp
{
    public const string BothAccepted = "application/json, text/event-stream";

    public static HttpRequestMessage Post(Uri endpoint, string body, string? key = KeyedServerFixture.Key, string accept = BothAccepted, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (key is not null)
        {
            request.Headers.Add("x-functions-key", key);
        }

        return request;
    }

    public static string Request(string method, object? parameters = null, int id = 1) =>
        new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = id,
            ["method"] = method,
            ["params"] = parameters is null ? new JsonObject() : JsonSerializer.SerializeToNode(parameters),
        }.ToJsonString();

    /// <summary>
    /// Reads an event stream until its first progress notification, from when on the call is known to be running;
    /// fails the test when the stream ends first.
    /// </summary>
    public static async Task ReadUntilProgressAsync(StreamReader events)
    {
        string? line;
        while ((line = await events.ReadLineAsync()) is not null && !line.Contains("notifications/progress", StringComparison.Ordinal))
        {
        }

        Assert.True(line is not null, "The event stream ended before any progress notification.");
    }

    /// <summary>Reads a JSON-RPC message from a JSON or event-stream response.</summary>
    public static async Task<JsonElement> ReadMessageAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            text = text.Split('\n').Last(line => line.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        }

        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
