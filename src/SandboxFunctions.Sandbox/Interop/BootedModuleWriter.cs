using System.Buffers;

namespace SandboxFunctions.Sandbox.Interop;

/// <summary>
/// Rewrites a guest module so that its initial state is a booted interpreter's: the memory's data segments
/// become the booted memory, its minimum size the booted size, and the mutable globals' initial values the
/// booted values. An instance of the result starts where the boot ended, and Wasmtime maps its memory
/// copy-on-write from the compiled module instead of copying it, so a new sandbox costs no memory copy.
/// </summary>
internal static class BootedModuleWriter
{
    private const byte SectionImport = 2;
    private const byte SectionMemory = 5;
    private const byte SectionGlobal = 6;
    private const byte SectionExport = 7;
    private const byte SectionData = 11;
    private const byte SectionDataCount = 12;
    private const byte ExternGlobal = 3;
    private const byte OpEnd = 0x0B;
    private const byte OpI32Const = 0x41;
    private const byte OpI64Const = 0x42;
    private const byte TypeI32 = 0x7F;
    private const byte TypeI64 = 0x7E;

    /// <summary>Zero runs shorter than this stay inside a data segment; longer ones split it.</summary>
    private const int SegmentGap = 4096;

    /// <summary>
    /// The rewritten module. <paramref name="globals"/> holds the booted value of each exported mutable global
    /// by export name. Throws <see cref="InvalidDataException"/> for a module this cannot rewrite (an imported
    /// memory, passive data segments, globals of other types).
    /// </summary>
    public static byte[] Write(ReadOnlySpan<byte> module, ReadOnlySpan<byte> memory, IReadOnlyDictionary<string, ulong> globals)
    {
        if (module.Length < 8 || !module[..4].SequenceEqual("\0asm"u8))
        {
            throw new InvalidDataException("The data is not a WebAssembly module.");
        }

        if (memory.Length % GuestMemory.PageSize != 0)
        {
            throw new InvalidDataException("The booted memory is not a whole number of pages.");
        }

        var sections = ReadSections(module);
        var importedGlobals = CountImportedGlobals(module, sections);
        var globalValues = MapExportedGlobals(module, sections, globals, importedGlobals);
        var segments = FindSegments(memory);

        var output = new ArrayBufferWriter<byte>(module.Length + memory.Length);
        output.Write(module[..8]);
        var wroteData = false;
        foreach (var section in sections)
        {
            var payload = module.Slice(section.Offset, section.Length);
            switch (section.Id)
            {
                case SectionMemory:
                    WriteSection(output, SectionMemory, RewriteMemory(payload, (uint)(memory.Length / GuestMemory.PageSize)));
                    break;
                case SectionGlobal:
                    WriteSection(output, SectionGlobal, RewriteGlobals(payload, globalValues));
                    break;
                case SectionDataCount:
                    WriteSection(output, SectionDataCount, Leb((uint)segments.Count));
                    break;
                case SectionData:
                    CheckActiveSegments(payload);
                    WriteSection(output, SectionData, WriteSegments(memory, segments));
                    wroteData = true;
                    break;
                default:
                    WriteSection(output, section.Id, payload);
                    break;
            }
        }

        if (!wroteData)
        {
            throw new InvalidDataException("The module has no data section to replace.");
        }

        return output.WrittenSpan.ToArray();
    }

    private static List<Section> ReadSections(ReadOnlySpan<byte> module)
    {
        var sections = new List<Section>();
        var position = 8;
        while (position < module.Length)
        {
            var id = module[position++];
            var length = checked((int)ReadLeb(module, ref position));
            if (position + length > module.Length)
            {
                throw new InvalidDataException("A section runs past the end of the module.");
            }

            sections.Add(new Section(id, position, length));
            position += length;
        }

        return sections;
    }

