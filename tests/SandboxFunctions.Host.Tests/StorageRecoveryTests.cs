using System.Text.Json;
using Microsoft.Extensions.Options;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>
/// Storage that goes away and comes back: calls fail with a clear storage error while it is down and work again
/// afterwards, without restarting the server and without losing what was committed. Also the move of sessions
/// stored by earlier versions under an unsalted hash of the key.
/// </summary>
public sealed class StorageRecoveryTests
{
    private const string Key = "key-for-recovery-tests-0123";

    [Fact]
    public async Task Calls_fail_clearly_while_storage_is_down_and_work_again_when_it_is_back_with_nothing_committed_lost()
    {
        await using var azurite = await AzuriteProcess.StartAsync(onDisk: true);
        await using var server = await StartServerAsync(azurite);
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);
        var session = (await client.OkAsync("execute_code", new { code = "total = 40" })).GetProperty("session_id").GetString()!;
        await client.OkAsync("execute_code", new { session_id = session, code = "total += 2" });

        await azurite.StopAsync();
        var down = await client.FailsAsync("execute_code", new { session_id = session, code = "total += 100" }, "STORAGE_UNAVAILABLE");
        await azurite.StartAgainAsync();
        var back = await client.OkAsync("execute_code", new { session_id = session, code = "total" });

        Assert.Contains("storage", down.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("42", back.GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task A_first_call_while_storage_is_not_yet_up_succeeds_once_it_is()
    {
        await using var azurite = AzuriteProcess.Prepare();
        await using var server = await StartServerAsync(azurite, requireHealthy: false);
        await using var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key);
        var runtimes = await client.OkAsync("list_runtimes");
        var beforeSessions = server.Output;

        await client.FailsAsync("execute_code", new { code = "1 + 1" }, "STORAGE_UNAVAILABLE");
        await azurite.StartAgainAsync();
        var result = await client.OkAsync("execute_code", new { code = "1 + 1" });

        // Connecting, listing tools and a tool that needs no session never touched storage for the caller's legacy sessions.
        Assert.Equal(2, runtimes.GetProperty("runtimes").GetArrayLength());
        Assert.DoesNotContain("legacy owner id", beforeSessions, StringComparison.Ordinal);
        Assert.Contains("legacy owner id", server.Output, StringComparison.Ordinal);
        Assert.Equal("2", result.GetProperty("result").GetProperty("repr").GetString());
    }

    [Fact]
    public async Task Sessions_stored_under_the_legacy_owner_id_move_to_the_current_one_with_their_state_and_history()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        string session;
        await using (var server = await StartServerAsync(azurite))
        await using (var client = await ToolClient.ConnectAsync(server.McpEndpoint, Key))
        {
            session = (await client.OkAsync("execute_code", new { code = "legacy = 'kept'" })).GetProperty("session_id").GetString()!;
        }

        // What an earlier version stored: the same session under the unsalted hash of the key.
        var store = Store(azurite);
        var owner = new OwnerIds(Options.Create(new OwnerIdOptions())).FromKey(Key);
        var legacyOwner = OwnerIds.LegacyFromKey(Key);
        Assert.True(await store.MoveOwnerAsync(owner, legacyOwner));
        Assert.Null(await store.GetAsync(owner, session));
        Assert.NotNull(await store.GetAsync(legacyOwner, session));

        await using var upgraded = await StartServerAsync(azurite);
        await using var again = await ToolClient.ConnectAsync(upgraded.McpEndpoint, Key);
        var result = await again.OkAsync("execute_code", new { session_id = session, code = "legacy" });
        var listed = await again.OkAsync("list_sessions");
        var history = await again.OkAsync("list_executions", new { session_id = session });

        Assert.Equal("'kept'", result.GetProperty("result").GetProperty("repr").GetString());
        Assert.Contains(session, listed.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("session_id").GetString()));
        Assert.Equal(2, history.GetProperty("executions").GetArrayLength());
        Assert.Null(await store.GetAsync(legacyOwner, session));
        Assert.NotNull(await store.GetAsync(owner, session));
    }

    [Fact]
    public async Task A_fresh_embedded_store_gets_the_job_queue_at_start_without_complaints()
    {
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string?> { ["Auth__FunctionKeys"] = Key });
        var queue = Path.Combine(server.DataPath, "queues", JobStore.QueueName);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!Directory.Exists(queue))
        {
            await Task.Delay(100, timeout.Token);
        }

        Assert.DoesNotContain("does not exist", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Receiving jobs failed", server.Output, StringComparison.Ordinal);
    }

    private static Task<ServerProcess> StartServerAsync(AzuriteProcess azurite, bool requireHealthy = true) => ServerProcess.StartAsync(
        new Dictionary<string, string?>
        {
            ["Auth__FunctionKeys"] = Key,
            ["SessionStorage"] = azurite.ConnectionString,
            ["Snapshots__SigningKey"] = SigningKey,
        },
        requireHealthy: requireHealthy);

    private static string SigningKey => Convert.ToBase64String("signing-key-for-tests-32-bytes!!"u8);

    private static SessionStore Store(AzuriteProcess azurite) => new(
        new AzureStorageProvider(AzureStorageAccount.FromConnectionString(azurite.ConnectionString)),
        new SnapshotProtection(Options.Create(new SnapshotProtectionOptions { SigningKey = SigningKey })),
        Options.Create(new SessionStoreOptions()),
        TimeProvider.System);
}
