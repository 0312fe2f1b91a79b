using System.Text;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sandbox.Interop;

namespace SandboxFunctions.Sandbox.Runtimes;

/// <summary>
/// Small conveniences over the QuickJS reactor's C API: values are pointers to heap-allocated JSValues
/// that the caller frees; strings cross as UTF-8 in guest memory.
/// </summary>
internal sealed class Js(GuestContext context, QuickJsRuntime.Exports exports)
{
    public GuestContext Context { get; } = context;

    public QuickJsRuntime.Exports Exports { get; } = exports;

    /// <summary>The text of the last exception an Eval* method swallowed.</summary>
    public string? LastFailure { get; private set; }

    public uint Call(GuestFunction function, params ReadOnlySpan<ulong> args) => (uint)Context.Instance.Call(function, args);

    /// <summary>Frees guest memory on the way out, unless a trap already made the instance unusable.</summary>
    private void Release(GuestFunction free, uint pointer)
    {
        if (!Context.Instance.IsFaulted)
        {
            Call(free, pointer);
        }
    }

    public bool IsException(uint value) => Call(Exports.IsException, value) != 0;

    public T WithString<T>(string text, Func<uint, uint, T> use)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var pointer = AllocateBytes(bytes, terminate: true);
        try
        {
            return use(pointer, (uint)bytes.Length);
        }
        finally
        {
            Release(Exports.Free, pointer);
        }
    }

    public T WithCString<T>(string text, Func<uint, T> use) => WithString(text, (pointer, _) => use(pointer));

    public uint AllocateBytes(byte[] bytes, bool terminate)
    {
        var length = (uint)bytes.Length + (terminate ? 1u : 0u);
        var pointer = Call(Exports.Malloc, Math.Max(length, 1));
        if (pointer == 0)
        {
            throw new InvalidOperationException("The JavaScript heap is out of memory.");
        }

        var target = Context.Instance.Memory.Span(pointer, length);
        bytes.CopyTo(target);
        if (terminate)
        {
            target[^1] = 0;
        }

        return pointer;
    }

    public uint AllocateCString(string text) => AllocateBytes(Encoding.UTF8.GetBytes(text), terminate: true);

    public uint Eval(string code, string fileName, uint flags)
    {
        return WithString(code, (codePointer, codeLength) =>
            WithCString(fileName, namePointer => Call(Exports.Eval, codePointer, codeLength, namePointer, flags)));
    }

    /// <summary>Evaluates host-written driver code; false if it threw (the text is kept in <see cref="LastFailure"/>).</summary>
    public bool EvalDiscard(string code)
    {
        var value = Eval(code, "<sandbox>", 0);
        if (IsException(value))
        {
            LastFailure = TakeExceptionText();
            return false;
        }

        Call(Exports.FreeValue, value);
        return true;
    }

    public string? EvalString(string code)
    {
        var value = Eval(code, "<sandbox>", 0);
        if (IsException(value))
        {
            LastFailure = TakeExceptionText();
            return null;
        }

        try
        {
            return ReadString(value);
        }
        finally
        {
            Release(Exports.FreeValue, value);
        }
    }

    public double? EvalNumber(string code)
    {
        var value = Eval(code, "<sandbox>", 0);
        if (IsException(value))
        {
            LastFailure = TakeExceptionText();
            return null;
        }

        var number = BitConverter.UInt64BitsToDouble(Context.Instance.Call(Exports.GetFloat64, value));
        Call(Exports.FreeValue, value);
        return number;
    }

    /// <summary>Converts any value to a string (as String(value) would) and reads it.</summary>
    public string? ReadString(uint value)
    {
        var lengthOut = Call(Exports.Malloc, 4);
        try
        {
            var text = Call(Exports.GetStringLength, value, lengthOut);
            if (text == 0)
            {
                return null;
            }

            var memory = Context.Instance.Memory;
            var result = memory.ReadUtf8(text, memory.ReadU32(lengthOut));
            Call(Exports.FreeCString, text);
            return result;
        }
        finally
        {
            Release(Exports.Free, lengthOut);
        }
    }

    public string TakeExceptionText()
    {
        var exception = Call(Exports.GetException);
        try
        {
            return ReadString(exception) ?? "unknown error";
        }
        finally
        {
            Release(Exports.FreeValue, exception);
        }
    }

    /// <summary>A new string value, owned by whoever receives the pointer.</summary>
    public uint NewString(string text)
    {
        return WithString(text, (pointer, length) => Call(Exports.NewString, pointer, length));
    }

    public void ThrowError(string message)
    {
        var error = Call(Exports.NewError);
        var text = NewString(message);
        WithCString("message", name => Call(Exports.SetPropString, error, name, text));
        Call(Exports.FreeValue, text);
        Call(Exports.Throw, error);
        Call(Exports.FreeValue, error);
    }

    public void WriteStderr(string text) => Context.Wasi.Stderr?.Write(Encoding.UTF8.GetBytes(text));
}
