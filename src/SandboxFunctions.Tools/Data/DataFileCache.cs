using Microsoft.Extensions.Options;

namespace SandboxFunctions.Tools.Data;

/// <summary>
/// The bytes of data volume files this instance fetched, by volume, path and version, so that sessions reading the
/// same files share one copy and one download. Least recently used files go beyond the budget.
/// </summary>
public sealed class DataFileCache(IOptions<DataCacheOptions> options)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<(string Key, ReadOnlyMemory<byte> Content)> _order = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, ReadOnlyMemory<byte> Content)>> _entries = new(StringComparer.Ordinal);
    private long _bytes;

    public bool TryGet(string volume, string path, string version, out ReadOnlyMemory<byte> content)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(Key(volume, path, version), out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                content = node.Value.Content;
                return true;
            }
        }

        content = default;
        return false;
    }

    public void Add(string volume, string path, string version, ReadOnlyMemory<byte> content)
    {
        var budget = (long)options.Value.DataCacheMiB * 1024 * 1024;
        if (content.Length > budget)
        {
            return;
        }

        var key = Key(volume, path, version);
        lock (_gate)
        {
            if (_entries.ContainsKey(key))
            {
                return;
            }

            _entries[key] = _order.AddFirst((key, content));
            _bytes += content.Length;
            while (_bytes > budget && _order.Last is { } last)
            {
                _order.RemoveLast();
                _entries.Remove(last.Value.Key);
                _bytes -= last.Value.Content.Length;
            }
        }
    }

    private static string Key(string volume, string path, string version) => $"{volume}\n{path}\n{version}";
}

/// <summary>Settings of the per-process cache of data volume files, bound from <c>Sandbox:DataCacheMiB</c>.</summary>
public sealed class DataCacheOptions
{
    /// <summary>Bytes of data volume files the cache may hold in all; least recently used files go beyond it.</summary>
    public int DataCacheMiB { get; set; } = 512;
}
