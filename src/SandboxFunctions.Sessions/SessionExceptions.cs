namespace SandboxFunctions.Sessions;

/// <summary>Another call changed the session between this call's read and its commit; nothing of this call was kept.</summary>
public sealed class SessionConflictException : Exception
{
    public SessionConflictException()
        : base("The session was changed by another call while this one ran, so this call's changes were discarded. Retry the call.")
    {
    }

    public SessionConflictException(string message)
        : base(message)
    {
    }

    public SessionConflictException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A session with this id already exists for this owner.</summary>
public sealed class SessionExistsException : Exception
{
    public SessionExistsException()
    {
    }

    public SessionExistsException(string message)
        : base(message)
    {
    }

    public SessionExistsException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The owner already holds as many live sessions as one owner may.</summary>
public sealed class SessionLimitException : Exception
{
    public SessionLimitException()
    {
    }

    public SessionLimitException(string message)
        : base(message)
    {
    }

    public SessionLimitException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public int Limit { get; init; }
}
