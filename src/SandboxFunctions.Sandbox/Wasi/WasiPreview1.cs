using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Interop;
using SandboxFunctions.Sandbox.Vfs;

namespace SandboxFunctions.Sandbox.Wasi;

/// <summary>
/// WASI preview1 for one sandbox, over its in-memory file system. Deny by default: no arguments or
/// environment unless given, stdin is empty, stdout and stderr go to the host's capture, sockets do not
/// exist, and the only preopen is the virtual root.
/// </summary>
internal sealed class WasiPreview1
{
    private const byte FileTypeCharacterDevice = 2;
    private const byte FileTypeDirectory = 3;
    private const byte FileTypeRegularFile = 4;
    private const ulong AllRights = 0x1FFFFFFF;
    private const ushort FdFlagAppend = 1;
    private const ushort OpenCreate = 1;
    private const ushort OpenDirectory = 2;
    private const ushort OpenExclusive = 4;
    private const ushort OpenTruncate = 8;
    private const ulong RightFdRead = 1 << 1;
    private const ulong RightFdWrite = 1 << 6;
    private const int StdinFd = 0;
    private const int StdoutFd = 1;
    private const int StderrFd = 2;
    private const ulong SetTimeAccess = 1;
    private const ulong SetTimeAccessNow = 2;
    private const ulong SetTimeModified = 4;
    private const ulong SetTimeModifiedNow = 8;
    private const long DeterministicEpochNanoseconds = 1_735_689_600L * 1_000_000_000;

    private readonly VirtualFileSystem _fs;
    private readonly TimeProvider _time;
    private readonly byte[][] _args;
    private readonly byte[][] _environment;
    private readonly long _monotonicStart = Stopwatch.GetTimestamp();
    private FileDescriptorTable _descriptors;
    private long _deterministicNanoseconds;
    private ulong _deterministicRandom = 0x5EED_5A4D_B0C5_0001;

    public WasiPreview1(VirtualFileSystem fileSystem, TimeProvider time, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        _fs = fileSystem;
        _time = time;
        _args = [.. args.Select(a => Encoding.UTF8.GetBytes(a + "\0"))];
        _environment = [.. environment.Select(e => Encoding.UTF8.GetBytes($"{e.Key}={e.Value}\0"))];
        _descriptors = new FileDescriptorTable(fileSystem.Root);
    }

    /// <summary>The current call's standard input, consumed as the guest reads it.</summary>
    public ReadOnlyMemory<byte> Stdin { get; set; }

    public OutputCapture? Stdout { get; set; }

    public OutputCapture? Stderr { get; set; }

    /// <summary>Bytes of stdout and stderr together after which the guest call is stopped.</summary>
    public long OutputHardLimit { get; set; } = long.MaxValue;

    /// <summary>Signalled when the current guest call must stop; wakes a sleeping guest.</summary>
    public ManualResetEventSlim Interrupted { get; } = new(false);

    /// <summary>The monotonic clock continues from this value, so that it never runs backwards across restores.</summary>
    public long MonotonicOffsetNanoseconds { get; set; }

    /// <summary>
    /// While set, clocks advance by a fixed step per reading and randomness comes from a fixed seed, so that
    /// booting an interpreter leaves the same memory in every process: snapshots only store differences
    /// from that memory, so it must be identical wherever they are restored.
    /// </summary>
    public bool Deterministic { get; set; }

    public long MonotonicNanoseconds => Deterministic
        ? _deterministicNanoseconds
        : MonotonicOffsetNanoseconds + (long)(Stopwatch.GetElapsedTime(_monotonicStart).Ticks * (1_000_000_000.0 / TimeSpan.TicksPerSecond));

    /// <summary>Forgets every open file; used when the guest's memory is replaced by a snapshot.</summary>
    public void ResetDescriptors() => _descriptors = new FileDescriptorTable(_fs.Root);

