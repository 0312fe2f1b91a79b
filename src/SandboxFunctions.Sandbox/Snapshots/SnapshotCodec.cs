using System.IO.Compression;
using System.Text;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Interop;

namespace SandboxFunctions.Sandbox.Snapshots;

/// <summary>
/// A sandbox's complete state as bytes: the parts of linear memory that differ from the runtime's base
/// image (in 4 KiB chunks), the globals, the monotonic clock and the guest's files, compressed. The
/// header names the runtime build, because memory from one build means nothing to another.
/// </summary>
internal static class SnapshotCodec
{
    private const byte FormatVersion = 1;
    private const int ChunkSize = 4096;

    private static ReadOnlySpan<byte> Magic => "SFSNAP"u8;

    /// <summary>
    /// The snapshot's bytes, and its body as <see cref="Read"/> would return it, so that a caller who keeps the state
    /// as a rollback point need not decompress what it just compressed.
    /// </summary>
    public static (byte[] Snapshot, SnapshotContent Content) Write(GuestContext context, BaseImage image, RuntimeInfo runtime)
    {
        var memory = context.Instance.Memory;
        var changed = FindChangedChunks(memory, image, context.Instance);
        var globals = new ulong[context.Runtime.Module.GlobalCount];
        context.Instance.GetGlobals(globals);

        using var output = new MemoryStream();
        output.Write(Magic);
        output.WriteByte(FormatVersion);
        using (var header = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true))
        {
            header.Write(runtime.Language);
            header.Write(runtime.BuildId);
            header.Write(image.Fingerprint);
        }

        using var content = new MemoryStream();
        using (var body = new BinaryWriter(content, Encoding.UTF8, leaveOpen: true))
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
            foreach (var chunk in changed)
            {
                body.Write(chunk);
                body.Write(memory.Range((ulong)chunk * ChunkSize, ChunkSize));
            }
        }

        var bodyBytes = content.ToArray();
        using (var compressed = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            compressed.Write(bodyBytes);
        }

        return (output.ToArray(), new SnapshotContent(bodyBytes));
    }

    /// <summary>Checks the header and decompresses the body; throws <see cref="SandboxException"/> for foreign or damaged data.</summary>
    public static SnapshotContent Read(ReadOnlySpan<byte> data, RuntimeInfo runtime, BaseImage image, SandboxLimits limits)
    {
        if (data.Length < Magic.Length + 1 || !data.StartsWith(Magic))
        {
            throw new SandboxException(SandboxErrorKind.SnapshotInvalid, "The data is not a sandbox snapshot.");
        }

        if (data[Magic.Length] != FormatVersion)
        {
            throw new SandboxException(SandboxErrorKind.SnapshotFromOtherBuild,
                $"The snapshot has format version {data[Magic.Length]}, which this build cannot read.");
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

            using var compressed = new ZLibStream(input, CompressionMode.Decompress);
            return new SnapshotContent(Decompress(compressed, MaxBodyBytes(limits)));
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

                if (body.Read(memory.Range((ulong)chunk * ChunkSize, ChunkSize)) != ChunkSize)
                {
                    throw new EndOfStreamException("The snapshot ends inside a memory chunk.");
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

    /// <summary>
    /// The most a body may expand to: what the sandbox's memory and files could hold, with room for limits lowered
    /// since it was saved. A damaged or hostile snapshot that claims more stops here instead of exhausting the host.
    /// </summary>
    private static long MaxBodyBytes(SandboxLimits limits) =>
        Math.Min(Array.MaxLength, (2 * (limits.MemoryBytes + limits.Files.MaxTotalBytes)) + (64L * 1024 * 1024));

    private static byte[] Decompress(Stream compressed, long maxBytes)
    {
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = compressed.Read(buffer)) > 0)
        {
            if (body.Length + read > maxBytes)
            {
                throw new InvalidDataException($"The snapshot expands to more than the {maxBytes / (1024 * 1024)} MiB its sandbox could hold.");
            }

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

/// <summary>A decompressed snapshot body, checked to belong to this runtime build.</summary>
internal sealed class SnapshotContent(byte[] body)
{
    public byte[] Body { get; } = body;
}
