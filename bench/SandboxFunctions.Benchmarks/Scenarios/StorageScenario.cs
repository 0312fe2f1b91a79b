using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using SandboxFunctions.Benchmarks.Measurement;
using SandboxFunctions.Benchmarks.Reporting;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sandbox.Execution;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Benchmarks.Scenarios;

/// <summary>
/// A session's trips to storage, against the storage emulator and the embedded file store, with signed
/// snapshots, encrypted or not. The cold path is what an instance without the session in memory does:
/// read the record, download the snapshot, verify (and decrypt) it, restore it. The warm path is what an
/// instance that kept the sandbox does after a call: capture and commit (new blob, conditional record
/// update, old blob deleted). Each round runs every configuration's cold and warm path, interleaved.
/// </summary>
internal sealed class StorageScenario : IScenario
{
    private const string Language = "python";

    public string Name => "storage";

    public string Description => "session load (cold) and save (warm) latency and bytes: storage emulator vs file store, with/without encryption";

    public async Task<ReportSection> RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var runtime = context.Runtime(Language);
        var dataPath = Directory.CreateTempSubdirectory("bench-file-store-");
        var sessions = new List<Session>();
        try
        {
            ScenarioContext.Progress("starting the storage emulator");
            await using var azurite = await AzuriteProcess.StartAsync();
            var signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            var encryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            foreach (var (storeName, provider) in new[]
            {
                ("storage emulator", StorageProviderFactory.Create(Settings(("SessionStorage", azurite.ConnectionString)), dataPath.FullName, TimeProvider.System)),
                ("file store", StorageProviderFactory.Create(Settings(), dataPath.FullName, TimeProvider.System)),
            })
            {
                foreach (var encrypted in new[] { false, true })
                {
                    var protection = new SnapshotProtection(Options.Create(new SnapshotProtectionOptions
                    {
                        SigningKey = signingKey,
                        EncryptionKey = encrypted ? encryptionKey : null,
                    }));
                    var label = $"{storeName}, signed{(encrypted ? " + encrypted" : string.Empty)}";
                    sessions.Add(await Session.StartAsync(label, runtime, provider, protection));
                }
            }

            var steps = sessions.SelectMany(s => new[] { (Session: s, Cold: true), (Session: s, Cold: false) }).ToList();
            var samples = new Samples();
            await Rounds.RunAsync(context.Warmup, context.Rounds(20), steps, async (step, record) =>
            {
                var phases = step.Cold ? await step.Session.LoadColdAsync(runtime) : await step.Session.SaveWarmAsync();
                if (record)
                {
                    foreach (var (phase, value) in phases)
                    {
                        samples.Add($"{step.Session.Label}/{phase}", value);
                    }
                }
            });

            var section = new SectionBuilder(Name, "Session storage: cold load vs warm save, per phase");
            foreach (var session in sessions)
            {
                Distribution Phase(string name) => samples[$"{session.Label}/{name}"];
                section.Group(session.Label)
                    .Add("cold: record read", Unit.Milliseconds, Phase(Session.RecordRead))
                    .Add("cold: snapshot download", Unit.Milliseconds, Phase(Session.Download))
                    .Add("cold: verify" + (session.Encrypted ? " + decrypt" : string.Empty), Unit.Milliseconds, Phase(Session.Unprotect))
                    .Add("cold: restore", Unit.Milliseconds, Phase(Session.Restore))
                    .Add("cold: total", Unit.Milliseconds, Phase(Session.ColdTotal))
                    .Add("warm: capture", Unit.Milliseconds, Phase(Session.Capture))
                    .Add("warm: commit (sign" + (session.Encrypted ? " + encrypt" : string.Empty) + ", upload, update record, delete old blob)", Unit.Milliseconds, Phase(Session.Commit))
                    .Add("  of which sign" + (session.Encrypted ? " + encrypt" : string.Empty) + ", measured alone", Unit.Milliseconds, Phase(Session.Protect))
                    .Add("warm: total", Unit.Milliseconds, Phase(Session.WarmTotal))
                    .Add("history write (insert, then trim to the newest 100)", Unit.Milliseconds, Phase(Session.HistoryWrite))
                    .Add("bytes per commit (= per cold download)", Unit.Bytes, Phase(Session.EnvelopeBytes))
                    .Add("  of which envelope (header, MAC" + (session.Encrypted ? ", nonce, tag" : string.Empty) + ")", Unit.Bytes, Phase(Session.EnvelopeOverheadBytes));
            }

            return section
                .Note("The session is Python after x = 1; every warm save follows an untimed x += 1, so each commit writes a new state.")
                .Note("Cold load is timed as SessionStore does it (GetAsync, then the blob download and Unprotect of LoadSnapshotAsync), phase by phase; commit is SessionStore.CommitAsync.")
                .Note("A tool call (SandboxSessions.UseAsync) reads the record once, under the session's lock, before either path: add one record read to the warm path for a whole call.")
                .Note("The storage emulator runs on this machine over loopback HTTP; against Azure Storage each request adds a network round trip.")
                .Build();
        }
        finally
        {
            foreach (var session in sessions)
            {
                await session.DisposeAsync();
            }

            dataPath.Delete(recursive: true);
        }
    }

    private static IConfiguration Settings(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    /// <summary>One session in one store configuration, and the sandbox of an instance that keeps it warm.</summary>
    private sealed class Session : IAsyncDisposable
    {
        public const string RecordRead = "record read";
        public const string Download = "download";
        public const string Unprotect = "unprotect";
        public const string Restore = "restore";
        public const string ColdTotal = "cold total";
        public const string Capture = "capture";
        public const string Protect = "protect";
        public const string Commit = "commit";
        public const string WarmTotal = "warm total";
        public const string HistoryWrite = "history write";
        public const string EnvelopeBytes = "envelope bytes";
        public const string EnvelopeOverheadBytes = "envelope overhead bytes";

        private readonly SessionStore _store;
        private readonly ExecutionHistory _history;
        private readonly IBlobContainer _snapshots;
        private readonly SnapshotProtection _protection;
        private readonly SandboxInstance _sandbox;
        private SessionRecord _record;

        private Session(string label, SessionStore store, ExecutionHistory history, IBlobContainer snapshots, SnapshotProtection protection, SandboxInstance sandbox, SessionRecord record)
        {
            Label = label;
            _store = store;
            _history = history;
            _snapshots = snapshots;
            _protection = protection;
            _sandbox = sandbox;
            _record = record;
        }

        public string Label { get; }

        public bool Encrypted => _protection.IsEncrypted;

        public static async Task<Session> StartAsync(string label, IGuestRuntime runtime, IStorageProvider provider, SnapshotProtection protection)
        {
            var store = new SessionStore(provider, protection, Options.Create(new SessionStoreOptions()), TimeProvider.System);
            var now = DateTimeOffset.UtcNow;
            var record = await store.CreateAsync(new SessionRecord
            {
                Owner = "bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)),
                Id = "s-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                Language = runtime.Info.Language,
                RuntimeBuildId = runtime.Info.BuildId,
                Flavor = "standard",
                CreatedAt = now,
                LastUsedAt = now,
                ExpiresAt = now + TimeSpan.FromHours(1),
                Ttl = TimeSpan.FromHours(1),
            });
            var sandbox = await runtime.CreateAsync(SandboxLimits.Default);
            await sandbox.RunAsync("x = 1");
            record = await store.CommitAsync(record, await sandbox.CaptureSnapshotAsync(), new SessionChange(1, sandbox.MemoryBytes, []));
            return new Session(label, store, new ExecutionHistory(provider), provider.GetContainer(SessionStore.ContainerName), protection, sandbox, record);
        }

        public async Task<IReadOnlyList<(string Phase, double Value)>> LoadColdAsync(IGuestRuntime runtime)
        {
            var started = Stopwatch.GetTimestamp();
            var record = await _store.GetAsync(_record.Owner, _record.Id) ?? throw new InvalidOperationException($"The session vanished from the {Label}.");
            var recordRead = Rounds.MillisecondsSince(started);

            started = Stopwatch.GetTimestamp();
            var blob = await _snapshots.DownloadAsync(record.SnapshotBlob!) ?? throw new InvalidOperationException($"The snapshot vanished from the {Label}.");
            var download = Rounds.MillisecondsSince(started);

            started = Stopwatch.GetTimestamp();
            var snapshot = _protection.Unprotect(blob.Content, record.RuntimeBuildId, new SnapshotBinding(record.Owner, record.Id, record.Version));
            var unprotect = Rounds.MillisecondsSince(started);

            started = Stopwatch.GetTimestamp();
            var restored = await runtime.RestoreAsync(snapshot, SandboxLimits.Default);
            var restore = Rounds.MillisecondsSince(started);
            await restored.DisposeAsync();

            return
            [
                (RecordRead, recordRead),
                (Download, download),
                (Unprotect, unprotect),
                (Restore, restore),
                (ColdTotal, recordRead + download + unprotect + restore),
            ];
        }

        public async Task<IReadOnlyList<(string Phase, double Value)>> SaveWarmAsync()
        {
            await _sandbox.RunAsync("x += 1");
            var started = Stopwatch.GetTimestamp();
            var snapshot = await _sandbox.CaptureSnapshotAsync();
            var capture = Rounds.MillisecondsSince(started);

            started = Stopwatch.GetTimestamp();
            _record = await _store.CommitAsync(_record, snapshot, new SessionChange(1, _sandbox.MemoryBytes, []));
            var commit = Rounds.MillisecondsSince(started);

            started = Stopwatch.GetTimestamp();
            await _history.RecordAsync(_record.Owner, _record.Id, new HistoryEntry(DateTimeOffset.UtcNow, "execution", _record.Language, "ok", 1, "x += 1", string.Empty));
            var historyWrite = Rounds.MillisecondsSince(started);

            started = Stopwatch.GetTimestamp();
            _ = _protection.Protect(snapshot, _record.RuntimeBuildId, new SnapshotBinding(_record.Owner, _record.Id, _record.Version));
            var protect = Rounds.MillisecondsSince(started);

            return
            [
                (Capture, capture),
                (Commit, commit),
                (Protect, protect),
                (WarmTotal, capture + commit),
                (HistoryWrite, historyWrite),
                (EnvelopeBytes, _record.SnapshotBytes),
                (EnvelopeOverheadBytes, _record.SnapshotBytes - snapshot.Length),
            ];
        }

        /// <summary>Only the sandbox: the emulator keeps the session in memory and is stopped, and the file store's folder is deleted.</summary>
        public ValueTask DisposeAsync() => _sandbox.DisposeAsync();
    }
}