    public ulong Invoke(GuestInstance instance, WasiFunction function, ReadOnlySpan<ulong> a)
    {
        var memory = instance.Memory;
        try
        {
            return (ulong)(ushort)Dispatch(instance, memory, function, a);
        }
        catch (GuestMemoryException)
        {
            return (ulong)Errno.Fault;
        }
    }

    private Errno Dispatch(GuestInstance instance, GuestMemory m, WasiFunction function, ReadOnlySpan<ulong> a) => function switch
    {
        WasiFunction.ArgsGet => WriteStrings(m, _args, U32(a[0]), U32(a[1])),
        WasiFunction.ArgsSizesGet => WriteSizes(m, _args, U32(a[0]), U32(a[1])),
        WasiFunction.EnvironGet => WriteStrings(m, _environment, U32(a[0]), U32(a[1])),
        WasiFunction.EnvironSizesGet => WriteSizes(m, _environment, U32(a[0]), U32(a[1])),
        WasiFunction.ClockResGet => ClockResGet(m, U32(a[0]), U32(a[1])),
        WasiFunction.ClockTimeGet => ClockTimeGet(m, U32(a[0]), U32(a[2])),
        WasiFunction.FdAdvise => WithFile(Fd(a[0]), _ => Errno.Success),
        WasiFunction.FdAllocate => FdAllocate(Fd(a[0]), (long)a[1], (long)a[2]),
        WasiFunction.FdClose => FdClose(Fd(a[0])),
        WasiFunction.FdDatasync or WasiFunction.FdSync => IsStdio(Fd(a[0])) ? Errno.Success : WithFile(Fd(a[0]), _ => Errno.Success),
        WasiFunction.FdFdstatGet => FdFdstatGet(m, Fd(a[0]), U32(a[1])),
        WasiFunction.FdFdstatSetFlags => FdFdstatSetFlags(Fd(a[0]), (ushort)a[1]),
        WasiFunction.FdFdstatSetRights => IsStdio(Fd(a[0])) ? Errno.Success : WithFile(Fd(a[0]), _ => Errno.Success),
        WasiFunction.FdFilestatGet => FdFilestatGet(m, Fd(a[0]), U32(a[1])),
        WasiFunction.FdFilestatSetSize => FdFilestatSetSize(Fd(a[0]), (long)a[1]),
        WasiFunction.FdFilestatSetTimes => FdFilestatSetTimes(Fd(a[0]), a[2], (ushort)a[3]),
        WasiFunction.FdPread => FdRead(m, Fd(a[0]), U32(a[1]), U32(a[2]), (long)a[3], U32(a[4])),
        WasiFunction.FdPrestatGet => FdPrestatGet(m, Fd(a[0]), U32(a[1])),
        WasiFunction.FdPrestatDirName => FdPrestatDirName(m, Fd(a[0]), U32(a[1]), U32(a[2])),
        WasiFunction.FdPwrite => FdWrite(instance, m, Fd(a[0]), U32(a[1]), U32(a[2]), (long)a[3], U32(a[4])),
        WasiFunction.FdRead => FdRead(m, Fd(a[0]), U32(a[1]), U32(a[2]), -1, U32(a[3])),
        WasiFunction.FdReaddir => FdReaddir(m, Fd(a[0]), U32(a[1]), U32(a[2]), a[3], U32(a[4])),
        WasiFunction.FdRenumber => _descriptors.Renumber(Fd(a[0]), Fd(a[1])),
        WasiFunction.FdSeek => FdSeek(m, Fd(a[0]), (long)a[1], (byte)a[2], U32(a[3])),
        WasiFunction.FdTell => FdSeek(m, Fd(a[0]), 0, 1, U32(a[1])),
        WasiFunction.FdWrite => FdWrite(instance, m, Fd(a[0]), U32(a[1]), U32(a[2]), -1, U32(a[3])),
        WasiFunction.PathCreateDirectory => PathCreateDirectory(m, Fd(a[0]), U32(a[1]), U32(a[2])),
        WasiFunction.PathFilestatGet => PathFilestatGet(m, Fd(a[0]), U32(a[2]), U32(a[3]), U32(a[4])),
        WasiFunction.PathFilestatSetTimes => PathFilestatSetTimes(m, Fd(a[0]), U32(a[2]), U32(a[3]), a[5], (ushort)a[6]),
        WasiFunction.PathLink => Errno.NotSupported,
        WasiFunction.PathOpen => PathOpen(m, Fd(a[0]), U32(a[2]), U32(a[3]), (ushort)a[4], a[5], (ushort)a[7], U32(a[8])),
        WasiFunction.PathReadlink => PathReadlink(m, Fd(a[0]), U32(a[1]), U32(a[2])),
        WasiFunction.PathRemoveDirectory => PathRemove(m, Fd(a[0]), U32(a[1]), U32(a[2]), directory: true),
        WasiFunction.PathRename => PathRename(m, Fd(a[0]), U32(a[1]), U32(a[2]), Fd(a[3]), U32(a[4]), U32(a[5])),
        WasiFunction.PathSymlink => Errno.NotSupported,
        WasiFunction.PathUnlinkFile => PathRemove(m, Fd(a[0]), U32(a[1]), U32(a[2]), directory: false),
        WasiFunction.PollOneoff => PollOneoff(m, U32(a[0]), U32(a[1]), U32(a[2]), U32(a[3])),
        WasiFunction.ProcExit => ProcExit(instance, (int)a[0]),
        WasiFunction.ProcRaise => Errno.NotSupported,
        WasiFunction.RandomGet => RandomGet(m, U32(a[0]), U32(a[1])),
        WasiFunction.SchedYield => Errno.Success,
        WasiFunction.SockAccept or WasiFunction.SockRecv or WasiFunction.SockSend or WasiFunction.SockShutdown => Errno.NotSupported,
        _ => Errno.NoSys,
    };

