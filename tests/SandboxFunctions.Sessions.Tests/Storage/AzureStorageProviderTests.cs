using System.Collections.Concurrent;
using System.Diagnostics;
using Azure;
using Azure.Core;
using Azure.Identity;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Sessions.Tests.Storage;

/// <summary>
/// What only the Azure clients do: block uploads, retries and the classification of failures (faults injected
/// through <see cref="ClientOptions.AddPolicy"/>), and the two ways of authorizing.
/// </summary>
public sealed class AzureStorageProviderTests(AzuriteFixture emulator) : IClassFixture<AzuriteFixture>
{
    private AzuriteProcess Azurite => emulator.Azurite;

    [Fact]
    public async Task Blob_above_the_threshold_goes_up_in_blocks_and_one_below_in_a_single_request()
    {
        var requests = new ConcurrentQueue<string>();
        var options = new AzureStorageClientOptions { BlockUploadThreshold = 64 * 1024, BlockSize = 16 * 1024, MaxConcurrentBlockUploads = 3 };
        options.AddPolicy(Observe(message => requests.Enqueue($"{message.Request.Method} {message.Request.Uri.Query}")), HttpPipelinePosition.PerCall);
        var container = await NewContainerAsync(options);
        var large = new byte[100_000];
        Random.Shared.NextBytes(large);

        requests.Clear();
        await container.UploadAsync("large", large);
        var largeRequests = requests.ToList();
        requests.Clear();
        await container.UploadAsync("small", new byte[10]);
        var smallRequests = requests.ToList();

        Assert.Equal(7, largeRequests.Count(r => r.StartsWith("PUT ?comp=block&blockid=", StringComparison.Ordinal)));
        Assert.Equal(["PUT ?comp=blocklist"], largeRequests.Where(r => !r.Contains("blockid", StringComparison.Ordinal)));
        Assert.Equal(["PUT "], smallRequests);
        Assert.Equal(large, (await container.DownloadAsync("large"))!.Content);
    }

    [Fact]
    public async Task Network_failures_of_a_chosen_request_are_retried_then_reported_unavailable_without_secrets()
    {
        var attempts = 0;
        var options = FastRetries();
        options.AddPolicy(
            new TestPolicy((message, next) =>
            {
                if (message.Request.Method == RequestMethod.Get && message.Request.Uri.Path.Contains("PartitionKey", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref attempts);
                    throw new IOException("Connection reset by peer (simulated).");
                }

                return next();
            }),
            HttpPipelinePosition.BeforeTransport);
        var table = await NewTableAsync(options);
        await table.AddAsync(new StorageEntity("p", "r"));

        var error = await Assert.ThrowsAsync<StorageException>(() => table.GetAsync("p", "r"));

        Assert.Equal(StorageErrorKind.Unavailable, error.Kind);
        Assert.Equal(options.Retry.MaxRetries + 1, attempts);
        Assert.Contains(table.Name, error.Message, StringComparison.Ordinal);
        Assert.Contains("Connection reset by peer", error.Message, StringComparison.Ordinal);
        AssertNoSecrets(error);
    }

