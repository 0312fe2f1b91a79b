using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace SandboxFunctions.Sessions;

/// <summary>
/// Wraps snapshots for storage: a header naming the format and runtime build, optional AES-GCM encryption,
/// and an HMAC-SHA256 (or, without a key, a SHA-256 checksum) over everything. The session's owner, id and
/// version are bound into the MAC, so a snapshot cannot be replayed into another session or version.
/// </summary>
public sealed class SnapshotProtection
{
    private const byte FormatVersion = 1;
    private const byte FlagEncrypted = 1;
    private const byte FlagSigned = 2;
    private const int KeyIdLength = 4;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private const int MacLength = 32;

    private static ReadOnlySpan<byte> Magic => "SFENV"u8;

    private readonly byte[]? _signingKey;
    private readonly byte[]? _encryptionKey;
    private readonly Dictionary<string, byte[]> _keysById = new(StringComparer.Ordinal);

    public SnapshotProtection(IOptions<SnapshotProtectionOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        _signingKey = ParseKey(settings.SigningKey, $"{SnapshotProtectionOptions.SectionName}:SigningKey", exactLength: null);
        _encryptionKey = ParseKey(settings.EncryptionKey, $"{SnapshotProtectionOptions.SectionName}:EncryptionKey", exactLength: 32);
        foreach (var key in new[] { _signingKey, _encryptionKey }.Concat(
            (settings.PreviousKeys ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(k => ParseKey(k, $"{SnapshotProtectionOptions.SectionName}:PreviousKeys", exactLength: null))))
        {
            if (key is not null)
            {
                _keysById.TryAdd(KeyId(key), key);
            }
        }
    }

    public bool IsSigned => _signingKey is not null;

    public bool IsEncrypted => _encryptionKey is not null;

    public byte[] Protect(ReadOnlySpan<byte> snapshot, string runtimeBuildId, SnapshotBinding binding)
    {
        var flags = (byte)((_encryptionKey is null ? 0 : FlagEncrypted) | (_signingKey is null ? 0 : FlagSigned));
        var buildId = Encoding.UTF8.GetBytes(runtimeBuildId);
        var headerLength = Magic.Length + 2 + 1 + buildId.Length + (2 * KeyIdLength) + 4;
        var bodyLength = _encryptionKey is null ? snapshot.Length : NonceLength + snapshot.Length + TagLength;
        var output = new byte[headerLength + bodyLength + MacLength];

        var header = output.AsSpan(0, headerLength);
        Magic.CopyTo(header);
        header[Magic.Length] = FormatVersion;
        header[Magic.Length + 1] = flags;
        header[Magic.Length + 2] = checked((byte)buildId.Length);
        buildId.CopyTo(header[(Magic.Length + 3)..]);
        var keyIds = header[(Magic.Length + 3 + buildId.Length)..];
        WriteKeyId(keyIds, _encryptionKey);
        WriteKeyId(keyIds[KeyIdLength..], _signingKey);
        BinaryPrimitives.WriteInt32LittleEndian(header[^4..], snapshot.Length);

        var associated = Associated(header, binding);
        var body = output.AsSpan(headerLength, bodyLength);
        if (_encryptionKey is null)
        {
            snapshot.CopyTo(body);
        }
        else
        {
            var nonce = body[..NonceLength];
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(_encryptionKey, TagLength);
            aes.Encrypt(nonce, snapshot, body.Slice(NonceLength, snapshot.Length), body[^TagLength..], associated);
        }

        ComputeMac(_signingKey, output.AsSpan(0, headerLength + bodyLength), associated, output.AsSpan(headerLength + bodyLength));
        return output;
    }

    /// <summary>The snapshot inside an envelope; throws <see cref="SnapshotIntegrityException"/> for anything tampered, foreign or unreadable.</summary>
    public byte[] Unprotect(ReadOnlySpan<byte> envelope, string expectedRuntimeBuildId, SnapshotBinding binding)
    {
        if (envelope.Length < Magic.Length + 3 || !envelope.StartsWith(Magic) || envelope[Magic.Length] != FormatVersion)
        {
            throw new SnapshotIntegrityException("The stored snapshot is not in a format this server reads.");
        }

        var flags = envelope[Magic.Length + 1];
        var buildIdLength = envelope[Magic.Length + 2];
        var headerLength = Magic.Length + 3 + buildIdLength + (2 * KeyIdLength) + 4;
        if (envelope.Length < headerLength + MacLength)
        {
            throw new SnapshotIntegrityException("The stored snapshot is truncated.");
        }

        var header = envelope[..headerLength];
        var buildId = Encoding.UTF8.GetString(header.Slice(Magic.Length + 3, buildIdLength));
        var keyIds = header.Slice(Magic.Length + 3 + buildIdLength, 2 * KeyIdLength);
        var length = BinaryPrimitives.ReadInt32LittleEndian(header[^4..]);
        var encrypted = (flags & FlagEncrypted) != 0;
        var bodyLength = envelope.Length - headerLength - MacLength;
        if (length < 0 || bodyLength != (encrypted ? (long)NonceLength + length + TagLength : length))
        {
            throw new SnapshotIntegrityException("The stored snapshot's size does not match its header.");
        }

        var signed = (flags & FlagSigned) != 0;
        if (_signingKey is not null && !signed)
        {
            throw new SnapshotIntegrityException("The stored snapshot is not signed, but this server requires signed snapshots.");
        }

        var signingKey = signed ? FindKey(keyIds[KeyIdLength..], "signed") : null;
        var associated = Associated(header, binding);
        Span<byte> mac = stackalloc byte[MacLength];
        ComputeMac(signingKey, envelope[..(headerLength + bodyLength)], associated, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, envelope[^MacLength..]))
        {
            throw new SnapshotIntegrityException("The stored snapshot failed its integrity check: it was changed, damaged, or belongs to another session.");
        }

        if (buildId != expectedRuntimeBuildId)
        {
            throw new SnapshotIntegrityException(
                $"The stored snapshot was written by runtime build {buildId}, but this server runs {expectedRuntimeBuildId}; sessions cannot move between runtime builds.");
        }

        var body = envelope.Slice(headerLength, bodyLength);
        if (!encrypted)
        {
            return body.ToArray();
        }

        var plaintext = new byte[length];
        using var aes = new AesGcm(FindKey(keyIds[..KeyIdLength], "encrypted"), TagLength);
        try
        {
            aes.Decrypt(body[..NonceLength], body.Slice(NonceLength, length), body[^TagLength..], plaintext, associated);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new SnapshotIntegrityException("The stored snapshot could not be decrypted: it was changed or encrypted with another key.", ex);
        }

        return plaintext;
    }

