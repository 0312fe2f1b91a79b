using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions.Tests.Storage;

/// <summary>The contract against the storage emulator, every request signed with the account key.</summary>
public sealed class AzureStorageContractTests(AzuriteFixture emulator) : StorageContractTests, IClassFixture<AzuriteFixture>
{
    protected override IStorageProvider Provider { get; } = new AzureStorageProvider(
        AzureStorageAccount.FromConnectionString(emulator.Azurite.ConnectionString),
        new AzureStorageClientOptions { PageSize = SmallPageSize, BlockUploadThreshold = SmallBlockThreshold, BlockSize = SmallBlockThreshold / 4 });
}
