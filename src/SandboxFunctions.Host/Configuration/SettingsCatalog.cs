using SandboxFunctions.Sessions;

namespace SandboxFunctions.Host.Configuration;

/// <summary>Where a setting takes effect.</summary>
[Flags]
public enum SettingScope
{
    /// <summary>The app serves HTTP or stdio by itself (<c>dotnet run</c>, a container, a desktop client).</summary>
    Standalone = 1,

    /// <summary>The Azure Functions host runs the app's functions on the isolated worker, in Azure or under <c>func start</c>.</summary>
    FunctionsHost = 2,

    Everywhere = Standalone | FunctionsHost,
}

/// <summary>One setting the app reads.</summary>
/// <param name="Name">
/// The environment-variable form, <c>Section__Key</c>; on the command line it is <c>--Section:Key=value</c>.
/// <c>&lt;flavor&gt;</c> stands for a flavor name such as <c>small</c>.
/// </param>
/// <param name="Description">What it does, for people configuring a deployment.</param>
/// <param name="Default">The value used when the setting is absent, or null when absence has its own meaning (see the description).</param>
/// <param name="Scope">Where the setting has an effect.</param>
/// <param name="RequiredInAzure">Whether a deployment to Azure must set it (the templates in infra/ do).</param>
public sealed record AppSetting(
    string Name,
    string Description,
    string? Default,
    SettingScope Scope = SettingScope.Everywhere,
    bool RequiredInAzure = false);

