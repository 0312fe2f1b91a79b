using Microsoft.Extensions.Options;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools;

/// <summary>Settings of the per-process cache of live sandboxes, bound from <c>Sandbox:WarmCache*</c>.</summary>
public sealed class WarmCacheOptions
{
    /// <summary>Guest memory the cache may hold in all; least recently used sandboxes are dropped beyond it.</summary>
    public int WarmCacheMiB { get; set; } = 512;
}

/// <summary>
/// Live sandboxes kept between calls, so a busy session on one instance skips the restore. An entry is only
/// used when its version matches the session record; any other instance's commit makes it stale.
/// </summary>
public sealed class WarmSandboxCache(IOptions<WarmCacheOptions> options) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Entry> _order = new();
    private readonly Dictionary<(string Owner, string SessionId), LinkedListNode<Entry>> _entries = [];
    private long _bytes;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Takes the session's sandbox out of the cache if it is at <paramref name="version"/>; a stale one is disposed.</summary>
    public async Task<SandboxInstance?> TakeAsync(string owner, string sessionId, long version)
    {
        Entry? entry;
        lock (_gate)
        {
            if (!_entries.Remove((owner, sessionId), out var node))
            {
                return null;
            }

            _order.Remove(node);
            _bytes -= node.Value.Bytes;
            entry = node.Value;
        }

        if (entry.Version == version)
        {
            return entry.Sandbox;
        }

        await entry.Sandbox.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>Keeps a sandbox at the given version, dropping the least recently used ones beyond the budget.</summary>
    public async Task PutAsync(string owner, string sessionId, long version, SandboxInstance sandbox)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var evicted = new List<SandboxInstance>();
        var budget = (long)options.Value.WarmCacheMiB * 1024 * 1024;
        lock (_gate)
        {
            if (_entries.Remove((owner, sessionId), out var previous))
            {
                _order.Remove(previous);
                _bytes -= previous.Value.Bytes;
                evicted.Add(previous.Value.Sandbox);
            }

            var entry = new Entry(owner, sessionId, version, sandbox, sandbox.MemoryBytes);
            _entries[(owner, sessionId)] = _order.AddFirst(entry);
            _bytes += entry.Bytes;
            while (_bytes > budget && _order.Last is { } last)
            {
                _order.RemoveLast();
                _entries.Remove((last.Value.Owner, last.Value.SessionId));
                _bytes -= last.Value.Bytes;
                evicted.Add(last.Value.Sandbox);
            }
        }

        foreach (var stale in evicted)
        {
            await stale.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Drops the session's sandbox, whatever its version.</summary>
    public async Task RemoveAsync(string owner, string sessionId)
    {
        SandboxInstance? sandbox = null;
        lock (_gate)
        {
            if (_entries.Remove((owner, sessionId), out var node))
            {
                _order.Remove(node);
                _bytes -= node.Value.Bytes;
                sandbox = node.Value.Sandbox;
            }
        }

        if (sandbox is not null)
        {
            await sandbox.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<SandboxInstance> all;
        lock (_gate)
        {
            all = [.. _order.Select(e => e.Sandbox)];
            _order.Clear();
            _entries.Clear();
            _bytes = 0;
        }

        foreach (var sandbox in all)
        {
            await sandbox.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed record Entry(string Owner, string SessionId, long Version, SandboxInstance Sandbox, long Bytes);
}
