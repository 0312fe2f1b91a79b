namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Azure Storage (or the storage emulator) over its REST APIs. One pipeline per service is built here and shared
/// by every table, container and queue handed out.
/// </summary>
public sealed class AzureStorageProvider : IStorageProvider
{
    private readonly StorageServiceClient _tables;
    private readonly StorageServiceClient _blobs;
    private readonly StorageServiceClient _queues;

    public AzureStorageProvider(AzureStorageAccount account, AzureStorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        options ??= new AzureStorageClientOptions();
        options.Validate();
        Account = account;
        _tables = new StorageServiceClient(account.TableServiceUri, account, StorageService.Table, options);
        _blobs = new StorageServiceClient(account.BlobServiceUri, account, StorageService.Blob, options);
        _queues = new StorageServiceClient(account.QueueServiceUri, account, StorageService.Queue, options);
    }

    public string Kind => "azure";

    public AzureStorageAccount Account { get; }

    public IEntityTable GetTable(string name) => new AzureEntityTable(_tables, name);

    public IBlobContainer GetContainer(string name) => new AzureBlobContainer(_blobs, name);

    public IMessageQueue GetQueue(string name) => new AzureMessageQueue(_queues, name);
}