/// <summary>
/// Every setting the app reads, in one list. The deployment templates, the sample local settings and the
/// configuration reference are checked against it, so a setting added to the code without an entry here fails
/// the build's tests.
/// </summary>
public static class SettingsCatalog
{
    public static IReadOnlyList<AppSetting> All { get; } =
    [
        // Hosting and access.
        new("ASPNETCORE_URLS",
            "Semicolon-separated addresses the standalone server listens on (also --urls). Without Auth__FunctionKeys, non-loopback addresses are replaced by 127.0.0.1.",
            "http://127.0.0.1:7071", SettingScope.Standalone),
        new("Auth__OwnerSecret",
            $"Base64 secret of at least 32 bytes that owner ids are derived under (an HMAC of the function key), so that a copy of the storage account does not reveal which keys own what. When unset, the publicly known '{OwnerIds.LocalSecret}' is used, which is fine for local use only. Keep it stable: sessions are found by it.",
            null, RequiredInAzure: true),
        new("Auth__FunctionKeys",
            "Comma-separated keys the app accepts in the x-functions-key header or the code query parameter. Needed when the app serves HTTP by itself; under the Functions host, the host checks its own function keys, and the app checks these as well only if they are set.",
            null),
        new("Mcp__AllowedOrigins",
            "Comma-separated browser origins allowed to call /mcp besides loopback origins, such as https://example.com; * allows any. Requests without an Origin header are always allowed.",
            null),
        new("Mcp__MaxRequestBodyBytes",
            "The largest request body /mcp accepts, in bytes (1024 to 268435456); larger requests get 413.",
            "4194304"),

        // Session storage.
        new("SessionStorage",
            "A storage account connection string with an account key, or UseDevelopmentStorage=true for Azurite. Leave it unset to use the identity-based SessionStorage__* settings instead.",
            null),
        new("SessionStorage__accountName",
            "The storage account for sessions, reached with Microsoft Entra ID; the blob, table and queue endpoints are derived from it. The Functions queue trigger does not derive its endpoint, so under the host also set SessionStorage__queueServiceUri.",
            null),
        new("SessionStorage__blobServiceUri",
            "The blob endpoint of the session storage account (https://<account>.blob.core.windows.net), for snapshots and job inputs.",
            null, RequiredInAzure: true),
        new("SessionStorage__tableServiceUri",
            "The table endpoint of the session storage account, for session records, jobs, cancel signals and history. Derived from the blob endpoint when unset.",
            null, RequiredInAzure: true),
        new("SessionStorage__queueServiceUri",
            "The queue endpoint of the session storage account, for background jobs. The Functions queue trigger needs it; the app derives it from the blob endpoint when unset.",
            null, RequiredInAzure: true),
        new("SessionStorage__credential",
            "Set to managedidentity to authenticate with a managed identity; when unset, DefaultAzureCredential is used (developer sign-in, environment, managed identity).",
            null, RequiredInAzure: true),
        new("SessionStorage__clientId",
            "The client ID of the user-assigned managed identity to authenticate with; without it, the system-assigned identity is used.",
            null, RequiredInAzure: true),
        new("AzureWebJobsStorage",
            "The Functions host's own storage connection (or its identity-based form, AzureWebJobsStorage__*). The app keeps sessions there when no SessionStorage setting is present.",
            null),
        new("Storage__DataPath",
            "The folder of the embedded session store, used when no storage account is configured. A single-machine store: instances do not share it.",
            ".sandbox-data"),

        // Snapshot protection.
        new("Snapshots__SigningKey",
            "Base64 key of at least 32 bytes for the HMAC-SHA256 every snapshot carries, so stored state cannot be altered or swapped. Without it, snapshots are only checksummed. Keep it stable: snapshots signed with a lost key cannot be read.",
            null, RequiredInAzure: true),
        new("Snapshots__EncryptionKey",
            "Base64 AES-256 key (exactly 32 bytes); when set, snapshots are encrypted with AES-GCM before they are stored.",
            null),
        new("Snapshots__PreviousKeys",
            "Comma-separated base64 keys that snapshots written before a key rotation may still be signed or encrypted with.",
            null),

        // Sessions.
        new("Sessions__DefaultTtl",
            "Idle time after which a session expires when its creator asks for none (d.hh:mm:ss).",
            "01:00:00"),
        new("Sessions__MaxTtl",
            "The longest idle time a caller may ask for (d.hh:mm:ss).",
            "7.00:00:00"),
        new("Sessions__MaxSessionsPerOwner",
            "Sessions one credential (function key) may hold at once.",
            "50"),
        new("Sessions__ReapInterval",
            "How often the standalone server deletes expired sessions. Under the Functions host the reaper function does this on Sessions__ReapSchedule.",
            "00:05:00", SettingScope.Standalone),
        new("Sessions__ReapSchedule",
            "When the reaper function deletes expired sessions, as a six-field CRON expression (second minute hour day month weekday) such as 0 */5 * * * * for every five minutes. The Functions host does not start the function without it.",
            null, SettingScope.FunctionsHost, RequiredInAzure: true),
        new("Sessions__OrphanGracePeriod",
            "How old a snapshot no session refers to must be before it is deleted, so that commits in flight are never cut short.",
            "00:15:00"),

        // Engine.
        new("Sandbox__RuntimesPath",
            "The folder holding the guest runtimes, one subfolder per language. When unset, the runtimes folder next to the app is used.",
            null),
        new("Sandbox__CompiledModulesPath",
            "Where the guest runtimes compiled to native code are cached, so that later starts skip seconds of compiling. When unset, sandboxfunctions/modules in the user's cache folder (XDG_CACHE_HOME, else ~/.cache) is used.",
            null),
        new("Sandbox__MaxConcurrentExecutions",
            "Code executions running at once on one instance; more wait in line.",
            "8, or twice the processor count if that is more"),
        new("Sandbox__MaxQueuedExecutions",
            "Executions allowed to wait for a free slot on one instance; beyond that, calls fail at once with a busy error.",
            "64"),
        new("Sandbox__GuestStackBytes",
            "Native stack size of each thread that runs guest code, in bytes.",
            "268435456"),
        new("Sandbox__WarmCacheMiB",
            "Guest memory one instance may keep in live sandboxes between calls, in MiB, so repeated calls to a session skip restoring it; least recently used sandboxes are dropped first.",
            "512"),

        // Flavors: the resources of each kind of sandbox callers choose from.
        new("Flavors__<flavor>__MemoryMiB",
            "Guest memory cap of sandboxes of this flavor, in MiB (16 to 4000). Setting it for a new flavor name adds that flavor; give it all six settings.",
            "small 256, medium 768, large 2048"),
        new("Flavors__<flavor>__DefaultTimeoutSeconds",
            "Timeout of a call that asks for none, in seconds.",
            "small 30, medium 60, large 120"),
        new("Flavors__<flavor>__MaxTimeoutSeconds",
            "The longest timeout a call may ask for, in seconds; at most 220, under the 230-second limit Azure puts on HTTP responses.",
            "small 120, medium 180, large 220"),
        new("Flavors__<flavor>__OutputKiB",
            "Stdout and stderr each kept in a call's result, in KiB; the rest is cut off with a marker and saved as a file in /workspace.",
            "small 64, medium 256, large 1024"),
        new("Flavors__<flavor>__WorkspaceMiB",
            "Total size of the files a session may keep in /workspace, in MiB.",
            "small 100, medium 250, large 500"),
        new("Flavors__<flavor>__MaxFiles",
            "Files and folders a session may keep in /workspace.",
            "small 1000, medium 5000, large 10000"),

        // Data volumes: shared read-only files every session finds under /data/<volume>.
        new("Volumes__<volume>__Container",
            "A blob container of the session storage account whose blobs sessions see, read-only, under /data/<volume>. A volume with neither Container nor Path is ignored.",
            null),
        new("Volumes__<volume>__Prefix",
            "Only blobs whose names start with this show, without it (e.g. `2024/`).",
            null),
        new("Volumes__<volume>__Path",
            "A folder on this machine to show as /data/<volume> instead of a container (for the embedded store).",
            null,
            SettingScope.Standalone),
        new("Volumes__<volume>__Flavors",
            "The flavors whose sessions see the volume, comma-separated; when unset, every flavor's sessions do.",
            null),
        new("Volumes__<volume>__MaxBytesPerCall",
            "The most bytes one call may open from the volume; opening more fails with EFBIG and a note saying so.",
            "268435456"),
        new("Sandbox__DataCacheMiB",
            "Bytes of /data files one instance keeps after downloading them, in MiB; least recently used files go first.",
            "512"),

        // Background jobs.
        new("Jobs__DefaultTimeoutSeconds",
            "Timeout of a background job that asks for none, in seconds.",
            "600"),
        new("Jobs__MaxTimeoutSeconds",
            "The longest a background job may run, in seconds (at most 86400). Under the Functions host, host.json's functionTimeout must be longer.",
            "3600"),
        new("Jobs__Concurrency",
            "Jobs one standalone instance runs at once (1 to 64). Under the Functions host, the queue trigger's batch size in host.json decides.",
            "2", SettingScope.Standalone),
        new("Jobs__ProgressInterval",
            "How often a running job saves its output so far and checks whether it was cancelled (hh:mm:ss).",
            "00:00:01"),
        new("Jobs__LeaseDuration",
            "How long a job holds its session without renewing; if the instance running it dies, the session is free again after this. At least four times Jobs__ProgressInterval.",
            "00:02:00"),
        new("Jobs__MaxAttempts",
            "Starts of a job whose instance stopped mid-run (restart, crash, scale-in) before the job is reported failed (1 to 10).",
            "3"),

        // Telemetry.
        new("APPLICATIONINSIGHTS_CONNECTION_STRING",
            "Connection string of the Application Insights resource that receives the app's spans, metrics and logs (under the Functions host, logs travel through the host, which sends its own there too). When unset, and without OTEL_EXPORTER_OTLP_ENDPOINT, nothing is exported.",
            null, RequiredInAzure: true),
        new("APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
            "Authorization=AAD;ClientId=<client ID of a managed identity> to send telemetry with Microsoft Entra ID, which Application Insights resources with local authentication disabled require.",
            null, RequiredInAzure: true),
        new("OTEL_EXPORTER_OTLP_ENDPOINT",
            "An OpenTelemetry collector to export spans, metrics and logs to over OTLP. The other standard OTEL_EXPORTER_OTLP_* settings (protocol, headers) apply as well.",
            null),
        new("OTEL_METRIC_EXPORT_INTERVAL",
            "How often metrics are exported, in milliseconds.",
            "60000"),
        new("Telemetry__IncludeCode",
            "Adds the first 4096 characters of executed code to spans. Off by default, because code may hold secrets.",
            "false"),

        // Package installs.
        new("Packages__IndexUrl",
            "Base URL of a Python package index's simple API (PEP 503/691), or of a private mirror; credentials may be part of it. When unset, install_package is off.",
            null),
        new("Packages__MaxWheelBytes",
            "The largest wheel install_package downloads, in bytes.",
            "26214400"),
        new("Packages__MaxTotalBytes",
            "The most one install_package call downloads, dependencies included, in bytes.",
            "62914560"),
        new("Packages__Timeout",
            "How long one install_package call may spend talking to the package index (hh:mm:ss).",
            "00:01:00"),
    ];
}