    private static byte[] Associated(ReadOnlySpan<byte> header, SnapshotBinding binding) =>
        [.. header, .. Encoding.UTF8.GetBytes($"\n{binding.Owner}\n{binding.SessionId}\n{binding.Version}")];

    private static void ComputeMac(byte[]? key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> associated, Span<byte> destination)
    {
        if (key is null)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(data);
            hash.AppendData(associated);
            hash.GetHashAndReset(destination);
            return;
        }

        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(data);
        hmac.AppendData(associated);
        hmac.GetHashAndReset(destination);
    }

    private byte[] FindKey(ReadOnlySpan<byte> keyId, string purpose) =>
        _keysById.TryGetValue(Convert.ToHexString(keyId), out var key)
            ? key
            : throw new SnapshotIntegrityException(
                $"The stored snapshot was {purpose} with a key this server does not have; add the old key to {SnapshotProtectionOptions.SectionName}:PreviousKeys after a rotation.");

    private static void WriteKeyId(Span<byte> destination, byte[]? key)
    {
        if (key is null)
        {
            destination[..KeyIdLength].Clear();
            return;
        }

        Convert.FromHexString(KeyId(key)).CopyTo(destination);
    }

    private static string KeyId(byte[] key) => Convert.ToHexString(SHA256.HashData(key).AsSpan(0, KeyIdLength));

    private static byte[]? ParseKey(string? text, string setting, int? exactLength)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"{setting} is not valid base64; generate one with: openssl rand -base64 32", ex);
        }

        if (exactLength is { } exact ? key.Length != exact : key.Length < 32)
        {
            throw new InvalidOperationException($"{setting} must decode to {(exactLength is null ? "at least 32" : exactLength.ToString())} bytes, not {key.Length}; generate one with: openssl rand -base64 32");
        }

        return key;
    }
}

/// <summary>What a snapshot belongs to: it only verifies for this owner, session and version.</summary>
public readonly record struct SnapshotBinding(string Owner, string SessionId, long Version);

/// <summary>A stored snapshot that must not be loaded; the message says why.</summary>
public sealed class SnapshotIntegrityException : Exception
{
    public SnapshotIntegrityException()
    {
    }

    public SnapshotIntegrityException(string message)
        : base(message)
    {
    }

    public SnapshotIntegrityException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