    private static int CountImportedGlobals(ReadOnlySpan<byte> module, List<Section> sections)
    {
        var imports = sections.Find(s => s.Id == SectionImport);
        if (imports.Length == 0)
        {
            return 0;
        }

        var payload = module.Slice(imports.Offset, imports.Length);
        var position = 0;
        var count = ReadLeb(payload, ref position);
        var globals = 0;
        for (var i = 0UL; i < count; i++)
        {
            SkipName(payload, ref position);
            SkipName(payload, ref position);
            var kind = payload[position++];
            switch (kind)
            {
                case 0:
                    ReadLeb(payload, ref position);
                    break;
                case 1:
                    position++;
                    SkipLimits(payload, ref position);
                    break;
                case 2:
                    throw new InvalidDataException("The module imports its memory.");
                case ExternGlobal:
                    position += 2;
                    globals++;
                    break;
                default:
                    throw new InvalidDataException($"The module has an import of unknown kind {kind}.");
            }
        }

        return globals;
    }

    private static Dictionary<int, ulong> MapExportedGlobals(ReadOnlySpan<byte> module, List<Section> sections, IReadOnlyDictionary<string, ulong> globals, int importedGlobals)
    {
        var byIndex = new Dictionary<int, ulong>();
        var exports = sections.Find(s => s.Id == SectionExport);
        var payload = module.Slice(exports.Offset, exports.Length);
        var position = 0;
        var count = exports.Length == 0 ? 0 : ReadLeb(payload, ref position);
        for (var i = 0UL; i < count; i++)
        {
            var name = ReadName(payload, ref position);
            var kind = payload[position++];
            var index = checked((int)ReadLeb(payload, ref position));
            if (kind == ExternGlobal && globals.TryGetValue(name, out var value))
            {
                if (index < importedGlobals)
                {
                    throw new InvalidDataException($"The global {name} is imported, so its booted value cannot be kept.");
                }

                byIndex[index - importedGlobals] = value;
            }
        }

        if (byIndex.Count != globals.Count)
        {
            throw new InvalidDataException("Not every booted global is an export of the module.");
        }

        return byIndex;
    }

    private static byte[] RewriteMemory(ReadOnlySpan<byte> payload, uint pages)
    {
        var position = 0;
        if (ReadLeb(payload, ref position) != 1)
        {
            throw new InvalidDataException("The module does not define exactly one memory.");
        }

        var flags = payload[position++];
        ReadLeb(payload, ref position);
        var output = new ArrayBufferWriter<byte>();
        output.Write(Leb(1));
        output.Write<byte>([flags]);
        output.Write(Leb(pages));
        if ((flags & 1) != 0)
        {
            var maximum = ReadLeb(payload, ref position);
            if (maximum < pages)
            {
                throw new InvalidDataException("The booted memory is larger than the module's maximum.");
            }

            output.Write(Leb(maximum));
        }

        if ((flags & ~1) != 0)
        {
            throw new InvalidDataException("The module's memory is shared or 64-bit.");
        }

        return output.WrittenSpan.ToArray();
    }

    private static byte[] RewriteGlobals(ReadOnlySpan<byte> payload, Dictionary<int, ulong> values)
    {
        var position = 0;
        var count = ReadLeb(payload, ref position);
        var output = new ArrayBufferWriter<byte>(payload.Length);
        output.Write(Leb(count));
        for (var index = 0; index < (int)count; index++)
        {
            var type = payload[position];
            var start = position;
            position += 2;
            var initStart = position;
            while (payload[position] != OpEnd || !IsWholeExpression(payload[initStart..(position + 1)]))
            {
                position++;
            }

            position++;
            if (!values.TryGetValue(index, out var value))
            {
                output.Write(payload[start..position]);
                continue;
            }

            output.Write(payload.Slice(start, 2));
            switch (type)
            {
                case TypeI32:
                    output.Write<byte>([OpI32Const]);
                    output.Write(SignedLeb((int)(uint)value));
                    break;
                case TypeI64:
                    output.Write<byte>([OpI64Const]);
                    output.Write(SignedLeb((long)value));
                    break;
                default:
                    throw new InvalidDataException($"The global {index} has a type whose booted value cannot be written.");
            }

            output.Write<byte>([OpEnd]);
        }

        return output.WrittenSpan.ToArray();
    }

