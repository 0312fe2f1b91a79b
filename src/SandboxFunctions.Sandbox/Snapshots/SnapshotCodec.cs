using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using K4os.Compression.LZ4;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Interop;

namespace SandboxFunctions.Sandbox.Snapshots;

/// <summary>
/// A sandbox's complete state as bytes: the parts of linear memory that differ from the runtime's base
/// image (in 4 KiB chunks), the globals, the monotonic clock and the guest's files, compressed. The
/// header names the runtime build, because memory from one build means nothing to another.
/// </summary>
/// <remarks>
/// Every call that changes a session writes a whole snapshot before it answers, so this sits on the path of every
/// call. Format 2 stores each changed chunk XORed with the base image: a call dirties many pages but few bytes
/// in each, so chunks become mostly zeros, which LZ4 (compressing in blocks) packs many times faster and smaller
/// than zlib packed the raw chunks. Format 1 (raw chunks, one zlib stream) is still read, so sessions saved by
/// earlier builds restore.
/// </remarks>
internal static class SnapshotCodec
{
    private const byte ZlibFormat = 1;
    private const byte Lz4BlocksFormat = 2;
    private const int ChunkSize = 4096;
    private const int BlockSize = 1024 * 1024;

    /// <summary>A block's raw length, compressed length and the XXH3 hash of its raw bytes (LZ4 itself checks nothing).</summary>
    private const int BlockHeaderSize = (2 * sizeof(int)) + sizeof(ulong);

    private static ReadOnlySpan<byte> Magic => "SFSNAP"u8;

