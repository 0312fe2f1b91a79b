namespace SandboxFunctions.Sessions.Storage;

/// <summary>A storage operation that failed; <see cref="Kind"/> says how, independent of the store.</summary>
public sealed class StorageException : Exception
{
    public StorageException(StorageErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public StorageException()
    {
    }

    public StorageException(string message)
        : base(message)
    {
    }

    public StorageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public StorageErrorKind Kind { get; } = StorageErrorKind.Failed;

    /// <summary>The HTTP status from the storage service, when there was one.</summary>
    public int? Status { get; init; }

    /// <summary>The storage service's error code (e.g. <c>EntityAlreadyExists</c>), when there was one.</summary>
    public string? ErrorCode { get; init; }
}

public enum StorageErrorKind
{
    /// <summary>Anything not covered below.</summary>
    Failed,

    /// <summary>The item already exists.</summary>
    Conflict,

    /// <summary>An If-Match / If-None-Match condition did not hold.</summary>
    PreconditionFailed,

    /// <summary>The item does not exist.</summary>
    NotFound,

    /// <summary>The store could not be reached or did not answer in time.</summary>
    Unavailable,

    /// <summary>The store refused the credentials.</summary>
    Unauthorized,
}
