using System.Buffers;
using System.Text;
using Azure;

namespace SandboxFunctions.Sessions.Storage;

/// <summary>
/// The naming and size rules of Azure Storage, checked before anything is sent or written, so that both stores
/// accept and refuse the same inputs and the file store can trust what reaches its paths.
/// </summary>
internal static class StorageValidation
{
    /// <summary>Azure allows 1 KiB of UTF-16 per key.</summary>
    public const int MaxKeyLength = 512;

    public const int MaxBlobNameLength = 1024;

    /// <summary>Azure allows 64 KiB of UTF-16 per string property.</summary>
    public const int MaxStringPropertyLength = 32 * 1024;

    /// <summary>Azure allows 255 properties including the three system ones.</summary>
    public const int MaxPropertyCount = 252;

    /// <summary>A queue message holds 64 KiB; the text is sent base64-encoded, which grows it by a third.</summary>
    public const int MaxMessageTextBytes = 48 * 1024;

    public const int MaxMessagesPerReceive = 32;

    public static readonly TimeSpan MaxVisibilityTimeout = TimeSpan.FromDays(7);

    /// <summary>The earliest instant Edm.DateTime can hold.</summary>
    public static readonly DateTimeOffset MinDateTime = new(1601, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly SearchValues<char> AsciiLettersAndDigits =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    private static readonly SearchValues<char> LowercaseLettersAndDigits =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789");

    private static readonly SearchValues<char> LowercaseLettersDigitsAndHyphen =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-");

    private static readonly SearchValues<char> IdentifierCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");

    /// <summary>Storage account names are 3-24 lowercase letters and digits.</summary>
    public static bool IsAccountName(string name) =>
        name.Length is >= 3 and <= 24 && name.AsSpan().IndexOfAnyExcept(LowercaseLettersAndDigits) < 0;

    /// <summary>3-63 letters and digits, starting with a letter; "tables" is reserved.</summary>
    public static void TableName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var valid = name.Length is >= 3 and <= 63
            && char.IsAsciiLetter(name[0])
            && name.AsSpan().IndexOfAnyExcept(AsciiLettersAndDigits) < 0
            && !name.Equals("tables", StringComparison.OrdinalIgnoreCase);
        if (!valid)
        {
            throw new ArgumentException($"'{name}' is not a valid table name: use 3-63 letters and digits, starting with a letter.", nameof(name));
        }
    }

    /// <summary>Containers and queues: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.</summary>
    public static void ContainerOrQueueName(string name, string kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        var valid = name.Length is >= 3 and <= 63
            && IsLowerLetterOrDigit(name[0])
            && IsLowerLetterOrDigit(name[^1])
            && name.AsSpan().IndexOfAnyExcept(LowercaseLettersDigitsAndHyphen) < 0
            && !name.Contains("--", StringComparison.Ordinal);
        if (!valid)
        {
            throw new ArgumentException(
                $"'{name}' is not a valid {kind} name: use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
                nameof(name));
        }
    }

    /// <summary>Partition and row keys: up to 512 characters, none of / \ # ? or control characters.</summary>
    public static void Key(string key, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException($"A key may have at most {MaxKeyLength} characters; this one has {key.Length}.", parameterName);
        }