    [Fact]
    public async Task Server_errors_that_persist_are_unavailable_with_the_status_and_the_service_error_code()
    {
        var attempts = 0;
        var options = FastRetries();
        options.AddPolicy(
            new TestPolicy((message, next) =>
            {
                if (message.Request.Method != RequestMethod.Get)
                {
                    return next();
                }

                Interlocked.Increment(ref attempts);
                return (message.Request.Uri.Host == Azurite.TableEndpoint.Host && message.Request.Uri.Port == Azurite.TableEndpoint.Port
                    ? new TestResponse(500, new Dictionary<string, string> { ["Content-Type"] = "application/json" }, """{"odata.error":{"code":"InternalError","message":{"lang":"en-US","value":"The server encountered an internal error.\nRequestId:1"}}}""")
                    : new TestResponse(503, new Dictionary<string, string> { ["x-ms-error-code"] = "ServerBusy" })).AnswerWith(message);
            }),
            HttpPipelinePosition.BeforeTransport);
        var provider = Provider(options);
        var container = provider.GetContainer("c" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateIfNotExistsAsync();
        var table = provider.GetTable("t" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateIfNotExistsAsync();

        var blobError = await Assert.ThrowsAsync<StorageException>(() => container.DownloadAsync("b"));
        var tableError = await Assert.ThrowsAsync<StorageException>(() => table.GetAsync("p", "r"));

        Assert.Equal(2 * (options.Retry.MaxRetries + 1), attempts);
        Assert.Equal(StorageErrorKind.Unavailable, blobError.Kind);
        Assert.Equal(503, blobError.Status);
        Assert.Equal("ServerBusy", blobError.ErrorCode);
        Assert.Equal(StorageErrorKind.Unavailable, tableError.Kind);
        Assert.Equal(500, tableError.Status);
        Assert.Equal("InternalError", tableError.ErrorCode);
        Assert.Contains("The server encountered an internal error.", tableError.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("RequestId", tableError.Message, StringComparison.Ordinal);
        AssertNoSecrets(blobError);
        AssertNoSecrets(tableError);
    }

    [Fact]
    public async Task An_answer_slower_than_the_network_timeout_is_unavailable()
    {
        var options = FastRetries();
        options.Retry.NetworkTimeout = TimeSpan.FromMilliseconds(200);
        options.AddPolicy(
            new TestPolicy(async (message, next) =>
            {
                if (message.Request.Method == RequestMethod.Get)
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), message.CancellationToken);
                }

                await next();
            }),
            HttpPipelinePosition.BeforeTransport);
        var queue = Provider(options).GetQueue("q" + Guid.NewGuid().ToString("N")[..12]);
        await queue.CreateIfNotExistsAsync();
        var started = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<StorageException>(() => queue.ReceiveAsync(1, TimeSpan.FromSeconds(5)));

        Assert.Equal(StorageErrorKind.Unavailable, error.Kind);
        Assert.Null(error.Status);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"Gave up after {started.Elapsed}.");
        AssertNoSecrets(error);
    }

    [Fact]
    public async Task A_service_nobody_listens_on_is_unavailable()
    {
        var closedPort = FreePort.Next();
        var account = AzureStorageAccount.FromConnectionString(
            $"DefaultEndpointsProtocol=http;AccountName={AzuriteProcess.AccountName};AccountKey={AzuriteProcess.AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{closedPort}/a;TableEndpoint=http://127.0.0.1:{closedPort}/a;QueueEndpoint=http://127.0.0.1:{closedPort}/a;");
        var table = new AzureStorageProvider(account, FastRetries()).GetTable("sessions");

        var error = await Assert.ThrowsAsync<StorageException>(() => table.GetAsync("p", "r"));

        Assert.Equal(StorageErrorKind.Unavailable, error.Kind);
        Assert.Contains($"127.0.0.1:{closedPort}", error.Message, StringComparison.Ordinal);
        AssertNoSecrets(error);
    }

    [Fact]
    public async Task A_wrong_account_key_is_unauthorized_and_the_message_does_not_repeat_it()
    {
        var wrongKey = Convert.ToBase64String(Enumerable.Range(0, 64).Select(i => (byte)i).ToArray());
        var signatures = new ConcurrentQueue<string>();
        var options = FastRetries();
        options.AddPolicy(
            Observe(message =>
            {
                if (message.Request.Headers.TryGetValue("Authorization", out var authorization))
                {
                    signatures.Enqueue(authorization[(authorization.IndexOf(':', StringComparison.Ordinal) + 1)..]);
                }
            }),
            HttpPipelinePosition.BeforeTransport);
        var provider = new AzureStorageProvider(AzureStorageAccount.FromConnectionString(Azurite.ConnectionStringWithKey(wrongKey)), options);

        var tableError = await Assert.ThrowsAsync<StorageException>(() => provider.GetTable("sessions").CreateIfNotExistsAsync());
        var blobError = await Assert.ThrowsAsync<StorageException>(() => provider.GetContainer("snapshots").DownloadAsync("b"));

        foreach (var error in new[] { tableError, blobError })
        {
            Assert.Equal(StorageErrorKind.Unauthorized, error.Kind);
            Assert.Equal(403, error.Status);
            Assert.False(string.IsNullOrEmpty(error.ErrorCode));
            Assert.DoesNotContain(wrongKey, error.Message, StringComparison.Ordinal);
            Assert.All(signatures, signature => Assert.DoesNotContain(signature, error.Message, StringComparison.Ordinal));
            AssertNoSecrets(error);
        }
    }

    [Fact]
    public async Task Cancellation_surfaces_as_cancellation()
    {
        var table = Provider(FastRetries()).GetTable("sessions");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => table.GetAsync("p", "r", cancelled.Token));
    }

    [Fact]
    public async Task Entra_id_sends_a_bearer_token_for_the_storage_scope_over_https()
    {
        var credential = new RecordingCredential();
        var account = AzureStorageAccount.FromTokenCredential(
            new Uri("https://myacct.blob.core.windows.net"),
            new Uri("https://myacct.table.core.windows.net"),
            new Uri("https://myacct.queue.core.windows.net"),
            credential);
        HttpMessage? seen = null;
        var headers = new Dictionary<string, string>();
        var options = new AzureStorageClientOptions();
        options.AddPolicy(
            new TestPolicy((message, _) =>
            {
                seen = message;
                foreach (var header in message.Request.Headers)
                {
                    headers[header.Name] = header.Value;
                }

                return new TestResponse(404, new Dictionary<string, string> { ["x-ms-error-code"] = "ResourceNotFound" }).AnswerWith(message);
            }),
            HttpPipelinePosition.BeforeTransport);

        var entity = await new AzureStorageProvider(account, options).GetTable("sessions").GetAsync("p q", "r'1");

        Assert.Null(entity);
        Assert.NotNull(seen);
        Assert.Equal("https://myacct.table.core.windows.net/sessions(PartitionKey='p%20q',RowKey='r%27%271')", seen.Request.Uri.ToUri().GetLeftPart(UriPartial.Path));
        Assert.Equal("Bearer token-for-test", headers["Authorization"]);
        Assert.Equal("2020-12-06", headers["x-ms-version"]);
        Assert.Equal(["https://storage.azure.com/.default"], credential.Scopes.Distinct());
    }

    [Fact]
    public async Task A_credential_that_cannot_get_a_token_is_unauthorized()
    {
        var account = AzureStorageAccount.FromTokenCredential(
            new Uri("https://myacct.blob.core.windows.net"),
            new Uri("https://myacct.table.core.windows.net"),
            new Uri("https://myacct.queue.core.windows.net"),
            new RecordingCredential(fail: true));

        var error = await Assert.ThrowsAsync<StorageException>(() => new AzureStorageProvider(account, FastRetries()).GetContainer("snapshots").DownloadAsync("b"));

        Assert.Equal(StorageErrorKind.Unauthorized, error.Kind);
        Assert.Contains("no identity available", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokens_are_only_sent_over_https()
    {
        Assert.Throws<ArgumentException>(() => AzureStorageAccount.FromTokenCredential(
            new Uri("http://myacct.blob.core.windows.net"),
            new Uri("https://myacct.table.core.windows.net"),
            new Uri("https://myacct.queue.core.windows.net"),
            new RecordingCredential()));
    }

    private static AzureStorageClientOptions FastRetries()
    {
        var options = new AzureStorageClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(5);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
        return options;
    }

    private static TestPolicy Observe(Action<HttpMessage> observe) => new((message, next) =>
    {
        observe(message);
        return next();
    });

    private static void AssertNoSecrets(StorageException error)
    {
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            Assert.DoesNotContain(AzuriteProcess.AccountKey, current.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("SharedKey ", current.Message, StringComparison.Ordinal);
        }
    }

    private AzureStorageProvider Provider(AzureStorageClientOptions options) =>
        new(AzureStorageAccount.FromConnectionString(Azurite.ConnectionString), options);

    private async Task<IEntityTable> NewTableAsync(AzureStorageClientOptions options)
    {
        var table = Provider(options).GetTable("t" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateIfNotExistsAsync();
        return table;
    }

    private async Task<IBlobContainer> NewContainerAsync(AzureStorageClientOptions options)
    {
        var container = Provider(options).GetContainer("c" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateIfNotExistsAsync();
        return container;
    }

    private sealed class RecordingCredential(bool fail = false) : TokenCredential
    {
        public ConcurrentQueue<string> Scopes { get; } = new();

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            foreach (var scope in requestContext.Scopes)
            {
                Scopes.Enqueue(scope);
            }

            return fail
                ? throw new CredentialUnavailableException("There is no identity available (simulated).")
                : ValueTask.FromResult(new AccessToken("token-for-test", DateTimeOffset.UtcNow.AddHours(1)));
        }
    }
}
