using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using K4os.Compression.LZ4;
using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox.Tests;

/// <summary>
/// Snapshots whose bytes were damaged or written to harm the host: every count, size and index they claim is checked
/// against what they hold and what the sandbox allows, so each is refused as invalid, without an unexpected
/// exception or an allocation of the size it claims, and the snapshot it came from still restores.
/// </summary>
[Collection(EngineTests.Name)]
public sealed class HostileSnapshotTests(EngineFixture engine)
{
    public static TheoryData<string> Damages => new()
    {
        "globals count",
        "chunk size",
        "chunk count",
        "negative chunk index",
        "chunk index past memory",
        "file length",
        "negative file length",
        "entry count",
        "file in a runtime folder",
        "body cut short",
        "bit flipped in the compressed body",
        "block larger than a block",
        "block longer than the snapshot",
        "block that decodes to another length",
        "negative block length",
        "block that fails its checksum",
        "data after the last block",
        "no end of blocks",
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task A_damaged_snapshot_is_refused_and_the_original_still_restores(string damage)
    {
        var original = await CaptureAsync();
        var damaged = Damage(original, damage);

        var error = await Assert.ThrowsAsync<SandboxException>(() => engine.Runtime("python").RestoreAsync(damaged, SandboxLimits.Default));

        Assert.Equal(SandboxErrorKind.SnapshotInvalid, error.Kind);
        await using var restored = await engine.Runtime("python").RestoreAsync(original, SandboxLimits.Default);
        Assert.Equal("'kept'", await restored.ValueAsync("state"));
    }

    [Fact]
    public async Task A_body_that_expands_beyond_what_the_sandbox_could_hold_is_refused()
    {
        var original = await CaptureAsync();
        var limits = SandboxLimits.Default with { MemoryBytes = 32L * 1024 * 1024, Files = new Vfs.VfsLimits(100, 1024 * 1024, 1024 * 1024) };
        var bomb = Rewrite(original, body => [.. body, .. new byte[256 * 1024 * 1024]]);

        var error = await Assert.ThrowsAsync<SandboxException>(() => engine.Runtime("python").RestoreAsync(bomb, limits));

        Assert.Equal(SandboxErrorKind.SnapshotInvalid, error.Kind);
        Assert.True(bomb.Length < 16 * 1024 * 1024, "The compressed body should be small beside what it expands to.");
    }

    [Fact]
    public async Task A_snapshot_in_the_zlib_format_of_earlier_builds_still_restores()
    {
        var current = await CaptureAsync();
        var image = await (await engine.Catalog.GetLoadedAsync("python")).GetBaseImageAsync();

        // Format 1 holds each chunk as it is; format 2 holds it XORed with the base image.
        var body = ReadBody(current);
        var chunks = BodyLayout.Read(body).ChunkSizeOffset + 8;
        for (var position = chunks; position < body.Length; position += 4 + 4096)
        {
            var offset = BitConverter.ToInt32(body, position) * 4096L;
            for (var i = 0; i < 4096 && offset + i < image.Memory.Length; i++)
            {
                body[position + 4 + i] ^= image.Memory[offset + i];
            }
        }

        var headerLength = HeaderLength(current);
        using var output = new MemoryStream();
        output.Write(current, 0, headerLength);
        output.GetBuffer()[Magic.Length] = 1;
        using (var compressed = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            compressed.Write(body);
        }

        await using var restored = await engine.Runtime("python").RestoreAsync(output.ToArray(), SandboxLimits.Default);

        Assert.Equal("'kept'", await restored.ValueAsync("state"));
        Assert.Equal("'hello'", await restored.ValueAsync("open('/workspace/notes.txt').read()"));
    }

    private async Task<byte[]> CaptureAsync()
    {
        await using var sandbox = await engine.CreateAsync("python");
        await sandbox.ValueAsync("state = 'kept'\nopen('/workspace/notes.txt', 'w').write('hello')");
        return await sandbox.CaptureSnapshotAsync();
    }

    private static byte[] Damage(byte[] snapshot, string damage) => damage switch
    {
        "body cut short" => Rewrite(snapshot, body => body[..(body.Length - 100)]),
        "bit flipped in the compressed body" => FlipInCompressedBody(snapshot),
        "block larger than a block" => EditFirstBlockHeader(snapshot, raw: BlockSize + 1),
        "block longer than the snapshot" => EditFirstBlockHeader(snapshot, compressed: int.MaxValue),
        "block that decodes to another length" => EditFirstBlockHeader(snapshot, raw: BinaryPrimitives.ReadInt32LittleEndian(snapshot.AsSpan(HeaderLength(snapshot))) - 1),
        "negative block length" => EditFirstBlockHeader(snapshot, raw: -1),
        "block that fails its checksum" => EditFirstBlockHeader(snapshot, hash: 42),
        "data after the last block" => [.. snapshot, 1, 2, 3],
        "no end of blocks" => snapshot[..^sizeof(int)],
        _ => Rewrite(snapshot, body => Edit(body, damage)),
    };

    private static byte[] EditFirstBlockHeader(byte[] snapshot, int? raw = null, int? compressed = null, ulong? hash = null)
    {
        var edited = (byte[])snapshot.Clone();
        var block = edited.AsSpan(HeaderLength(snapshot));
        if (raw is { } rawLength)
        {
            BinaryPrimitives.WriteInt32LittleEndian(block, rawLength);
        }

        if (compressed is { } compressedLength)
        {
            BinaryPrimitives.WriteInt32LittleEndian(block[sizeof(int)..], compressedLength);
        }

        if (hash is { } value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(block[(2 * sizeof(int))..], value);
        }

        return edited;
    }

    private static byte[] Edit(byte[] body, string damage)
    {
        var layout = BodyLayout.Read(body);
        var edited = (byte[])body.Clone();
        var span = edited.AsSpan();
        switch (damage)
        {
            case "globals count":
                BitConverter.TryWriteBytes(span[4..], int.MaxValue);
                break;
            case "chunk size":
                BitConverter.TryWriteBytes(span[layout.ChunkSizeOffset..], int.MaxValue);
                break;
            case "chunk count":
                BitConverter.TryWriteBytes(span[(layout.ChunkSizeOffset + 4)..], int.MaxValue);
                break;
            case "negative chunk index":
                BitConverter.TryWriteBytes(span[(layout.ChunkSizeOffset + 8)..], -3);
                break;
            case "chunk index past memory":
                BitConverter.TryWriteBytes(span[(layout.ChunkSizeOffset + 8)..], int.MaxValue / 4096);
                break;
            case "file length":
                BitConverter.TryWriteBytes(span[layout.FileLengthOffset..], (long)int.MaxValue);
                break;
            case "negative file length":
                BitConverter.TryWriteBytes(span[layout.FileLengthOffset..], -1L);
                break;
            case "entry count":
                BitConverter.TryWriteBytes(span[layout.EntryCountOffset..], -1);
                break;
            case "file in a runtime folder":
                var path = Encoding.UTF8.GetBytes("/workspace/notes.txt");
                Encoding.UTF8.GetBytes("/" + new string('x', path.Length - 1)).CopyTo(span[span.IndexOf(path)..]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(damage), damage, null);
        }

        return edited;
    }

    /// <summary>The snapshot with its decompressed body replaced, recompressed under the same header.</summary>
    private static byte[] Rewrite(byte[] snapshot, Func<byte[], byte[]> change)
    {
        var headerLength = HeaderLength(snapshot);
        var body = change(ReadBody(snapshot));
        using var output = new MemoryStream();
        output.Write(snapshot, 0, headerLength);
        for (var offset = 0; offset < body.Length; offset += BlockSize)
        {
            var raw = body.AsSpan(offset, Math.Min(BlockSize, body.Length - offset));
            var compressed = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
            var length = LZ4Codec.Encode(raw, compressed);
            output.Write(BitConverter.GetBytes(raw.Length));
            output.Write(BitConverter.GetBytes(length));
            output.Write(BitConverter.GetBytes(XxHash3.HashToUInt64(raw)));
            output.Write(compressed, 0, length);
        }

        output.Write(BitConverter.GetBytes(0));
        return output.ToArray();
    }

    /// <summary>The body of a snapshot in the current format: LZ4 blocks, each after its raw and compressed length and hash.</summary>
    private static byte[] ReadBody(byte[] snapshot)
    {
        using var body = new MemoryStream();
        var position = HeaderLength(snapshot);
        while (BinaryPrimitives.ReadInt32LittleEndian(snapshot.AsSpan(position)) is var raw and > 0)
        {
            var compressed = BinaryPrimitives.ReadInt32LittleEndian(snapshot.AsSpan(position + sizeof(int)));
            var block = new byte[raw];
            Assert.Equal(raw, LZ4Codec.Decode(snapshot.AsSpan(position + BlockHeaderSize, compressed), block));
            body.Write(block);
            position += BlockHeaderSize + compressed;
        }

        return body.ToArray();
    }

    private static byte[] FlipInCompressedBody(byte[] snapshot)
    {
        var flipped = (byte[])snapshot.Clone();
        var headerLength = HeaderLength(snapshot);
        flipped[headerLength + ((snapshot.Length - headerLength) / 2)] ^= 0x10;
        return flipped;
    }

    private const int BlockSize = 1024 * 1024;
    private const int BlockHeaderSize = 16;

    private static ReadOnlySpan<byte> Magic => "SFSNAP"u8;

    /// <summary>The magic, the format version and three length-prefixed strings: language, build id, base image.</summary>
    private static int HeaderLength(byte[] snapshot)
    {
        using var reader = new BinaryReader(new MemoryStream(snapshot), Encoding.UTF8);
        reader.ReadBytes("SFSNAP".Length + 1);
        reader.ReadString();
        reader.ReadString();
        reader.ReadString();
        return (int)reader.BaseStream.Position;
    }

    /// <summary>Where the fields a test damages lie in a body: pages, globals, clock, files, then memory chunks.</summary>
    private sealed record BodyLayout(int EntryCountOffset, int FileLengthOffset, int ChunkSizeOffset)
    {
        public static BodyLayout Read(byte[] body)
        {
            using var reader = new BinaryReader(new MemoryStream(body), Encoding.UTF8);
            reader.ReadUInt32();
            var globals = reader.ReadInt32();
            reader.ReadBytes((globals * 8) + 8);
            reader.ReadByte();
            reader.ReadUInt64();
            var entryCountOffset = (int)reader.BaseStream.Position;
            var entries = reader.ReadInt32();
            var fileLengthOffset = -1;
            for (var i = 0; i < entries; i++)
            {
                reader.ReadString();
                var kind = reader.ReadByte();
                reader.ReadUInt64();
                reader.ReadInt64();
                if (kind != 1)
                {
                    fileLengthOffset = fileLengthOffset < 0 ? (int)reader.BaseStream.Position : fileLengthOffset;
                    reader.ReadBytes((int)reader.ReadInt64());
                }
            }

            return new BodyLayout(entryCountOffset, fileLengthOffset, (int)reader.BaseStream.Position);
        }
    }
}