    // Constant expressions in the modules this reads are a single i32/i64 const or global.get, then end; the
    // check keeps a 0x0B byte inside a constant's encoding from ending the scan early.
    private static bool IsWholeExpression(ReadOnlySpan<byte> expression)
    {
        var position = 1;
        switch (expression[0])
        {
            case OpI32Const or OpI64Const or 0x23:
                ReadLeb(expression, ref position);
                break;
            case 0x44:
                position += 8;
                break;
            case 0x43:
                position += 4;
                break;
            default:
                return true;
        }

        return position == expression.Length - 1;
    }

    private static void CheckActiveSegments(ReadOnlySpan<byte> payload)
    {
        var position = 0;
        var count = ReadLeb(payload, ref position);
        for (var i = 0UL; i < count; i++)
        {
            var flags = ReadLeb(payload, ref position);
            if (flags != 0)
            {
                throw new InvalidDataException("The module has passive data segments, which code may still copy from.");
            }

            while (payload[position] != OpEnd)
            {
                position++;
            }

            position++;
            var length = checked((int)ReadLeb(payload, ref position));
            position += length;
        }
    }

    private static byte[] WriteSegments(ReadOnlySpan<byte> memory, List<(int Start, int Length)> segments)
    {
        var output = new ArrayBufferWriter<byte>(memory.Length);
        output.Write(Leb((uint)segments.Count));
        foreach (var (start, length) in segments)
        {
            output.Write<byte>([0, OpI32Const]);
            output.Write(SignedLeb(start));
            output.Write<byte>([OpEnd]);
            output.Write(Leb((uint)length));
            output.Write(memory.Slice(start, length));
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The non-zero parts of memory, as (start, length); shorter zero runs stay inside a part.</summary>
    private static List<(int Start, int Length)> FindSegments(ReadOnlySpan<byte> memory)
    {
        var segments = new List<(int, int)>();
        var position = 0;
        while (true)
        {
            var offset = memory[position..].IndexOfAnyExcept((byte)0);
            if (offset < 0)
            {
                return segments;
            }

            var start = position + offset;
            var end = start;
            while (end < memory.Length)
            {
                var zeros = memory[end..].IndexOf((byte)0);
                if (zeros < 0)
                {
                    end = memory.Length;
                    break;
                }

                end += zeros;
                var next = memory[end..].IndexOfAnyExcept((byte)0);
                if (next < 0 || next >= SegmentGap)
                {
                    break;
                }

                end += next;
            }

            segments.Add((start, end - start));
            position = end;
        }
    }

    private static void WriteSection(ArrayBufferWriter<byte> output, byte id, ReadOnlySpan<byte> payload)
    {
        output.Write([id]);
        output.Write(Leb((uint)payload.Length));
        output.Write(payload);
    }

    private static ulong ReadLeb(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            if (position >= data.Length || shift > 63)
            {
                throw new InvalidDataException("A number in the module is malformed.");
            }

            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            shift += 7;
            if (b < 0x80)
            {
                return result;
            }
        }
    }

    private static void SkipName(ReadOnlySpan<byte> data, ref int position)
    {
        var length = checked((int)ReadLeb(data, ref position));
        position += length;
    }

    private static string ReadName(ReadOnlySpan<byte> data, ref int position)
    {
        var length = checked((int)ReadLeb(data, ref position));
        var name = System.Text.Encoding.UTF8.GetString(data.Slice(position, length));
        position += length;
        return name;
    }

    private static void SkipLimits(ReadOnlySpan<byte> data, ref int position)
    {
        var flags = data[position++];
        ReadLeb(data, ref position);
        if ((flags & 1) != 0)
        {
            ReadLeb(data, ref position);
        }
    }

    private static byte[] Leb(ulong value)
    {
        Span<byte> buffer = stackalloc byte[10];
        var length = 0;
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            buffer[length++] = value != 0 ? (byte)(b | 0x80) : b;
        }
        while (value != 0);
        return buffer[..length].ToArray();
    }

    private static byte[] SignedLeb(long value)
    {
        Span<byte> buffer = stackalloc byte[10];
        var length = 0;
        while (true)
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            var done = (value == 0 && (b & 0x40) == 0) || (value == -1 && (b & 0x40) != 0);
            buffer[length++] = done ? b : (byte)(b | 0x80);
            if (done)
            {
                return buffer[..length].ToArray();
            }
        }
    }

    private readonly record struct Section(byte Id, int Offset, int Length);
}
