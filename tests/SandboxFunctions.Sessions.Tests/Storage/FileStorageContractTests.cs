using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions.Tests.Storage;

/// <summary>The contract against the embedded file store, in a fresh folder per test.</summary>
public sealed class FileStorageContractTests : StorageContractTests, IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("file-store-");

    public FileStorageContractTests()
    {
        Provider = new FileStorageProvider(_folder.FullName, TimeProvider.System);
    }

    protected override IStorageProvider Provider { get; }

    public void Dispose() => _folder.Delete(recursive: true);
}
