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
[Collection(AzuriteServers.Name)]
public sealed class BackgroundJobTests(AzuriteServerFixture fixture)
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
