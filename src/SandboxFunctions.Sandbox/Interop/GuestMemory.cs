using System.Buffers.Binary;
using System.Text;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// Bounds-checked access to a guest's linear memory as it is at one moment. The memory never moves, but it
/// may grow while the guest runs, so a view is taken afresh for each host call.
/// </summary>
internal readonly unsafe struct GuestMemory
{
    public const int PageSize = 65536;

    private readonly byte* _data;
    private readonly ulong _size;

    internal GuestMemory(byte* data, ulong size)
    {
        _data = data;
        _size = size;
    }

    public uint Size => (uint)Math.Min(_size, uint.MaxValue);

    public uint Pages => (uint)(_size / PageSize);

    public Span<byte> Span(uint address, uint length)
    {
        if ((ulong)address + length > _size || length > int.MaxValue)
        {
            throw new GuestMemoryException(address, length);
        }

        return new Span<byte>(_data + address, (int)length);
    }

    /// <summary>The size in bytes, which may be more than one span can hold (a memory of 2 GiB or more).</summary>
    public ulong Length => _size;

    /// <summary>A range of the memory, for snapshots; only while the guest is not running.</summary>
    public Span<byte> Range(ulong offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + (ulong)length, _size, nameof(offset));
        return new Span<byte>(_data + offset, length);
    }

    public uint ReadU32(uint address) => BinaryPrimitives.ReadUInt32LittleEndian(Span(address, 4));

    public ulong ReadU64(uint address) => BinaryPrimitives.ReadUInt64LittleEndian(Span(address, 8));

    public void WriteU8(uint address, byte value) => Span(address, 1)[0] = value;

    public void WriteU16(uint address, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Span(address, 2), value);

    public void WriteU32(uint address, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Span(address, 4), value);

    public void WriteU64(uint address, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Span(address, 8), value);

    public string ReadUtf8(uint address, uint length) => Encoding.UTF8.GetString(Span(address, length));

    /// <summary>Reads a NUL-terminated UTF-8 string of at most <paramref name="maxLength"/> bytes.</summary>
    public string ReadCString(uint address, uint maxLength = 1 << 20)
    {
        var available = Math.Min(maxLength, Size - Math.Min(address, Size));
        var bytes = Span(address, available);
        var end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}

/// <summary>A guest passed an address outside its memory to a host function.</summary>
internal sealed class GuestMemoryException(uint address, uint length)
    : Exception($"The guest passed memory range [{address}, {address + (ulong)length}) outside its linear memory.")
{
}
