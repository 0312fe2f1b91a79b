using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Testing;
using SandboxFunctions.Tools.Jobs;

namespace SandboxFunctions.Host.Tests;

/// <summary>Background jobs end to end: the queue, the workers, the Functions queue trigger, and restarts.</summary>
public sealed class BackgroundJobTests(AzuriteServerFixture fixture) : IClassFixture<AzuriteServerFixture>
{
    private const string Key = AzuriteServerFixture.Key;

    /// <summary>Stands in for the Functions host when a test delivers queue messages to the app itself.</summary>
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(2) };

    [Fact]
    public async Task A_job_runs_longer_than_a_call_may_and_its_result_is_fetched_later()
    {
        // Interactive calls here may run 2 s at most, as the Azure HTTP limit caps them in production.
        await using var server = await fixture.StartServerAsync(new Dictionary<string, string?>
        {
            ["Flavors__small__DefaultTimeoutSeconds"] = "1",
            ["Flavors__small__MaxTimeoutSeconds"] = "2",
        });
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);
        const string Code = "import time\nprint('step 1', flush=True)\ntime.sleep(8)\nanswer = 6 * 7\nprint('step 2')\nanswer";
        await client.FailsAsync("execute_code", new { code = Code, timeout_seconds = 10 }, "INVALID_TIMEOUT");

        var submitted = await client.OkAsync("submit_job", new { code = Code, timeout_seconds = 60 });
        var jobId = submitted.GetProperty("job_id").GetString()!;
        var session = submitted.GetProperty("session_id").GetString()!;
        Assert.Equal("queued", submitted.GetProperty("status").GetString());

        var running = await PollAsync(client, jobId, j => j.GetProperty("status").GetString() == "running" && j.GetProperty("stdout").GetString()!.Contains("step 1", StringComparison.Ordinal));
        Assert.DoesNotContain("step 2", running.GetProperty("stdout").GetString(), StringComparison.Ordinal);
        var busy = await client.FailsAsync("execute_code", new { session_id = session, code = "1" }, "SESSION_BUSY");
        Assert.Contains(jobId, busy.GetProperty("message").GetString(), StringComparison.Ordinal);

        var done = await client.OkAsync("get_job", new { job_id = jobId, wait_seconds = 60 });
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.True(done.GetProperty("duration_ms").GetInt64() >= 8000);
        var execution = done.GetProperty("execution");
        Assert.Equal(42, execution.GetProperty("result").GetProperty("json").GetInt32());
        Assert.Equal("step 1\nstep 2\n", execution.GetProperty("stdout").GetString());

        var after = await client.OkAsync("execute_code", new { session_id = session, code = "answer + 1" });
        Assert.Equal(43, after.GetProperty("result").GetProperty("json").GetInt32());
        var history = await client.OkAsync("list_executions", new { session_id = session });
        Assert.Contains(history.GetProperty("executions").EnumerateArray(), e => e.GetProperty("kind").GetString() == "job" && e.GetProperty("job_id").GetString() == jobId && e.GetProperty("status").GetString() == "succeeded");
        var jobs = await client.OkAsync("list_jobs", new { session_id = session });
        Assert.Equal(jobId, Assert.Single(jobs.GetProperty("jobs").EnumerateArray()).GetProperty("job_id").GetString());
    }

    [Fact]
    public async Task Jobs_on_one_session_run_one_at_a_time_in_the_order_submitted()
    {
        await using var client = await fixture.ConnectAsync();
        var session = (await client.OkAsync("execute_code", new { code = "order = []" })).GetProperty("session_id").GetString()!;

        var ids = new List<string>();
        for (var i = 1; i <= 4; i++)
        {
            var job = await client.OkAsync("submit_job", new { session_id = session, code = $"import time\nstart = len(order)\ntime.sleep(0.3)\norder.append(({i}, start))\norder" });
            ids.Add(job.GetProperty("job_id").GetString()!);
        }

        foreach (var id in ids)
        {
            Assert.Equal("succeeded", (await client.OkAsync("get_job", new { job_id = id, wait_seconds = 120 })).GetProperty("status").GetString());
        }

        var order = await client.OkAsync("execute_code", new { session_id = session, code = "order" });
        Assert.Equal("[(1, 0), (2, 1), (3, 2), (4, 3)]", order.GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task Cancelling_stops_a_running_job_and_a_queued_one_never_runs()
    {
        await using var client = await fixture.ConnectAsync();
        var session = (await client.OkAsync("execute_code", new { language = "javascript", code = "var before = 'kept';" })).GetProperty("session_id").GetString()!;
        var loop = (await client.OkAsync("submit_job", new { session_id = session, timeout_seconds = 300, code = "var during = 1; console.log('looping'); for (;;) {}" })).GetProperty("job_id").GetString()!;
        var queued = (await client.OkAsync("submit_job", new { session_id = session, code = "var after = 1;" })).GetProperty("job_id").GetString()!;
        await PollAsync(client, loop, j => j.GetProperty("status").GetString() == "running");

        var cancelQueued = await client.OkAsync("cancel_job", new { job_id = queued });
        var cancelRunning = await client.OkAsync("cancel_job", new { job_id = loop });
        var stopped = await client.OkAsync("get_job", new { job_id = loop, wait_seconds = 60 });

        Assert.Equal("cancelled", cancelQueued.GetProperty("status").GetString());
        Assert.True(cancelRunning.GetProperty("cancel_requested").GetBoolean());
        Assert.Equal("cancelled", stopped.GetProperty("status").GetString());
        Assert.Equal("CANCELLED", stopped.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("cancelled", (await client.OkAsync("get_job", new { job_id = queued })).GetProperty("status").GetString());
        var state = await client.OkAsync("execute_code", new { session_id = session, code = "[before, typeof during, typeof after]" });
        Assert.Equal(["kept", "undefined", "undefined"], state.GetProperty("result").GetProperty("json").EnumerateArray().Select(e => e.GetString()));
        var again = await client.OkAsync("cancel_job", new { job_id = loop });
        Assert.Equal("cancelled", again.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Job_arguments_are_checked_and_jobs_belong_to_their_caller()
    {
        await using var client = await fixture.ConnectAsync();
        await using var other = await fixture.ConnectAsync(AzuriteServerFixture.OtherKey);
        var job = (await client.OkAsync("submit_job", new { code = "1 + 1" })).GetProperty("job_id").GetString()!;

        await client.FailsAsync("submit_job", new { code = "1", timeout_seconds = 100_000 }, "INVALID_TIMEOUT");
        await client.FailsAsync("submit_job", new { code = "1", session_id = "s-missing-session" }, "SESSION_NOT_FOUND");
        await client.FailsAsync("get_job", new { job_id = job, wait_seconds = 1000 }, "INVALID_WAIT");
        await client.FailsAsync("get_job", new { job_id = "j-missing" }, "JOB_NOT_FOUND");
        var session = (await client.OkAsync("get_job", new { job_id = job })).GetProperty("session_id").GetString()!;
        await client.FailsAsync("list_executions", new { session_id = session, limit = 0 }, "INVALID_LIMIT");
        await other.FailsAsync("list_executions", new { session_id = session }, "SESSION_NOT_FOUND");
        await other.FailsAsync("get_job", new { job_id = job }, "JOB_NOT_FOUND");
        await other.FailsAsync("cancel_job", new { job_id = job }, "JOB_NOT_FOUND");
        Assert.DoesNotContain((await other.OkAsync("list_jobs")).GetProperty("jobs").EnumerateArray(), j => j.GetProperty("job_id").GetString() == job);
    }

    [Fact]
    public async Task A_queued_job_survives_a_restart_and_runs_on_the_next_server()
    {
        var dataPath = Directory.CreateTempSubdirectory("sandbox-data-").FullName;
        string jobId;

        // Under a Functions host nothing in the process takes jobs from the queue, so the job stays queued.
        await using (var functions = await StartUnderFunctionsHostAsync(dataPath))
        await using (var client = await ToolClient.ConnectAsync(functions.McpEndpoint, Key))
        {
            jobId = (await client.OkAsync("submit_job", new { code = "survived = 'yes'\nsurvived" })).GetProperty("job_id").GetString()!;
            await Task.Delay(1500);
            Assert.Equal("queued", (await client.OkAsync("get_job", new { job_id = jobId })).GetProperty("status").GetString());
        }

        await using var standalone = await ServerProcess.StartAsync(new Dictionary<string, string?> { ["Auth__FunctionKeys"] = Key }, dataPath: dataPath);
        await using var again = await ToolClient.ConnectAsync(standalone.McpEndpoint, Key);
        var done = await again.OkAsync("get_job", new { job_id = jobId, wait_seconds = 90 });

        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("'yes'", done.GetProperty("execution").GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task The_queue_trigger_invocation_of_the_functions_host_runs_the_job()
    {
        await using var server = await StartUnderFunctionsHostAsync();
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);
        var submitted = await client.OkAsync("submit_job", new { code = "print('from the trigger')\n2 ** 10" });
        var message = Assert.Single(await TakeQueuedMessagesAsync(server));

        using var response = await DeliverAsync(server, message, message.DequeueCount);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Object, body.RootElement.GetProperty("Outputs").ValueKind);
        var done = await client.OkAsync("get_job", new { job_id = submitted.GetProperty("job_id").GetString() });
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal(1024, done.GetProperty("execution").GetProperty("result").GetProperty("json").GetInt32());
        Assert.Equal("from the trigger\n", done.GetProperty("execution").GetProperty("stdout").GetString());

        using var notAJob = await Http.PostAsync(new Uri(server.BaseAddress, "/jobs"), new StringContent("""{"Data":{"message":"not json"},"Metadata":{}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, notAJob.StatusCode);
        Assert.Contains("not a job", await notAJob.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var malformed = await Http.PostAsync(new Uri(server.BaseAddress, "/jobs"), new StringContent("""{"Metadata":{}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task A_job_that_cannot_be_handled_fails_on_its_last_delivery_and_the_next_job_of_its_session_runs()
    {
        await using var server = await StartUnderFunctionsHostAsync();
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);
        var session = (await client.OkAsync("execute_code", new { code = "steps = []" })).GetProperty("session_id").GetString()!;
        var broken = (await client.OkAsync("submit_job", new { session_id = session, code = "steps.append('broken')" })).GetProperty("job_id").GetString()!;
        var next = (await client.OkAsync("submit_job", new { session_id = session, code = "steps.append('next')\nsteps" })).GetProperty("job_id").GetString()!;
        var messages = (await TakeQueuedMessagesAsync(server)).ToDictionary(m => JobStore.ParseMessage(m.Text).JobId);

        // A stored input that no longer parses fails every delivery, as storage trouble that never ends would.
        var inputs = new FileStorageProvider(server.DataPath, TimeProvider.System).GetContainer(JobStore.ContainerName);
        await foreach (var blob in inputs.ListAsync(string.Empty))
        {
            if (blob.Name.EndsWith($"/{broken}.json", StringComparison.Ordinal))
            {
                await inputs.UploadAsync(blob.Name, "not json"u8.ToArray());
            }
        }

        using (var early = await DeliverAsync(server, messages[broken], delivery: JobRunner.MaxDeliveries - 1))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, early.StatusCode);
        }

        Assert.Equal("queued", (await client.OkAsync("get_job", new { job_id = broken })).GetProperty("status").GetString());
        using (var last = await DeliverAsync(server, messages[broken], delivery: JobRunner.MaxDeliveries))
        {
            Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        }

        var failed = await client.OkAsync("get_job", new { job_id = broken });
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("JOB_NOT_HANDLED", failed.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("Submit the job again.", failed.GetProperty("error").GetProperty("suggestions").EnumerateArray().Select(s => s.GetString()));
        using (var after = await DeliverAsync(server, messages[next], delivery: 1))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }

        var done = await client.OkAsync("get_job", new { job_id = next });
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("['next']", done.GetProperty("execution").GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task A_job_whose_message_reached_the_poison_queue_is_reported_failed_and_a_finished_one_is_left_alone()
    {
        await using var server = await StartUnderFunctionsHostAsync();
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);
        var stuck = (await client.OkAsync("submit_job", new { code = "'never runs'" })).GetProperty("job_id").GetString()!;
        var done = (await client.OkAsync("submit_job", new { code = "'ran'" })).GetProperty("job_id").GetString()!;
        var messages = (await TakeQueuedMessagesAsync(server)).ToDictionary(m => JobStore.ParseMessage(m.Text).JobId);
        using (var ran = await DeliverAsync(server, messages[done], delivery: 1))
        {
            Assert.Equal(HttpStatusCode.OK, ran.StatusCode);
        }

        // The host moves a message to jobs-poison after its last delivery failed, and the jobs-poison function gets it.
        using (var poisoned = await DeliverAsync(server, messages[stuck], delivery: 1, function: "jobs-poison"))
        {
            Assert.Equal(HttpStatusCode.OK, poisoned.StatusCode);
        }

        using (var again = await DeliverAsync(server, messages[done], delivery: 1, function: "jobs-poison"))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        var failed = await client.OkAsync("get_job", new { job_id = stuck });
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("JOB_NOT_HANDLED", failed.GetProperty("error").GetProperty("code").GetString());
        var succeeded = await client.OkAsync("get_job", new { job_id = done });
        Assert.Equal("succeeded", succeeded.GetProperty("status").GetString());
        Assert.Equal("'ran'", succeeded.GetProperty("execution").GetProperty("result").GetProperty("repr").GetString());
    }

    /// <summary>Takes the job messages waiting in the queue of a server that keeps its state in files, as the Functions host would.</summary>
    private static Task<IReadOnlyList<QueueMessage>> TakeQueuedMessagesAsync(ServerProcess server) =>
        new FileStorageProvider(server.DataPath, TimeProvider.System).GetQueue(JobStore.QueueName).ReceiveAsync(10, TimeSpan.FromMinutes(1));

    /// <summary>Posts what the Functions host posts for a queue trigger whose binding is named "message".</summary>
    private static Task<HttpResponseMessage> DeliverAsync(ServerProcess server, QueueMessage message, long delivery, string function = "jobs")
    {
        var invocation = JsonSerializer.Serialize(new
        {
            Data = new { message = message.Text },
            Metadata = new { DequeueCount = delivery, Id = message.Id, sys = new { MethodName = function } },
        });
        return Http.PostAsync(new Uri(server.BaseAddress, "/" + function), new StringContent(invocation, Encoding.UTF8, "application/json"));
    }

    private static Task<ServerProcess> StartUnderFunctionsHostAsync(string? dataPath = null) => ServerProcess.StartAsync(
        new Dictionary<string, string?>
        {
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Auth__FunctionKeys"] = Key,
        },
        dataPath: dataPath);

    private static async Task<JsonElement> PollAsync(ToolClient client, string jobId, Func<JsonElement, bool> until)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        JsonElement job;
        do
        {
            job = await client.OkAsync("get_job", new { job_id = jobId });
            if (until(job))
            {
                return job;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"Job {jobId} never reached the expected state; last seen: {job}");
    }
}