        foreach (var c in key)
        {
            if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                throw new ArgumentException($"A key may not contain '/', '\\', '#', '?' or control characters (found U+{(int)c:X4}).", parameterName);
            }
        }

        RequireWellFormedUtf16(key, "A key", parameterName);
    }

    /// <summary>
    /// Blob names: 1-1024 characters without control characters. Empty, "." and ".." path segments (as in "/a",
    /// "a//b", "a/", "a/../b") are refused because URLs normalize them away, so such a blob could not be addressed again.
    /// </summary>
    public static void BlobName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxBlobNameLength)
        {
            throw new ArgumentException($"A blob name must have 1-{MaxBlobNameLength} characters.", nameof(name));
        }

        if (name.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 || name.Contains('\u007f', StringComparison.Ordinal))
        {
            throw new ArgumentException("A blob name may not contain control characters.", nameof(name));
        }

        foreach (var segment in name.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                throw new ArgumentException("A blob name may not start or end with '/', or contain '//', '/./' or '/../'.", nameof(name));
            }
        }

        RequireWellFormedUtf16(name, "A blob name", nameof(name));
    }

    /// <summary>
    /// Blob metadata travels in HTTP headers: names of ASCII letters and digits starting with a letter, printable ASCII
    /// values without surrounding spaces. Names leave out the underscore Azure would allow because Shared Key
    /// signing sorts the headers, and services and emulators disagree on where '_' sorts.
    /// </summary>
    public static void Metadata(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in metadata)
        {
            if (string.IsNullOrEmpty(name) || !char.IsAsciiLetter(name[0]) || name.AsSpan().IndexOfAnyExcept(AsciiLettersAndDigits) >= 0 || name.Length > 256)
            {
                throw new ArgumentException($"Metadata name '{name}' must be ASCII letters and digits, starting with a letter.", nameof(metadata));
            }

            if (!seen.Add(name))
            {
                throw new ArgumentException($"Metadata name '{name}' appears twice; names are case-insensitive.", nameof(metadata));
            }

            ArgumentNullException.ThrowIfNull(value, nameof(metadata));
            if (value.AsSpan().IndexOfAnyExceptInRange(' ', '~') >= 0 || value.Trim().Length != value.Length)
            {
                throw new ArgumentException($"Metadata value of '{name}' must be printable ASCII without leading or trailing spaces.", nameof(metadata));
            }
        }
    }

    public static void Entity(StorageEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        Key(entity.PartitionKey, nameof(entity));
        Key(entity.RowKey, nameof(entity));
        ArgumentNullException.ThrowIfNull(entity.Properties, nameof(entity));
        if (entity.Properties.Count > MaxPropertyCount)
        {
            throw new ArgumentException($"An entity may have at most {MaxPropertyCount} properties.", nameof(entity));
        }

        foreach (var (name, value) in entity.Properties)
        {
            PropertyName(name, nameof(entity));
            switch (value)
            {
                case null or long or int or double or bool:
                    break;
                case string text when text.Length > MaxStringPropertyLength:
                    throw new ArgumentException($"Property '{name}' has {text.Length} characters; at most {MaxStringPropertyLength} are allowed.", nameof(entity));
                case string:
                    break;
                case DateTimeOffset time when time < MinDateTime:
                    throw new ArgumentException($"Property '{name}' is earlier than {MinDateTime:yyyy-MM-dd}, which the table store cannot hold.", nameof(entity));
                case DateTimeOffset:
                    break;
                default:
                    throw new ArgumentException(
                        $"Property '{name}' has type {value.GetType().Name}; use string, long, int, double, bool or DateTimeOffset.", nameof(entity));
            }
        }
    }

    /// <summary>Property names are identifiers and may not shadow the system properties.</summary>
    public static void PropertyName(string name, string parameterName)
    {
        if (!IsIdentifier(name) || name.Length > 255)
        {
            throw new ArgumentException($"'{name}' is not a valid property name: use letters, digits and underscores, not starting with a digit.", parameterName);
        }

        if (name is "PartitionKey" or "RowKey" or "Timestamp")
        {
            throw new ArgumentException($"'{name}' is a system property and cannot be set.", parameterName);
        }
    }

    /// <summary>Filters name system properties or valid property names and compare with a supported, non-null value.</summary>
    public static void Filter(EntityFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        switch (filter)
        {
            case EntityFilter.Comparison comparison:
                if (comparison.Property is not ("PartitionKey" or "RowKey" or "Timestamp"))
                {
                    PropertyName(comparison.Property, nameof(filter));
                }

                if (!Enum.IsDefined(comparison.Operator))
                {
                    throw new ArgumentException($"Unknown comparison {comparison.Operator}.", nameof(filter));
                }

                var supported = comparison.Value switch
                {
                    string or long or int or bool or DateTimeOffset => true,
                    double number => double.IsFinite(number),
                    _ => false,
                };
                if (!supported)
                {
                    throw new ArgumentException(
                        $"A filter on '{comparison.Property}' compares with {comparison.Value?.GetType().Name ?? "null"}; use string, long, int, finite double, bool or DateTimeOffset.",
                        nameof(filter));
                }

                break;
            case EntityFilter.Conjunction conjunction:
                Filter(conjunction.Left);
                Filter(conjunction.Right);
                break;
            default:
                throw new ArgumentException($"Unsupported filter {filter.GetType().Name}.", nameof(filter));
        }
    }

    /// <summary>A condition must name a version; <see cref="ETag.All"/> names any.</summary>
    public static void Condition(ETag etag, string parameterName)
    {
        if (etag == default)
        {
            throw new ArgumentException("The ETag is empty; pass the ETag read from the store, or ETag.All to match any version.", parameterName);
        }
    }

    /// <summary>An optional condition, when given, must name a version as <see cref="Condition"/> requires.</summary>
    public static void OptionalCondition(ETag? etag, string parameterName)
    {
        if (etag is { } value)
        {
            Condition(value, parameterName);
        }
    }

    /// <summary>Everything an upload names, checked alike by every blob store before it touches anything.</summary>
    public static void Upload(string name, IReadOnlyDictionary<string, string>? metadata, ETag? ifMatch, ETag? ifNoneMatch)
    {
        BlobName(name);
        Metadata(metadata);
        OptionalCondition(ifMatch, nameof(ifMatch));
        OptionalCondition(ifNoneMatch, nameof(ifNoneMatch));
    }

    public static void MessageText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int byteCount;
        try
        {
            byteCount = StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException("The message text is not well-formed UTF-16.", nameof(text), ex);
        }

        if (byteCount > MaxMessageTextBytes)
        {
            throw new ArgumentException($"The message text is {byteCount} bytes in UTF-8; at most {MaxMessageTextBytes} are allowed.", nameof(text));
        }
    }

    public static void VisibilityTimeout(TimeSpan timeout, TimeSpan minimum, string parameterName)
    {
        if (timeout < minimum || timeout > MaxVisibilityTimeout)
        {
            throw new ArgumentOutOfRangeException(parameterName, timeout, $"Must be between {minimum} and {MaxVisibilityTimeout}.");
        }
    }

    public static int MessageCount(int maxMessages)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        return Math.Min(maxMessages, MaxMessagesPerReceive);
    }

    private static bool IsIdentifier(string? name) =>
        !string.IsNullOrEmpty(name)
        && (char.IsAsciiLetter(name[0]) || name[0] == '_')
        && name.AsSpan().IndexOfAnyExcept(IdentifierCharacters) < 0;

    private static bool IsLowerLetterOrDigit(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);

    private static void RequireWellFormedUtf16(string value, string what, string parameterName)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                throw new ArgumentException($"{what} contains an unpaired surrogate.", parameterName);
            }
        }
    }
}
