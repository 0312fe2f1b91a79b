using System.Text;
using Azure.Storage.Queues;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SandboxFunctions.Host.Tests;
using SandboxFunctions.Sessions;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Functions.Tests;

/// <summary>
/// The Functions app as its Program composes it, over Azurite, with each function class invoked in this process:
/// the HTTP ones behind a real HTTP listener on loopback (as the Functions host forwards requests to the worker),
/// the timer and queue ones with the payloads the host would hand them. Nothing takes jobs from the queue but the
/// tests, as in Azure, where only the host does.
/// </summary>
public sealed class FunctionsAppFixture : IAsyncLifetime
{
    public const string Key = "functions-key-for-tests-0123";
    public const string OtherKey = "functions-key-for-others-9876";

    public static readonly string SigningKey = Convert.ToBase64String("signing-key-for-tests-32-bytes!!"u8);

    private AzuriteProcess? _azurite;
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public Uri McpEndpoint => new(BaseAddress, "/mcp");

    public IServiceProvider Services => App.Services;

    internal AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite has not started.");

    private WebApplication App => _app ?? throw new InvalidOperationException("The app has not started.");

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteProcess.StartAsync();
        var port = FreePort.Next();
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SessionStorage"] = _azurite.ConnectionString,
            ["Snapshots:SigningKey"] = SigningKey,
            ["Sessions:ReapSchedule"] = "0 */5 * * * *",
        });
        builder.WebHost.UseUrls(BaseAddress.ToString());
        builder.AddSandboxFunctions();

        _app = builder.Build();
        _app.MapMethods("/mcp", [HttpMethods.Get, HttpMethods.Post, HttpMethods.Delete], (HttpContext context) => Function<McpFunction>(context.RequestServices).RunAsync(context.Request));
        _app.MapGet("/health", (Func<HttpContext, Task<IResult>>)(context => Function<HealthFunction>(context.RequestServices).RunAsync(context.Request)));
        await _app.StartAsync();
    }

    /// <summary>A function class as the worker creates one for each invocation.</summary>
    public T Function<T>()
        where T : notnull => Function<T>(Services);

    internal Task<ToolClient> ConnectAsync(string key = Key) => ToolClient.ConnectAsync(McpEndpoint, key);

    /// <summary>The job messages waiting in the jobs queue, taken as the Functions host takes them and decoded as it decodes them (base64).</summary>
    public async Task<IReadOnlyList<(string Text, long DequeueCount)>> TakeQueuedAsync(string queue = JobStore.QueueName)
    {
        var client = Queue(queue);
        var received = await client.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5));
        return [.. received.Value.Select(m => (Encoding.UTF8.GetString(Convert.FromBase64String(m.Body.ToString())), m.DequeueCount))];
    }

    /// <summary>Puts a message on a queue base64-encoded, as the app and the host's default encoding expect.</summary>
    public async Task PutAsync(string queue, string text)
    {
        var client = Queue(queue);
        await client.CreateIfNotExistsAsync();
        await client.SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(text)));
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }

    // The emulator refuses service versions newer than it knows.
    private QueueClient Queue(string name) =>
        new(Azurite.ConnectionString, name, new QueueClientOptions(QueueClientOptions.ServiceVersion.V2024_11_04));

    private static T Function<T>(IServiceProvider services)
        where T : notnull => ActivatorUtilities.CreateInstance<T>(services);
}
