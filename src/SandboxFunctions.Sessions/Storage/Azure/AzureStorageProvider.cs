using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// Azure Storage (or the storage emulator) through the Azure SDK's clients. One service client per service is
/// built here, with its pipeline, and shared by every table, container and queue handed out.
/// </summary>
public sealed class AzureStorageProvider : IStorageProvider
{
    // A version that Azure and the storage emulator both accept (the emulator refuses versions newer than it
    // knows), late enough for Microsoft Entra ID tokens and queue messages that never expire.
    private const BlobClientOptions.ServiceVersion BlobVersion = BlobClientOptions.ServiceVersion.V2024_11_04;
    private const QueueClientOptions.ServiceVersion QueueVersion = QueueClientOptions.ServiceVersion.V2024_11_04;

    private readonly TableServiceClient _tables;
    private readonly BlobServiceClient _blobs;
    private readonly QueueServiceClient _queues;
    private readonly AzureStorageClientOptions _options;

    public AzureStorageProvider(AzureStorageAccount account, AzureStorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _options = options ?? new AzureStorageClientOptions();
        _options.Validate();
        Account = account;
        _tables = account.CreateTableServiceClient(_options.ApplyTo(new TableClientOptions()));
        _blobs = account.CreateBlobServiceClient(_options.ApplyTo(new BlobClientOptions(BlobVersion)));
        _queues = account.CreateQueueServiceClient(_options.ApplyTo(new QueueClientOptions(QueueVersion) { MessageEncoding = QueueMessageEncoding.None }));
    }

    public string Kind => "azure";

    public AzureStorageAccount Account { get; }

    public IEntityTable GetTable(string name)
    {
        StorageValidation.TableName(name);
        return new AzureEntityTable(_tables.GetTableClient(name), Account.TableServiceUri, _options.PageSize);
    }

    public IBlobContainer GetContainer(string name)
    {
        StorageValidation.ContainerOrQueueName(name, "container");
        return new AzureBlobContainer(_blobs.GetBlobContainerClient(name), _options);
    }

    public IMessageQueue GetQueue(string name)
    {
        StorageValidation.ContainerOrQueueName(name, "queue");
        return new AzureMessageQueue(_queues.GetQueueClient(name));
    }
}
