using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Identity;

namespace SandboxFunctions.Host.Telemetry;

/// <summary>
/// Sends telemetry items to the Application Insights ingestion endpoint (<c>v2.1/track</c>), signed with a managed
/// identity token when the resource requires Microsoft Entra authentication. Exporters call it from their own
/// background thread, so it blocks.
/// </summary>
internal sealed class ApplicationInsightsIngestion : IDisposable
{
    private static readonly string[] Scopes = ["https://monitor.azure.com//.default"];

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Uri _track;
    private readonly TokenCredential? _credential;

    public ApplicationInsightsIngestion(ApplicationInsightsConnection connection)
    {
        _track = new Uri(connection.IngestionEndpoint, "v2.1/track");
        _credential = connection.UseEntraId
            ? new ManagedIdentityCredential(connection.ClientId is { } clientId ? ManagedIdentityId.FromUserAssignedClientId(clientId) : ManagedIdentityId.SystemAssigned)
            : null;
    }

    /// <summary>Sends the items; false when the endpoint did not take them (they are dropped, never retried forever).</summary>
    public bool Send(IReadOnlyList<JsonObject> items)
    {
        if (items.Count == 0)
        {
            return true;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _track)
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new JsonArray([.. items])))
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
            },
        };
        try
        {
            if (_credential is not null)
            {
                var token = _credential.GetToken(new TokenRequestContext(Scopes), CancellationToken.None);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
            }

            using var response = _http.Send(request);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or AuthenticationFailedException)
        {
            return false;
        }
    }

    public void Dispose() => _http.Dispose();
}