    private static uint U32(ulong value) => (uint)value;

    private static int Fd(ulong value) => (int)(uint)value;

    private static bool IsStdio(int fd) => fd is StdinFd or StdoutFd or StderrFd;

    private static Errno WriteStrings(GuestMemory m, byte[][] strings, uint pointers, uint buffer)
    {
        foreach (var value in strings)
        {
            m.WriteU32(pointers, buffer);
            value.CopyTo(m.Span(buffer, (uint)value.Length));
            pointers += 4;
            buffer += (uint)value.Length;
        }

        return Errno.Success;
    }

    private static Errno WriteSizes(GuestMemory m, byte[][] strings, uint countOut, uint sizeOut)
    {
        m.WriteU32(countOut, (uint)strings.Length);
        m.WriteU32(sizeOut, (uint)strings.Sum(s => s.Length));
        return Errno.Success;
    }

    private static Errno ClockResGet(GuestMemory m, uint clock, uint resultOut)
    {
        if (clock > 3)
        {
            return Errno.Invalid;
        }

        m.WriteU64(resultOut, 1000);
        return Errno.Success;
    }

    private Errno ClockTimeGet(GuestMemory m, uint clock, uint resultOut)
    {
        if (Deterministic)
        {
            _deterministicNanoseconds += 1000;
            m.WriteU64(resultOut, (ulong)(clock == 0 ? DeterministicEpochNanoseconds + _deterministicNanoseconds : _deterministicNanoseconds));
            return clock > 3 ? Errno.Invalid : Errno.Success;
        }

        ulong now = clock switch
        {
            0 => (ulong)(_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100,
            1 or 2 or 3 => (ulong)MonotonicNanoseconds,
            _ => ulong.MaxValue,
        };
        if (now == ulong.MaxValue)
        {
            return Errno.Invalid;
        }

        m.WriteU64(resultOut, now);
        return Errno.Success;
    }

    private Errno WithFile(int fd, Func<OpenFile, Errno> action) =>
        _descriptors.TryGet(fd, out var file) ? action(file) : Errno.BadFileDescriptor;

    /// <summary>The open regular file behind <paramref name="fd"/> for reads, writes and seeks, without a closure on those hot paths.</summary>
    private Errno RegularFile(int fd, out OpenFile open, out VfsFile file)
    {
        file = null!;
        if (!_descriptors.TryGet(fd, out open))
        {
            return Errno.BadFileDescriptor;
        }

        if (open.Node is not VfsFile regular)
        {
            return Errno.IsDirectory;
        }

        file = regular;
        return Errno.Success;
    }

    private Errno FdAllocate(int fd, long offset, long length) => WithFile(fd, f =>
        f.Node is not VfsFile file ? Errno.IsDirectory
        : !f.Writable ? Errno.BadFileDescriptor
        : offset + length > file.Size ? _fs.SetLength(file, offset + length) : Errno.Success);

    private Errno FdClose(int fd)
    {
        if (IsStdio(fd))
        {
            return Errno.Success;
        }

        if (fd == FileDescriptorTable.FirstFileDescriptor)
        {
            return Errno.NotSupported;
        }

        return _descriptors.Remove(fd) ? Errno.Success : Errno.BadFileDescriptor;
    }

    private Errno FdFdstatGet(GuestMemory m, int fd, uint statOut)
    {
        byte type;
        ushort flags = 0;
        ulong rights = AllRights;
        if (IsStdio(fd))
        {
            type = FileTypeCharacterDevice;
            rights = fd == StdinFd ? RightFdRead : RightFdWrite;
        }
        else if (_descriptors.TryGet(fd, out var file))
        {
            type = file.Node is VfsDirectory ? FileTypeDirectory : FileTypeRegularFile;
            flags = file.Append ? FdFlagAppend : (ushort)0;
            if (file.Node is VfsFile)
            {
                rights = AllRights & ~((file.Readable ? 0 : RightFdRead) | (file.Writable ? 0 : RightFdWrite));
            }
        }
        else
        {
            return Errno.BadFileDescriptor;
        }

        var stat = m.Span(statOut, 24);
        stat.Clear();
        stat[0] = type;
        BinaryPrimitives.WriteUInt16LittleEndian(stat[2..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(stat[8..], rights);
        BinaryPrimitives.WriteUInt64LittleEndian(stat[16..], AllRights);
        return Errno.Success;
    }

    private Errno FdFdstatSetFlags(int fd, ushort flags)
    {
        if (IsStdio(fd))
        {
            return Errno.Success;
        }

        return WithFile(fd, f =>
        {
            f.Append = (flags & FdFlagAppend) != 0;
            return Errno.Success;
        });
    }

    private Errno FdFilestatGet(GuestMemory m, int fd, uint statOut)
    {
        if (IsStdio(fd))
        {
            var stat = m.Span(statOut, 64);
            stat.Clear();
            stat[16] = FileTypeCharacterDevice;
            return Errno.Success;
        }

        return WithFile(fd, f => WriteFilestat(m, f.Node, statOut));
    }

    private Errno FdFilestatSetSize(int fd, long size) => WithFile(fd, f =>
        f.Node is not VfsFile file ? Errno.IsDirectory
        : !f.Writable ? Errno.BadFileDescriptor
        : _fs.SetLength(file, size));

    private Errno FdFilestatSetTimes(int fd, ulong modified, ushort flags) =>
        _descriptors.TryGet(fd, out var file) ? SetTimes(file.Node, modified, flags) : Errno.BadFileDescriptor;

    private Errno SetTimes(VfsNode node, ulong modified, ushort flags)
    {
        if (node.IsSystem)
        {
            return _fs.ReadOnly(node);
        }

        if ((flags & SetTimeModifiedNow) != 0)
        {
            node.ModifiedNanoseconds = _fs.Now();
        }
        else if ((flags & SetTimeModified) != 0)
        {
            node.ModifiedNanoseconds = (long)modified;
        }

        _ = flags & (SetTimeAccess | SetTimeAccessNow);
        return Errno.Success;
    }

    private static Errno WriteFilestat(GuestMemory m, VfsNode node, uint statOut)
    {
        var stat = m.Span(statOut, 64);
        stat.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(stat, 1);
        BinaryPrimitives.WriteUInt64LittleEndian(stat[8..], node.Inode);
        stat[16] = node is VfsDirectory ? FileTypeDirectory : FileTypeRegularFile;
        BinaryPrimitives.WriteUInt64LittleEndian(stat[24..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(stat[32..], (ulong)node.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(stat[40..], (ulong)node.ModifiedNanoseconds);
        BinaryPrimitives.WriteUInt64LittleEndian(stat[48..], (ulong)node.ModifiedNanoseconds);
        BinaryPrimitives.WriteUInt64LittleEndian(stat[56..], (ulong)node.ModifiedNanoseconds);
        return Errno.Success;
    }

    private Errno FdPrestatGet(GuestMemory m, int fd, uint prestatOut)
    {
        if (!_descriptors.TryGet(fd, out var file) || file.PreopenName is null)
        {
            return Errno.BadFileDescriptor;
        }

        var prestat = m.Span(prestatOut, 8);
        prestat.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(prestat[4..], (uint)Encoding.UTF8.GetByteCount(file.PreopenName));
        return Errno.Success;
    }

    private Errno FdPrestatDirName(GuestMemory m, int fd, uint buffer, uint length)
    {
        if (!_descriptors.TryGet(fd, out var file) || file.PreopenName is null)
        {
            return Errno.BadFileDescriptor;
        }

        var name = Encoding.UTF8.GetBytes(file.PreopenName);
        if (name.Length > length)
        {
            return Errno.NameTooLong;
        }

        name.CopyTo(m.Span(buffer, (uint)name.Length));
        return Errno.Success;
    }

    private Errno FdRead(GuestMemory m, int fd, uint iovs, uint iovCount, long offset, uint readOut)
    {
        if (fd == StdinFd)
        {
            uint given = 0;
            for (uint i = 0; i < iovCount && !Stdin.IsEmpty; i++)
            {
                var target = m.Span(m.ReadU32(iovs + (i * 8)), m.ReadU32(iovs + (i * 8) + 4));
                var count = Math.Min(target.Length, Stdin.Length);
                Stdin.Span[..count].CopyTo(target);
                Stdin = Stdin[count..];
                given += (uint)count;
            }

            m.WriteU32(readOut, given);
            return Errno.Success;
        }

        if (IsStdio(fd))
        {
            return Errno.BadFileDescriptor;
        }

        if (RegularFile(fd, out var open, out var file) is var refused and not Errno.Success)
        {
            return refused;
        }

        if (!open.Readable)
        {
            return Errno.BadFileDescriptor;
        }

        var position = offset >= 0 ? offset : open.Position;
        uint total = 0;
        for (uint i = 0; i < iovCount; i++)
        {
            var buffer = m.ReadU32(iovs + (i * 8));
            var length = m.ReadU32(iovs + (i * 8) + 4);
            var read = file.Read(position, m.Span(buffer, length));
            position += read;
            total += (uint)read;
            if (read < length)
            {
                break;
            }
        }

        if (offset < 0)
        {
            open.Position = position;
        }

        m.WriteU32(readOut, total);
        return Errno.Success;
    }

    private Errno FdWrite(GuestInstance instance, GuestMemory m, int fd, uint iovs, uint iovCount, long offset, uint writtenOut)
    {
        if (fd is StdoutFd or StderrFd)
        {
            var capture = fd == StdoutFd ? Stdout : Stderr;
            uint written = 0;
            for (uint i = 0; i < iovCount; i++)
            {
                var data = m.Span(m.ReadU32(iovs + (i * 8)), m.ReadU32(iovs + (i * 8) + 4));
                capture?.Write(data);
                written += (uint)data.Length;
            }

            m.WriteU32(writtenOut, written);
            if ((Stdout?.TotalBytes ?? 0) + (Stderr?.TotalBytes ?? 0) > OutputHardLimit)
            {
                instance.Trap(TrapCode.OutputLimit, $"The code wrote more than {OutputHardLimit} bytes of output and was stopped.");
            }

            return Errno.Success;
        }

        if (fd == StdinFd)
        {
            return Errno.BadFileDescriptor;
        }

        if (RegularFile(fd, out var open, out var file) is var refused and not Errno.Success)
        {
            return refused;
        }

        if (!open.Writable)
        {
            return Errno.BadFileDescriptor;
        }

        var position = offset >= 0 ? offset : open.Append ? file.Size : open.Position;
        uint total = 0;
        for (uint i = 0; i < iovCount; i++)
        {
            var data = m.Span(m.ReadU32(iovs + (i * 8)), m.ReadU32(iovs + (i * 8) + 4));
            var status = _fs.Write(file, position, data);
            if (status != Errno.Success)
            {
                return total > 0 ? Finish() : status;
            }

            position += data.Length;
            total += (uint)data.Length;
        }

        return Finish();

        Errno Finish()
        {
            if (offset < 0)
            {
                open.Position = position;
            }

            m.WriteU32(writtenOut, total);
            return Errno.Success;
        }
    }

    private Errno FdReaddir(GuestMemory m, int fd, uint buffer, uint length, ulong cookie, uint usedOut)
    {
        if (!_descriptors.TryGet(fd, out var open))
        {
            return Errno.BadFileDescriptor;
        }

        if (open.Node is not VfsDirectory directory)
        {
            return Errno.NotDirectory;
        }

        var entries = new List<(string Name, VfsNode Node)> { (".", directory), ("..", directory.Parent ?? directory) };
        entries.AddRange(directory.Children.Select(c => (c.Key, c.Value)));
        var output = m.Span(buffer, length);
        var used = 0;
        Span<byte> entry = stackalloc byte[24];
        for (var index = (int)Math.Min(cookie, (ulong)entries.Count); index < entries.Count && used < output.Length; index++)
        {
            var (name, node) = entries[index];
            var nameBytes = Encoding.UTF8.GetBytes(name);
            BinaryPrimitives.WriteUInt64LittleEndian(entry, (ulong)index + 1);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], node.Inode);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[16..], (uint)nameBytes.Length);
            entry[20] = node is VfsDirectory ? FileTypeDirectory : FileTypeRegularFile;
            entry[21] = entry[22] = entry[23] = 0;

            // A partially written last entry tells the reader to call again with a bigger buffer.
            var headerPart = Math.Min(entry.Length, output.Length - used);
            entry[..headerPart].CopyTo(output[used..]);
            used += headerPart;
            var namePart = Math.Min(nameBytes.Length, output.Length - used);
            nameBytes.AsSpan(0, namePart).CopyTo(output[used..]);
            used += namePart;
        }

        m.WriteU32(usedOut, (uint)used);
        return Errno.Success;
    }

    private Errno FdSeek(GuestMemory m, int fd, long offset, byte whence, uint positionOut)
    {
        if (IsStdio(fd))
        {
            return Errno.InvalidSeek;
        }

        if (RegularFile(fd, out var open, out var file) is var refused and not Errno.Success)
        {
            return refused;
        }

        var position = whence switch
        {
            0 => offset,
            1 => open.Position + offset,
            2 => file.Size + offset,
            _ => -1,
        };
        if (position < 0 || whence > 2)
        {
            return Errno.Invalid;
        }

        open.Position = position;
        m.WriteU64(positionOut, (ulong)position);
        return Errno.Success;
    }

    private Errno ResolveDirectory(int fd, out VfsDirectory directory)
    {
        directory = _fs.Root;
        if (!_descriptors.TryGet(fd, out var open))
        {
            return Errno.BadFileDescriptor;
        }

        if (open.Node is not VfsDirectory folder)
        {
            return Errno.NotDirectory;
        }

        directory = folder;
        return Errno.Success;
    }

    private Errno PathCreateDirectory(GuestMemory m, int fd, uint path, uint pathLength)
    {
        var status = ResolveDirectory(fd, out var start);
        if (status != Errno.Success)
        {
            return status;
        }

        status = _fs.LookupParent(start, m.ReadUtf8(path, pathLength), out var parent, out var name);
        return status != Errno.Success ? status : _fs.CreateDirectory(parent, name);
    }

    private Errno PathFilestatGet(GuestMemory m, int fd, uint path, uint pathLength, uint statOut)
    {
        var status = ResolveDirectory(fd, out var start);
        if (status != Errno.Success)
        {
            return status;
        }

        status = _fs.Lookup(start, m.ReadUtf8(path, pathLength), out var node);
        return status != Errno.Success ? status : WriteFilestat(m, node!, statOut);
    }

    private Errno PathFilestatSetTimes(GuestMemory m, int fd, uint path, uint pathLength, ulong modified, ushort flags)
    {
        var status = ResolveDirectory(fd, out var start);
        if (status != Errno.Success)
        {
            return status;
        }

        status = _fs.Lookup(start, m.ReadUtf8(path, pathLength), out var node);
        return status != Errno.Success ? status : SetTimes(node!, modified, flags);
    }

    private Errno PathOpen(GuestMemory m, int fd, uint path, uint pathLength, ushort openFlags, ulong rights, ushort fdFlags, uint fdOut)
    {
        var status = ResolveDirectory(fd, out var start);
        if (status != Errno.Success)
        {
            return status;
        }

        var pathText = m.ReadUtf8(path, pathLength);
        status = _fs.Lookup(start, pathText, out var node);
        if (status == Errno.NoEntry && (openFlags & OpenCreate) != 0)
        {
            status = _fs.LookupParent(start, pathText, out var parent, out var name);
            if (status != Errno.Success)
            {
                return status;
            }

            status = _fs.CreateFile(parent, name, out var created);
            node = created;
        }
        else if (status == Errno.Success && (openFlags & (OpenCreate | OpenExclusive)) == (OpenCreate | OpenExclusive))
        {
            return Errno.Exists;
        }

        if (status != Errno.Success)
        {
            return status;
        }

        if ((openFlags & OpenDirectory) != 0 && node is not VfsDirectory)
        {
            return Errno.NotDirectory;
        }

        var wantsWrite = (rights & RightFdWrite) != 0 || (openFlags & OpenTruncate) != 0;
        if (node is VfsDirectory)
        {
            wantsWrite = false;
        }
        else if (wantsWrite && node!.IsSystem)
        {
            return _fs.ReadOnly(node);
        }

        if ((openFlags & OpenTruncate) != 0 && node is VfsFile file)
        {
            status = _fs.SetLength(file, 0);
            if (status != Errno.Success)
            {
                return status;
            }
        }

        if (node is VfsFile opened)
        {
            status = VirtualFileSystem.Open(opened);
            if (status != Errno.Success)
            {
                return status;
            }
        }

        var open = new OpenFile(node!, readable: (rights & RightFdRead) != 0 || node is VfsDirectory, writable: wantsWrite)
        {
            Append = (fdFlags & FdFlagAppend) != 0,
        };
        status = _descriptors.Add(open, out var newFd);
        if (status == Errno.Success)
        {
            m.WriteU32(fdOut, (uint)newFd);
        }

        return status;
    }

    private Errno PathReadlink(GuestMemory m, int fd, uint path, uint pathLength)
    {
        var status = ResolveDirectory(fd, out var start);
        if (status != Errno.Success)
        {
            return status;
        }

        status = _fs.Lookup(start, m.ReadUtf8(path, pathLength), out _);
        return status != Errno.Success ? status : Errno.Invalid;
    }

    private Errno PathRemove(GuestMemory m, int fd, uint path, uint pathLength, bool directory)
    {
        var status = ResolveDirectory(fd, out var start);
        if (status != Errno.Success)
        {
            return status;
        }

        status = _fs.LookupParent(start, m.ReadUtf8(path, pathLength), out var parent, out var name);
        return status != Errno.Success ? status : _fs.Remove(parent, name, directory);
    }

    private Errno PathRename(GuestMemory m, int fromFd, uint fromPath, uint fromLength, int toFd, uint toPath, uint toLength)
    {
        var status = ResolveDirectory(fromFd, out var fromStart);
        if (status == Errno.Success)
        {
            status = ResolveDirectory(toFd, out var toStart);
            if (status == Errno.Success)
            {
                status = _fs.LookupParent(fromStart, m.ReadUtf8(fromPath, fromLength), out var fromParent, out var fromName);
                if (status == Errno.Success)
                {
                    status = _fs.LookupParent(toStart, m.ReadUtf8(toPath, toLength), out var toParent, out var toName);
                    if (status == Errno.Success)
                    {
                        status = _fs.Rename(fromParent, fromName, toParent, toName);
                    }
                }
            }
        }

        return status;
    }

    private Errno PollOneoff(GuestMemory m, uint subscriptions, uint events, uint count, uint eventsOut)
    {
        if (count == 0)
        {
            return Errno.Invalid;
        }

        // Clocks are the only thing a guest can wait on; a descriptor is always ready.
        long? wakeAt = null;
        var ready = new List<(ulong UserData, byte Type)>();
        for (uint i = 0; i < count; i++)
        {
            var subscription = m.Span(subscriptions + (i * 48), 48);
            var userData = BinaryPrimitives.ReadUInt64LittleEndian(subscription);
            var tag = subscription[8];
            if (tag == 0)
            {
                var clock = BinaryPrimitives.ReadUInt32LittleEndian(subscription[16..]);
                var timeout = (long)BinaryPrimitives.ReadUInt64LittleEndian(subscription[24..]);
                var absolute = (BinaryPrimitives.ReadUInt16LittleEndian(subscription[40..]) & 1) != 0;
                var now = clock == 0 ? (long)(_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100 : MonotonicNanoseconds;
                var delay = absolute ? timeout - now : timeout;
                var due = MonotonicNanoseconds + Math.Max(0, delay);
                if (wakeAt is null || due < wakeAt)
                {
                    wakeAt = due;
                    ready.Clear();
                    ready.Add((userData, 0));
                }
            }
            else
            {
                ready.Add((userData, tag));
                wakeAt = MonotonicNanoseconds;
            }
        }

        var remaining = (wakeAt ?? MonotonicNanoseconds) - MonotonicNanoseconds;
        if (remaining > 0 && !Deterministic)
        {
            Interrupted.Wait(TimeSpan.FromTicks(Math.Min(remaining / 100, TimeSpan.FromDays(1).Ticks)));
        }

        for (var i = 0; i < ready.Count; i++)
        {
            var @event = m.Span(events + (uint)(i * 32), 32);
            @event.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(@event, ready[i].UserData);
            @event[10] = ready[i].Type;
        }

        m.WriteU32(eventsOut, (uint)ready.Count);
        return Errno.Success;
    }

    private static Errno ProcExit(GuestInstance instance, int code)
    {
        instance.Trap(TrapCode.Exit, $"The code exited with status {code}.", code);
        return Errno.Success;
    }

    private Errno RandomGet(GuestMemory m, uint buffer, uint length)
    {
        var target = m.Span(buffer, length);
        if (!Deterministic)
        {
            RandomNumberGenerator.Fill(target);
            return Errno.Success;
        }

        for (var i = 0; i < target.Length; i++)
        {
            // splitmix64: a fixed sequence, for the deterministic boot only.
            var z = _deterministicRandom += 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            target[i] = (byte)(z ^ (z >> 31));
        }

        return Errno.Success;
    }
}