    /// <summary>The sandbox's state as snapshot bytes.</summary>
    /// <remarks>
    /// The body is built and compressed in pooled buffers: a warm call captures hundreds of KiB that compress to a few
    /// KiB, and fresh arrays of that size would each be a large-object allocation, which sets off full collections.
    /// </remarks>
    public static byte[] Write(GuestContext context, BaseImage image, RuntimeInfo runtime)
    {
        var memory = context.Instance.Memory;
        var changed = FindChangedChunks(memory, image, context.Instance);
        var globals = new ulong[context.Runtime.Module.GlobalCount];
        context.Instance.GetGlobals(globals);

        using var header = new MemoryStream();
        header.Write(Magic);
        header.WriteByte(Lz4BlocksFormat);
        using (var writer = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(runtime.Language);
            writer.Write(runtime.BuildId);
            writer.Write(image.Fingerprint);
        }

        using var prefix = new MemoryStream();
        using (var body = new BinaryWriter(prefix, Encoding.UTF8, leaveOpen: true))
        {
            body.Write(memory.Pages);
            body.Write(globals.Length);
            foreach (var value in globals)
            {
                body.Write(value);
            }

            body.Write(context.Wasi.MonotonicNanoseconds);
            context.Files.Save(body);
            body.Write(ChunkSize);
            body.Write(changed.Count);
        }

        var length = checked((int)prefix.Length + (changed.Count * (sizeof(int) + ChunkSize)));
        var buffer = ScratchBuffer.Rent(length);
        try
        {
            prefix.GetBuffer().AsSpan(0, (int)prefix.Length).CopyTo(buffer);
            var position = (int)prefix.Length;
            foreach (var chunk in changed)
            {
                BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(position), chunk);
                var delta = buffer.AsSpan(position + sizeof(int), ChunkSize);
                memory.Range((ulong)chunk * ChunkSize, ChunkSize).CopyTo(delta);
                XorWithBase(delta, chunk, image);
                position += sizeof(int) + ChunkSize;
            }

            return Compress(header.GetBuffer().AsSpan(0, (int)header.Length), buffer.AsSpan(0, length));
        }
        finally
        {
            ScratchBuffer.Return(buffer);
        }
    }

    /// <summary>The header, then the body in blocks, each a block header and LZ4 data, then a raw length of 0.</summary>
    private static byte[] Compress(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        var blocks = (body.Length + BlockSize - 1) / BlockSize;
        var output = ScratchBuffer.Rent(header.Length + (blocks * (BlockHeaderSize + LZ4Codec.MaximumOutputSize(BlockSize))) + sizeof(int));
        try
        {
            header.CopyTo(output);
            var position = header.Length;
            for (var offset = 0; offset < body.Length; offset += BlockSize)
            {
                var raw = body.Slice(offset, Math.Min(BlockSize, body.Length - offset));
                var compressed = LZ4Codec.Encode(raw, output.AsSpan(position + BlockHeaderSize), LZ4Level.L00_FAST);
                BinaryPrimitives.WriteInt32LittleEndian(output.AsSpan(position), raw.Length);
                BinaryPrimitives.WriteInt32LittleEndian(output.AsSpan(position + sizeof(int)), compressed);
                BinaryPrimitives.WriteUInt64LittleEndian(output.AsSpan(position + (2 * sizeof(int))), XxHash3.HashToUInt64(raw));
                position += BlockHeaderSize + compressed;
            }

            BinaryPrimitives.WriteInt32LittleEndian(output.AsSpan(position), 0);
            return output.AsSpan(0, position + sizeof(int)).ToArray();
        }
        finally
        {
            ScratchBuffer.Return(output);
        }
    }

    /// <summary>Checks the header and decompresses the body; throws <see cref="SandboxException"/> for foreign or damaged data.</summary>
    public static SnapshotContent Read(ReadOnlySpan<byte> data, RuntimeInfo runtime, BaseImage image, SandboxLimits limits)
    {
        if (data.Length < Magic.Length + 1 || !data.StartsWith(Magic))
        {
            throw new SandboxException(SandboxErrorKind.SnapshotInvalid, "The data is not a sandbox snapshot.");
        }

        var format = data[Magic.Length];
        if (format is not (ZlibFormat or Lz4BlocksFormat))
        {
            throw new SandboxException(SandboxErrorKind.SnapshotFromOtherBuild,
                $"The snapshot has format version {format}, which this build cannot read.");
        }

        try
        {
            using var input = new MemoryStream(data[(Magic.Length + 1)..].ToArray());
            using var header = new BinaryReader(input, Encoding.UTF8, leaveOpen: true);
            var language = header.ReadString();
            var buildId = header.ReadString();
            if (language != runtime.Language || buildId != runtime.BuildId)
            {
                throw new SandboxException(SandboxErrorKind.SnapshotFromOtherBuild,
                    $"The snapshot was written by the {language} runtime build {buildId}, but this server runs {runtime.Language} build {runtime.BuildId}; state cannot move between builds.");
            }

            var fingerprint = header.ReadString();
            if (fingerprint != image.Fingerprint)
            {
                throw new SandboxException(SandboxErrorKind.SnapshotFromOtherBuild,
                    $"The snapshot was taken against base image {fingerprint}, but this process booted {image.Fingerprint}; it cannot be applied here.");
            }

            if (format == Lz4BlocksFormat)
            {
                return new SnapshotContent(DecompressBlocks(data[(Magic.Length + 1 + (int)input.Position)..], MaxBodyBytes(limits)), ChunksAreDeltas: true);
            }

            using var compressed = new ZLibStream(input, CompressionMode.Decompress);
            return new SnapshotContent(Decompress(compressed, MaxBodyBytes(limits)), ChunksAreDeltas: false);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new SandboxException(SandboxErrorKind.SnapshotInvalid, "The snapshot is damaged and cannot be read.", ex);
        }
    }

    /// <summary>Rebuilds memory, globals, clock and files of a freshly instantiated guest from the base image and a snapshot.</summary>
    public static void Apply(SnapshotContent? snapshot, BaseImage image, GuestContext context)
    {
        if (snapshot is null)
        {
            if (!image.Preloaded)
            {
                ApplyMemory(context, image.Pages, image);
                context.Instance.SetGlobals(image.Globals);
            }

            context.Wasi.MonotonicOffsetNanoseconds = image.MonotonicNanoseconds;
            return;
        }

        try
        {
            using var body = new BinaryReader(new MemoryStream(snapshot.Body), Encoding.UTF8);
            var pages = body.ReadUInt32();
            var globalCount = body.ReadInt32();
            if (globalCount != context.Runtime.Module.GlobalCount)
            {
                throw new InvalidDataException("The snapshot has a different number of globals than the guest.");
            }

            var globals = new ulong[globalCount];
            for (var i = 0; i < globals.Length; i++)
            {
                globals[i] = body.ReadUInt64();
            }

            var monotonic = body.ReadInt64();
            context.Files.Load(body);
            ApplyMemory(context, pages, image);
            var memory = context.Instance.Memory;
            if (body.ReadInt32() != ChunkSize)
            {
                throw new InvalidDataException($"The snapshot's memory is not in chunks of {ChunkSize} bytes.");
            }

            var count = body.ReadInt32();
            if (count < 0 || (ulong)count > memory.Length / ChunkSize)
            {
                throw new InvalidDataException($"The snapshot claims {count} memory chunks, more than its memory holds.");
            }

            for (var i = 0; i < count; i++)
            {
                var chunk = body.ReadInt32();
                if (chunk < 0 || (ulong)(chunk + 1) * ChunkSize > memory.Length)
                {
                    throw new InvalidDataException("A memory chunk lies outside the snapshot's memory.");
                }

                var target = memory.Range((ulong)chunk * ChunkSize, ChunkSize);
                if (body.Read(target) != ChunkSize)
                {
                    throw new EndOfStreamException("The snapshot ends inside a memory chunk.");
                }

                if (snapshot.ChunksAreDeltas)
                {
                    XorWithBase(target, chunk, image);
                }
            }

            context.Instance.SetGlobals(globals);
            context.Wasi.MonotonicOffsetNanoseconds = monotonic;
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new SandboxException(SandboxErrorKind.SnapshotInvalid, "The snapshot is damaged and cannot be read.", ex);
        }
    }

    /// <summary>XORs a chunk with the base image's bytes at the same place; beyond the image, memory starts as zeros.</summary>
    private static void XorWithBase(Span<byte> chunk, int index, BaseImage image)
    {
        var offset = (long)index * ChunkSize;
        if (offset + ChunkSize > image.Memory.Length)
        {
            return;
        }

        var target = MemoryMarshal.Cast<byte, Vector<byte>>(chunk);
        var source = MemoryMarshal.Cast<byte, Vector<byte>>(image.Memory.AsSpan((int)offset, ChunkSize));
        for (var i = 0; i < target.Length; i++)
        {
            target[i] ^= source[i];
        }
    }

    /// <summary>
    /// The most a body may expand to: what the sandbox's memory and files could hold, with room for limits lowered
    /// since it was saved. A damaged or hostile snapshot that claims more stops here instead of exhausting the host.
    /// </summary>
    private static long MaxBodyBytes(SandboxLimits limits) =>
        Math.Min(Array.MaxLength, (2 * (limits.MemoryBytes + limits.Files.MaxTotalBytes)) + (64L * 1024 * 1024));

    private static void EnsureWithin(long bodyBytes, long maxBytes)
    {
        if (bodyBytes > maxBytes)
        {
            throw new InvalidDataException($"The snapshot expands to more than the {maxBytes / (1024 * 1024)} MiB its sandbox could hold.");
        }
    }

    private static byte[] DecompressBlocks(ReadOnlySpan<byte> blocks, long maxBytes)
    {
        using var body = new MemoryStream();
        var buffer = ScratchBuffer.Rent(BlockSize);
        try
        {
            var position = 0;
            while (true)
            {
                var raw = ReadLength(blocks, ref position);
                if (raw == 0)
                {
                    return position == blocks.Length ? body.ToArray() : throw new InvalidDataException("The snapshot has data after its last block.");
                }

                var compressed = ReadLength(blocks, ref position);
                if (blocks.Length - position < sizeof(ulong))
                {
                    throw new EndOfStreamException("The snapshot ends inside a block header.");
                }

                var hash = BinaryPrimitives.ReadUInt64LittleEndian(blocks[position..]);
                position += sizeof(ulong);
                if (raw > BlockSize || compressed > blocks.Length - position)
                {
                    throw new InvalidDataException("A block of the snapshot claims more data than a block or the snapshot holds.");
                }

                EnsureWithin(body.Length + raw, maxBytes);

                if (LZ4Codec.Decode(blocks.Slice(position, compressed), buffer.AsSpan(0, raw)) != raw)
                {
                    throw new InvalidDataException("A block of the snapshot does not decompress to its stated length.");
                }

                if (XxHash3.HashToUInt64(buffer.AsSpan(0, raw)) != hash)
                {
                    throw new InvalidDataException("A block of the snapshot does not match its checksum.");
                }

                body.Write(buffer, 0, raw);
                position += compressed;
            }
        }
        finally
        {
            ScratchBuffer.Return(buffer);
        }
    }

    private static int ReadLength(ReadOnlySpan<byte> data, ref int position)
    {
        if (data.Length - position < sizeof(int))
        {
            throw new EndOfStreamException("The snapshot ends inside a block header.");
        }

        var value = BinaryPrimitives.ReadInt32LittleEndian(data[position..]);
        position += sizeof(int);
        return value >= 0 ? value : throw new InvalidDataException("A block of the snapshot has a negative length.");
    }

    private static byte[] Decompress(Stream compressed, long maxBytes)
    {
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = compressed.Read(buffer)) > 0)
        {
            EnsureWithin(body.Length + read, maxBytes);

            body.Write(buffer, 0, read);
        }

        return body.ToArray();
    }

    private static void ApplyMemory(GuestContext context, uint pages, BaseImage image)
    {
        var instance = context.Instance;
        if (pages < image.Pages)
        {
            throw new InvalidDataException("The snapshot's memory is smaller than the runtime's base image.");
        }

        if (pages > instance.MaxPages)
        {
            throw new SandboxException(SandboxErrorKind.MemoryLimitTooSmall,
                $"The saved state needs {(long)pages * GuestMemory.PageSize / (1024 * 1024)} MiB of memory, more than the sandbox's {(long)instance.MaxPages * GuestMemory.PageSize / (1024 * 1024)} MiB limit.");
        }

        var current = instance.Memory.Pages;
        if (pages > current && instance.GrowMemory(pages - current) == uint.MaxValue)
        {
            throw new SandboxException(SandboxErrorKind.Internal, "The host could not provide memory for the guest.");
        }

        // The instance is fresh, so the pages beyond the base image are still zero; an instance of the booted
        // module already holds the image.
        if (!image.Preloaded)
        {
            image.Memory.CopyTo(instance.Memory.Range(0, image.Memory.Length));
        }
    }

    /// <summary>
    /// The chunks that differ from the base image. In an instance of the booted module, a chunk on a page the
    /// guest never wrote still is the image (or zero beyond it), so only written pages are compared, and the
    /// others are never touched.
    /// </summary>
    private static List<int> FindChangedChunks(GuestMemory current, BaseImage image, GuestInstance instance)
    {
        var changed = new List<int>();
        var baseMemory = image.Memory.AsSpan();
        var chunks = checked((int)(current.Length / ChunkSize));
        var written = new bool[chunks];
        var known = image.Preloaded && instance.TryFindWrittenChunks(ChunkSize, written);
        for (var chunk = 0; chunk < chunks; chunk++)
        {
            if (known && !written[chunk])
            {
                continue;
            }

            var offset = (long)chunk * ChunkSize;
            var now = current.Range((ulong)offset, ChunkSize);
            var unchanged = offset + ChunkSize <= baseMemory.Length
                ? now.SequenceEqual(baseMemory.Slice((int)offset, ChunkSize))
                : !now.ContainsAnyExcept((byte)0);
            if (!unchanged)
            {
                changed.Add(chunk);
            }
        }

        return changed;
    }
}

/// <summary>
/// Buffers for building, compressing and decompressing snapshots, from the shared pool up to a size worth keeping around; a larger
/// state is rare enough to allocate for.
/// </summary>
internal static class ScratchBuffer
{
    private const int MaxPooledLength = 16 * 1024 * 1024;

    public static byte[] Rent(int length) => length <= MaxPooledLength ? System.Buffers.ArrayPool<byte>.Shared.Rent(length) : new byte[length];

    public static void Return(byte[] buffer)
    {
        if (buffer.Length <= MaxPooledLength)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>A decompressed snapshot body, checked to belong to this runtime build.</summary>
/// <param name="Body">Pages, globals, clock, files, then the memory chunks that differ from the base image.</param>
/// <param name="ChunksAreDeltas">True when each chunk holds its bytes XORed with the base image's (format 2), false when it holds them as they are.</param>
internal sealed record SnapshotContent(byte[] Body, bool ChunksAreDeltas);
