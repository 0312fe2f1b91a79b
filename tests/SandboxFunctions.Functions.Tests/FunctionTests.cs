using System.Net;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Host.Tests;
using SandboxFunctions.Testing;
using SandboxFunctions.Tools.Jobs;

namespace SandboxFunctions.Functions.Tests;

/// <summary>
/// Each function of the Functions app doing its work: MCP over the HTTP trigger with the official C# client,
/// progress streaming included; health; the reaper on a timer tick; jobs and their poison queue with the messages
/// the app put on Azurite's queues.
/// </summary>
public sealed class FunctionTests(FunctionsAppFixture app) : IClassFixture<FunctionsAppFixture>
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task The_mcp_function_serves_the_official_client_and_streams_output_as_it_runs()
    {
        await using var client = await app.ConnectAsync();
        var tools = await client.Client.ListToolsAsync();
        var progress = new List<string>();

        var result = await client.Client.CallToolAsync(
            "execute_code",
            new Dictionary<string, object?> { ["code"] = "import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.2)\n6 * 7" },
            new Progress<ProgressNotificationValue>(p => { lock (progress) { progress.Add(p.Message ?? string.Empty); } }));

        Assert.Contains(tools, t => t.Name == "execute_code");
        Assert.True(result.IsError is not true);
        Assert.Equal("42", result.StructuredContent!.Value.GetProperty("result").GetProperty("repr").GetString());
        Assert.Contains("tick 2", string.Concat(progress), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_created_through_the_function_belong_to_the_key_the_host_accepted()
    {
        await using var alice = await app.ConnectAsync(FunctionsAppFixture.Key);
        await using var bob = await app.ConnectAsync(FunctionsAppFixture.OtherKey);
        var session = (await alice.OkAsync("execute_code", new { code = "secret = 1" })).GetProperty("session_id").GetString()!;

        await bob.FailsAsync("execute_code", new { session_id = session, code = "secret" }, "SESSION_NOT_FOUND");
        var owner = new OwnerIds(Options.Create(new OwnerIdOptions())).FromKey(FunctionsAppFixture.Key);
        Assert.NotNull(await app.Services.GetRequiredService<SessionStore>().GetAsync(owner, session));
    }

    [Fact]
    public async Task The_mcp_function_refuses_other_methods_and_foreign_origins()
    {
        using var get = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, app.McpEndpoint));
        using var foreign = new HttpRequestMessage(HttpMethod.Post, app.McpEndpoint)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        foreign.Headers.Add("Origin", "https://evil.example");
        foreign.Headers.Add("Accept", "application/json, text/event-stream");
        using var refused = await Http.SendAsync(foreign);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task The_health_function_reports_the_runtimes_and_reachable_storage()
    {
        using var response = await Http.GetAsync(new Uri(app.BaseAddress, "/health"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("azure", body.RootElement.GetProperty("storage").GetProperty("kind").GetString());
        Assert.Contains("python", body.RootElement.GetProperty("runtimes").EnumerateArray().Select(r => r.GetProperty("language").GetString()));
    }

    [Fact]
    public async Task The_reaper_function_deletes_expired_sessions_on_a_timer_tick()
    {
        var store = app.Services.GetRequiredService<SessionStore>();
        var now = DateTimeOffset.UtcNow;
        var expired = await store.CreateAsync(new SessionRecord
        {
            Owner = "reaper-test",
            Id = "expired-" + Guid.NewGuid().ToString("N")[..8],
            Language = "python",
            RuntimeBuildId = "any",
            Flavor = "small",
            CreatedAt = now - TimeSpan.FromHours(2),
            LastUsedAt = now - TimeSpan.FromHours(2),
            ExpiresAt = now - TimeSpan.FromHours(1),
            Ttl = TimeSpan.FromHours(1),
        });

        Assert.NotNull(await app.Services.GetRequiredService<IStorageProvider>().GetTable(SessionStore.TableName)
            .GetAsync(expired.Owner, System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(expired.Id))));
        await app.Function<ReaperFunction>().RunAsync(new TimerInfo { ScheduleStatus = new ScheduleStatus { Last = now.UtcDateTime, Next = now.UtcDateTime.AddMinutes(5) } }, CancellationToken.None);

        var records = app.Services.GetRequiredService<IStorageProvider>().GetTable(SessionStore.TableName);
        Assert.Null(await records.GetAsync(expired.Owner, System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(expired.Id))));
    }

    [Fact]
    public async Task The_jobs_function_runs_the_job_of_a_queued_message_and_drops_what_is_not_a_job()
    {
        await using var client = await app.ConnectAsync();
        var jobId = (await client.OkAsync("submit_job", new { code = "print('from the trigger')\n2 ** 10" })).GetProperty("job_id").GetString()!;
        var (text, dequeueCount) = Assert.Single(await app.TakeQueuedAsync(), m => JobStore.ParseMessage(m.Text).JobId == jobId);

        await app.Function<JobFunctions>().RunAsync(text, dequeueCount, CancellationToken.None);
        await app.Function<JobFunctions>().RunAsync("not json", 1, CancellationToken.None);

        var done = await client.OkAsync("get_job", new { job_id = jobId });
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal(1024, done.GetProperty("execution").GetProperty("result").GetProperty("json").GetInt32());
        Assert.Equal("from the trigger\n", done.GetProperty("execution").GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task A_job_that_cannot_be_handled_fails_on_its_last_delivery_and_the_next_job_of_its_session_runs()
    {
        await using var client = await app.ConnectAsync();
        var session = (await client.OkAsync("execute_code", new { code = "steps = []" })).GetProperty("session_id").GetString()!;
        var broken = (await client.OkAsync("submit_job", new { session_id = session, code = "steps.append('broken')" })).GetProperty("job_id").GetString()!;
        var next = (await client.OkAsync("submit_job", new { session_id = session, code = "steps.append('next')\nsteps" })).GetProperty("job_id").GetString()!;
        var messages = (await app.TakeQueuedAsync()).ToDictionary(m => JobStore.ParseMessage(m.Text).JobId, m => m.Text);

        // A stored input that no longer parses fails every delivery, as storage trouble that never ends would.
        var inputs = app.Services.GetRequiredService<IStorageProvider>().GetContainer(JobStore.ContainerName);
        await foreach (var blob in inputs.ListAsync(string.Empty))
        {
            if (blob.Name.EndsWith($"/{broken}.json", StringComparison.Ordinal))
            {
                await inputs.UploadAsync(blob.Name, "not json"u8.ToArray());
            }
        }

        // A failed delivery throws, so that the host delivers the message again; the last one reports the job failed.
        await Assert.ThrowsAnyAsync<Exception>(() => app.Function<JobFunctions>().RunAsync(messages[broken], JobRunner.MaxDeliveries - 1, CancellationToken.None));
        Assert.Equal("queued", (await client.OkAsync("get_job", new { job_id = broken })).GetProperty("status").GetString());
        await app.Function<JobFunctions>().RunAsync(messages[broken], JobRunner.MaxDeliveries, CancellationToken.None);
        await app.Function<JobFunctions>().RunAsync(messages[next], 1, CancellationToken.None);

        var failed = await client.OkAsync("get_job", new { job_id = broken });
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("JOB_NOT_HANDLED", failed.GetProperty("error").GetProperty("code").GetString());
        var done = await client.OkAsync("get_job", new { job_id = next });
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("['next']", done.GetProperty("execution").GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task A_job_queued_while_no_instance_takes_jobs_runs_on_the_next_instance_that_does()
    {
        await using var client = await app.ConnectAsync();
        var jobId = (await client.OkAsync("submit_job", new { code = "survived = 'yes'\nsurvived" })).GetProperty("job_id").GetString()!;
        Assert.Equal("queued", (await client.OkAsync("get_job", new { job_id = jobId })).GetProperty("status").GetString());

        // A standalone server over the same account takes jobs from the queue itself.
        await using var standalone = await ServerProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Auth__FunctionKeys"] = FunctionsAppFixture.Key,
            ["SessionStorage"] = app.Azurite.ConnectionString,
            ["Snapshots__SigningKey"] = FunctionsAppFixture.SigningKey,
        });
        await using var other = await ToolClient.ConnectAsync(standalone.McpEndpoint, FunctionsAppFixture.Key);
        var done = await other.OkAsync("get_job", new { job_id = jobId, wait_seconds = 90 });

        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("'yes'", done.GetProperty("execution").GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task The_poison_function_reports_a_job_the_host_gave_up_on_and_leaves_a_finished_one_alone()
    {
        await using var client = await app.ConnectAsync();
        var stuck = (await client.OkAsync("submit_job", new { code = "'never runs'" })).GetProperty("job_id").GetString()!;
        var done = (await client.OkAsync("submit_job", new { code = "'ran'" })).GetProperty("job_id").GetString()!;
        var messages = (await app.TakeQueuedAsync()).ToDictionary(m => JobStore.ParseMessage(m.Text).JobId, m => m.Text);
        await app.Function<JobFunctions>().RunAsync(messages[done], 1, CancellationToken.None);

        // The host moves a message to jobs-poison after its last delivery failed, and the poison function gets it.
        await app.PutAsync(JobStore.PoisonQueueName, messages[stuck]);
        await app.PutAsync(JobStore.PoisonQueueName, messages[done]);
        foreach (var (text, _) in await app.TakeQueuedAsync(JobStore.PoisonQueueName))
        {
            await app.Function<JobFunctions>().GiveUpAsync(text, CancellationToken.None);
        }

        var failed = await client.OkAsync("get_job", new { job_id = stuck });
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("JOB_NOT_HANDLED", failed.GetProperty("error").GetProperty("code").GetString());
        var succeeded = await client.OkAsync("get_job", new { job_id = done });
        Assert.Equal("succeeded", succeeded.GetProperty("status").GetString());
    }
}
