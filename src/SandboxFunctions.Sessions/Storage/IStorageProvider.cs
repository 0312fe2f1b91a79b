namespace SandboxFunctions.Sessions.Storage;

/// <summary>A storage account: Azure Storage (or Azurite), or the embedded file store.</summary>
public interface IStorageProvider
{
    /// <summary><c>azure</c> or <c>file</c>.</summary>
    string Kind { get; }

    IEntityTable GetTable(string name);

    IBlobContainer GetContainer(string name);

    IMessageQueue GetQueue(string name);
}
