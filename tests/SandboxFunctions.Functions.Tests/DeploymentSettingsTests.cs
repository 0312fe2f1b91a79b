using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SandboxFunctions.Host;
using SandboxFunctions.Host.Configuration;
using SandboxFunctions.Host.Endpoints;
using SandboxFunctions.Host.Http;
using SandboxFunctions.Host.Telemetry;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sessions;
using SandboxFunctions.Sessions.Storage;
using SandboxFunctions.Testing;
using SandboxFunctions.Tools;
using SandboxFunctions.Tools.Data;
using SandboxFunctions.Tools.Diagnostics;
using SandboxFunctions.Tools.Jobs;
using SandboxFunctions.Tools.Packages;

namespace SandboxFunctions.Functions.Tests;

/// <summary>
/// Keeps the settings catalog, the app's options, the Bicep templates, the sample local settings and the
/// Functions app (host.json and the functions.metadata its build generates) in agreement, so that none drifts unnoticed.
/// </summary>
public sealed partial class DeploymentSettingsTests
{
    private const string FlavorPlaceholder = "<flavor>";
    private const string VolumePlaceholder = "<volume>";

    /// <summary>The options the host binds from configuration, with their sections.</summary>
    private static readonly (Type Type, string Section)[] BoundOptions =
    [
        (typeof(SandboxOptions), SandboxOptions.SectionName),
        (typeof(WarmCacheOptions), SandboxOptions.SectionName),
        (typeof(DataCacheOptions), SandboxOptions.SectionName),
        (typeof(SessionStorageOptions), "Storage"),
        (typeof(SessionStoreOptions), SessionStoreOptions.SectionName),
        (typeof(SnapshotProtectionOptions), SnapshotProtectionOptions.SectionName),
        (typeof(OwnerIdOptions), OwnerIdOptions.SectionName),
        (typeof(JobOptions), JobOptions.SectionName),
        (typeof(McpHttpOptions), McpHttpOptions.SectionName),
        (typeof(PackageIndexOptions), PackageIndexOptions.SectionName),
        (typeof(TelemetryOptions), TelemetryOptions.SectionName),
    ];

    /// <summary>Settings of the Functions host itself, which the templates set but the app never reads.</summary>
    private static readonly HashSet<string> PlatformSettings = new(StringComparer.Ordinal)
    {
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
    };

    /// <summary>Catalog entries whose default depends on the machine, so it is described rather than given.</summary>
    private static readonly HashSet<string> DescribedDefaults = new(StringComparer.Ordinal) { "Sandbox__MaxConcurrentExecutions" };

    /// <summary>Valid values, unlike the defaults, for string options whose validators or parsers need a specific shape.</summary>
    private static readonly Dictionary<string, string> StringSamples = new(StringComparer.Ordinal)
    {
        ["Mcp__AllowedOrigins"] = "https://client.example",
        ["Snapshots__SigningKey"] = Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray()),
        ["Auth__OwnerSecret"] = Convert.ToBase64String(Enumerable.Repeat((byte)4, 32).ToArray()),
        ["Snapshots__EncryptionKey"] = Convert.ToBase64String(Enumerable.Repeat((byte)2, 32).ToArray()),
        ["Snapshots__PreviousKeys"] = Convert.ToBase64String(Enumerable.Repeat((byte)3, 32).ToArray()),
        ["Packages__IndexUrl"] = "https://packages.example/simple/",
        ["Sandbox__RuntimesPath"] = Path.Combine(Path.GetTempPath(), "sandbox-runtimes-sample"),
        ["Sandbox__CompiledModulesPath"] = Path.Combine(Path.GetTempPath(), "sandbox-modules-sample"),
        ["Storage__DataPath"] = Path.Combine(Path.GetTempPath(), "sandbox-data-sample"),
    };

    private static string FunctionsProject => Path.Combine(TestPaths.RepositoryRoot, "src", "SandboxFunctions.Functions");

    private static string HostJsonPath => Path.Combine(FunctionsProject, "host.json");

    /// <summary>The two ways the app is composed: the standalone server's Program and the Functions app's Program.</summary>
    public static TheoryData<string> Compositions => [Standalone, FunctionsApp];

    private const string Standalone = "standalone";
    private const string FunctionsApp = "functions";

    [Fact]
    public async Task The_readme_configuration_reference_is_the_catalog()
    {
        const string Start = "<!-- settings:start -->";
        const string End = "<!-- settings:end -->";
        var readme = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var start = readme.IndexOf(Start, StringComparison.Ordinal);
        var end = readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"README.md must hold the configuration reference between {Start} and {End}.");

        var expected = RenderSettingsTable();
        var actual = readme[(start + Start.Length)..end].Trim();

        Assert.True(expected == actual, $"README.md's configuration reference differs from the settings catalog; replace it with:\n{expected}");
    }

    private static string RenderSettingsTable()
    {
        var rows = SettingsCatalog.All.Select(s =>
        {
            var notes = new List<string>();
            if (s.Scope == SettingScope.Standalone)
            {
                notes.Add("standalone only");
            }
            else if (s.Scope == SettingScope.FunctionsHost)
            {
                notes.Add("under the Functions host only");
            }

            if (s.RequiredInAzure)
            {
                notes.Add("set by the Azure template");
            }

            var description = s.Description.Replace("|", "\\|", StringComparison.Ordinal) + (notes.Count > 0 ? $" *({string.Join("; ", notes)})*" : string.Empty);
            var defaultValue = s.Default is null ? "*(unset)*" : $"`{s.Default}`";
            return $"| `{s.Name}` | {defaultValue} | {description} |";
        });
        return string.Join('\n', ["| Setting | Default | What it does |", "|---|---|---|", .. rows]);
    }

    [Fact]
    public void The_catalog_lists_exactly_the_settings_the_app_reads()
    {
        var read = SettingsTheAppReads();
        var catalog = SettingsCatalog.All.Select(s => s.Name).ToList();

        Assert.Equal(catalog.Count, catalog.Distinct(StringComparer.Ordinal).Count());
        Assert.True(read.SetEquals(catalog), $"""
            The settings catalog and the app disagree.
            Read by the app but not in SettingsCatalog: {string.Join(", ", read.Except(catalog, StringComparer.Ordinal))}
            In SettingsCatalog but read by nothing: {string.Join(", ", catalog.Except(read, StringComparer.Ordinal))}
            """);
        Assert.All(SettingsCatalog.All, s => Assert.False(string.IsNullOrWhiteSpace(s.Description), $"{s.Name} has no description."));
    }

    [Theory]
    [MemberData(nameof(Compositions))]
    public async Task The_options_listed_here_are_all_the_options_the_app_binds(string composition)
    {
        await using var app = CreateApp(composition, new Dictionary<string, string?>());

        // Every bound options type leaves an IConfigureOptions/IValidateOptions registration behind.
        var ours = app.Services.GetRequiredService<RegisteredOptionsTypes>().Types
            .Where(t => t.Assembly.GetName().Name!.StartsWith("SandboxFunctions.", StringComparison.Ordinal))
            // Filled in from Auth__FunctionKeys in code, not bound from a section.
            .Where(t => t != typeof(FunctionKeyOptions))
            .ToHashSet();

        var listed = BoundOptions.Select(b => b.Type).Append(typeof(FlavorOptions)).Append(typeof(DataVolumeOptions)).ToHashSet();
        Assert.True(listed.SetEquals(ours), $"""
            Options bound by the host but not listed in {nameof(BoundOptions)}: {string.Join(", ", ours.Except(listed).Select(t => t.Name))}
            Listed but not bound: {string.Join(", ", listed.Except(ours).Select(t => t.Name))}
            """);
    }

    [Theory]
    [MemberData(nameof(Compositions))]
    public async Task Every_catalog_setting_of_an_option_reaches_that_option_through_the_app(string composition)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var expectations = new List<(string Name, Func<IServiceProvider, object?> Read, object? Expected)>();

        foreach (var (type, section) in BoundOptions)
        {
            var defaults = Activator.CreateInstance(type)!;
            foreach (var property in SettableProperties(type))
            {
                var name = $"{section}__{property.Name}";
                var (text, value) = SampleValue(name, property.PropertyType, property.GetValue(defaults));
                settings[name.Replace("__", ":", StringComparison.Ordinal)] = text;
                expectations.Add((name, services => property.GetValue(ResolveOptions(services, type)), value));
            }
        }

        var flavorDefaults = new FlavorOptions().Flavors["small"];
        foreach (var property in SettableProperties(typeof(FlavorSettings)))
        {
            var name = $"{FlavorOptions.SectionName}__small__{property.Name}";
            var (text, value) = SampleValue(name, property.PropertyType, property.GetValue(flavorDefaults));
            settings[name.Replace("__", ":", StringComparison.Ordinal)] = text;
            expectations.Add((name, services => property.GetValue(services.GetRequiredService<IOptions<FlavorOptions>>().Value.Flavors["small"]), value));
        }

        var volumeDefaults = new DataVolumeSettings();
        foreach (var property in SettableProperties(typeof(DataVolumeSettings)).Where(p => p.Name != nameof(DataVolumeSettings.Path)))
        {
            var name = $"{DataVolumeOptions.SectionName}__sample__{property.Name}";
            var (text, value) = SampleValue(name, property.PropertyType, property.GetValue(volumeDefaults));
            settings[name.Replace("__", ":", StringComparison.Ordinal)] = text;
            expectations.Add((name, services => property.GetValue(services.GetRequiredService<IOptions<DataVolumeOptions>>().Value.Volumes["sample"]), value));
        }

        await using var app = CreateApp(composition, settings);
        Assert.All(expectations, e => Assert.True(Equals(e.Expected, e.Read(app.Services)), $"{e.Name} did not reach its option."));
    }

    [Fact]
    public void Catalog_defaults_are_the_defaults_of_the_options()
    {
        var entries = SettingsCatalog.All.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var (type, section) in BoundOptions)
        {
            var defaults = Activator.CreateInstance(type)!;
            foreach (var property in SettableProperties(type))
            {
                var entry = entries[$"{section}__{property.Name}"];
                if (DescribedDefaults.Contains(entry.Name))
                {
                    continue;
                }

                var actual = property.GetValue(defaults);
                if (entry.Default is null)
                {
                    Assert.True(actual is null, $"{entry.Name} has no default in the catalog but defaults to {actual}.");
                    continue;
                }

                var bound = Activator.CreateInstance(type)!;
                new ConfigurationBuilder().AddInMemoryCollection([new(property.Name, entry.Default)]).Build().Bind(bound);
                var parsed = property.GetValue(bound);
                Assert.True(Equals(actual, parsed), $"The catalog gives {entry.Name} the default '{entry.Default}', but the app's default is {actual}.");
            }
        }

        var flavors = new FlavorOptions().Flavors;
        foreach (var property in SettableProperties(typeof(FlavorSettings)))
        {
            var expected = string.Join(", ", flavors.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key} {property.GetValue(f.Value)}")));
            Assert.Equal(expected, entries[$"{FlavorOptions.SectionName}__{FlavorPlaceholder}__{property.Name}"].Default);
        }
    }

    [Fact]
    public void Every_app_setting_in_the_templates_is_read_by_the_app_or_the_functions_host()
    {
        var names = TemplateAppSettings();
        Assert.NotEmpty(names);

        var unknown = names.Where(n => !PlatformSettings.Contains(n) && FindCatalogEntry(n) is null).ToList();
        Assert.True(unknown.Count == 0, $"The templates set settings nothing reads: {string.Join(", ", unknown)}");

        var standaloneOnly = names.Where(n => FindCatalogEntry(n) is { Scope: SettingScope.Standalone }).ToList();
        Assert.True(standaloneOnly.Count == 0, $"The templates set settings that have no effect under the Functions host: {string.Join(", ", standaloneOnly)}");
    }

    [Fact]
    public void The_templates_set_every_setting_an_azure_deployment_needs()
    {
        var names = TemplateAppSettings();
        var missing = SettingsCatalog.All.Where(s => s.RequiredInAzure && !names.Contains(s.Name)).Select(s => s.Name).ToList();

        Assert.True(missing.Count == 0, $"Settings Azure deployments need but the templates do not set: {string.Join(", ", missing)}");
        Assert.All(SettingsCatalog.All.Where(s => s.RequiredInAzure), s => Assert.True(s.Scope.HasFlag(SettingScope.FunctionsHost), $"{s.Name} is required in Azure but has no effect there."));
    }

    [Fact]
    public void The_templates_create_the_tables_containers_and_queue_the_app_uses()
    {
        var template = ReadTemplates();

        Assert.Equal(
            new[] { SessionStore.TableName, SessionStore.OwnersTableName, JobStore.TableName, SignalStore.TableName, ExecutionHistory.TableName }.Order(),
            TemplateList(template, "tableNames").Order());
        Assert.Equal(new[] { SessionStore.ContainerName, JobStore.ContainerName }.Order(), TemplateList(template, "blobContainerNames").Order());
        Assert.Equal([JobStore.QueueName, JobStore.PoisonQueueName], TemplateList(template, "queueNames"));
    }

    [Fact]
    public async Task The_sample_local_settings_list_the_catalog_and_form_a_valid_configuration()
    {
        using var sample = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(FunctionsProject, "local.settings.sample.json")));
        var values = sample.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString(), StringComparer.Ordinal);

        // The worker runtime the build's worker.config.json declares, or the host would not start the worker.
        using var workerConfig = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestPaths.FunctionsOutput, "worker.config.json")));
        Assert.Equal(workerConfig.RootElement.GetProperty("description").GetProperty("language").GetString(), values["FUNCTIONS_WORKER_RUNTIME"]);
        var listed = values.Keys.Where(k => k != "FUNCTIONS_WORKER_RUNTIME").ToList();
        var unknown = listed.Where(k => FindCatalogEntry(k) is not { } entry || !AppliesUnderTheHost(entry)).ToList();
        Assert.True(unknown.Count == 0, $"The sample lists settings that are not in the catalog or have no effect under the Functions host: {string.Join(", ", unknown)}");

        var missing = SettingsCatalog.All.Where(AppliesUnderTheHost).Where(s => !listed.Any(k => Matches(s.Name, k))).Select(s => s.Name).ToList();
        Assert.True(missing.Count == 0, $"The sample leaves out: {string.Join(", ", missing)}");

        // The same binding and validation the app runs at startup.
        await using var app = CreateApp(FunctionsApp, values.ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => p.Value));
        foreach (var (type, _) in BoundOptions)
        {
            Assert.NotNull(ResolveOptions(app.Services, type));
        }

        Assert.NotEmpty(app.Services.GetRequiredService<IOptions<FlavorOptions>>().Value.Flavors);

        static bool AppliesUnderTheHost(AppSetting setting) => setting.Scope.HasFlag(SettingScope.FunctionsHost);
    }

    [Fact]
    public void The_functions_host_starts_the_worker_the_build_produces_and_forwards_requests_by_their_own_paths()
    {
        using var workerConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.FunctionsOutput, "worker.config.json")));
        var description = workerConfig.RootElement.GetProperty("description");

        Assert.Equal("dotnet", description.GetProperty("defaultExecutablePath").GetString());
        var worker = description.GetProperty("defaultWorkerPath").GetString()!;
        Assert.Equal($"{typeof(FunctionsHostingExtensions).Assembly.GetName().Name}.dll", worker);
        Assert.True(File.Exists(Path.Combine(TestPaths.FunctionsOutput, worker)));
        Assert.All(FunctionMetadata(), f => Assert.Equal(worker, f.GetProperty("scriptFile").GetString()));

        // No /api prefix: clients call /mcp, as they call the standalone server.
        using var hostJson = JsonDocument.Parse(File.ReadAllText(HostJsonPath));
        Assert.Equal(string.Empty, hostJson.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.False(hostJson.RootElement.TryGetProperty("customHandler", out _));
    }

    [Fact]
    public void The_function_timeout_outlasts_the_longest_job_a_deployment_allows()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(HostJsonPath));
        var functionTimeout = TimeSpan.Parse(hostJson.RootElement.GetProperty("functionTimeout").GetString()!, CultureInfo.InvariantCulture);

        Assert.True(functionTimeout > TimeSpan.FromSeconds(new JobOptions().MaxTimeoutSeconds));
        var templateMaximum = JobTimeoutMaximum().Match(ReadTemplates());
        Assert.True(templateMaximum.Success, "The template's jobMaxTimeoutSeconds parameter has no @maxValue.");
        Assert.True(functionTimeout > TimeSpan.FromSeconds(int.Parse(templateMaximum.Groups["max"].Value, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void The_host_delivers_a_job_message_as_often_as_the_runner_expects_before_giving_up()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(HostJsonPath));

        Assert.Equal(JobRunner.MaxDeliveries, hostJson.RootElement.GetProperty("extensions").GetProperty("queues").GetProperty("maxDequeueCount").GetInt32());
    }

    [Fact]
    public async Task The_http_functions_serve_exactly_the_routes_of_the_standalone_server()
    {
        var standalone = await MappedRoutesOfTheStandaloneServerAsync();
        var triggers = FunctionTriggers().Where(f => f.Trigger.GetProperty("type").GetString() == "httpTrigger").ToList();
        var served = triggers
            .SelectMany(f => f.Trigger.GetProperty("methods").EnumerateArray().Select(m => (Route: f.Trigger.GetProperty("route").GetString()!.Trim('/'), Method: m.GetString()!.ToUpperInvariant())))
            .ToHashSet();

        Assert.True(standalone.SetEquals(served), $"""
            The functions and the standalone server serve different routes.
            Standalone only: {string.Join(", ", standalone.Except(served).Select(r => $"{r.Method} /{r.Route}"))}
            Functions only: {string.Join(", ", served.Except(standalone).Select(r => $"{r.Method} /{r.Route}"))}
            """);

        var levels = triggers.ToDictionary(f => f.Name, f => f.Trigger.GetProperty("authLevel").GetString());
        Assert.Equal("Function", levels[McpFunction.Name]);
        Assert.Equal("Anonymous", levels[HealthFunction.Name]);
    }

    [Fact]
    public void The_build_generates_metadata_for_every_function_and_nothing_else()
    {
        Assert.Equal(
            new[] { HealthFunction.Name, JobFunctions.JobsName, JobFunctions.PoisonName, McpFunction.Name, ReaperFunction.Name }.Order(StringComparer.Ordinal),
            FunctionTriggers().Select(f => f.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_reaper_runs_on_the_schedule_setting_which_the_templates_and_the_sample_set()
    {
        var (_, trigger) = FunctionTriggers().Single(f => f.Name == ReaperFunction.Name);
        Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
        var schedule = trigger.GetProperty("schedule").GetString()!;

        // The host resolves %name% from the app settings, where ':' is spelled '__'.
        var match = Regex.Match(schedule, "^%(?<name>[^%]+)%$", RegexOptions.CultureInvariant);
        Assert.True(match.Success, $"The reaper's schedule '{schedule}' is not read from a setting.");
        var setting = match.Groups["name"].Value.Replace(":", "__", StringComparison.Ordinal);
        Assert.True(FindCatalogEntry(setting) is { RequiredInAzure: true }, $"{setting} must be in the catalog and required in Azure.");
        Assert.Contains(setting, TemplateAppSettings());

        using var sample = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(FunctionsProject, "local.settings.sample.json")));
        var value = sample.RootElement.GetProperty("Values").GetProperty(setting).GetString()!;
        Assert.Equal(6, value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        var templateDefault = Regex.Match(ReadTemplates(), @"param reapSchedule string = '(?<value>[^']+)'", RegexOptions.CultureInvariant);
        Assert.Equal(value, templateDefault.Groups["value"].Value);
    }

    [Fact]
    public void The_queue_triggers_read_the_jobs_queue_and_its_poison_queue_through_the_app_connection()
    {
        var queueTriggers = FunctionTriggers().Where(f => f.Trigger.GetProperty("type").GetString() == "queueTrigger").ToList();

        Assert.Equal(
            new[] { (JobFunctions.JobsName, JobStore.QueueName), (JobFunctions.PoisonName, JobStore.PoisonQueueName) },
            queueTriggers.Select(f => (f.Name, f.Trigger.GetProperty("queueName").GetString()!)).OrderBy(f => f.Name, StringComparer.Ordinal));
        Assert.All(queueTriggers, f => Assert.Equal(StorageProviderFactory.ConnectionName, f.Trigger.GetProperty("connection").GetString()));
    }

    /// <summary>Every setting name the app's code reads, derived from the options types and the constants that name the rest.</summary>
    private static HashSet<string> SettingsTheAppReads()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (type, section) in BoundOptions)
        {
            names.UnionWith(SettableProperties(type).Select(p => $"{section}__{p.Name}"));
        }

        names.UnionWith(SettableProperties(typeof(FlavorSettings)).Select(p => $"{FlavorOptions.SectionName}__{FlavorPlaceholder}__{p.Name}"));
        names.UnionWith(SettableProperties(typeof(DataVolumeSettings)).Select(p => $"{DataVolumeOptions.SectionName}__{VolumePlaceholder}__{p.Name}"));

        // Settings read by name are named by constants such as FunctionKeysSetting or ReaperFunction.ScheduleSetting.
        names.UnionWith(new[] { typeof(HostingExtensions).Assembly, typeof(FunctionsHostingExtensions).Assembly }
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(f => f.IsLiteral && f.FieldType == typeof(string) && (f.Name.EndsWith("Setting", StringComparison.Ordinal) || f.Name.EndsWith("Variable", StringComparison.Ordinal)))
            .Select(f => ((string)f.GetRawConstantValue()!).Replace(":", "__", StringComparison.Ordinal)));

        // ListenPlan reads "urls", which ASP.NET Core fills from ASPNETCORE_URLS (or --urls).
        names.Add("ASPNETCORE_URLS");

        names.Add(StorageProviderFactory.ConnectionName);
        names.Add(StorageProviderFactory.FallbackConnectionName);
        var identityKeys = (string[])typeof(StorageProviderFactory)
            .GetField("IdentitySettings", BindingFlags.NonPublic | BindingFlags.Static)!
            .GetValue(null)!;
        names.UnionWith(identityKeys.Select(k => $"{StorageProviderFactory.ConnectionName}__{k}"));
        return names;
    }

    private static IEnumerable<PropertyInfo> SettableProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0);

    /// <summary>A value different from the default, as configuration text and as the bound value.</summary>
    private static (string Text, object Value) SampleValue(string name, Type type, object? defaultValue)
    {
        if (type == typeof(string))
        {
            var text = StringSamples.GetValueOrDefault(name) ?? $"sample-{name}";
            Assert.NotEqual(defaultValue as string, text);
            return (text, text);
        }

        return defaultValue switch
        {
            int i => ((i + 1).ToString(CultureInfo.InvariantCulture), i + 1),
            long l => ((l + 1).ToString(CultureInfo.InvariantCulture), l + 1),
            bool b => ((!b).ToString(CultureInfo.InvariantCulture), !b),
            TimeSpan t => ((t + TimeSpan.FromSeconds(1)).ToString("c", CultureInfo.InvariantCulture), t + TimeSpan.FromSeconds(1)),
            _ => throw new InvalidOperationException($"{name} has type {type.Name}; teach {nameof(SampleValue)} a value for it."),
        };
    }

    private static object ResolveOptions(IServiceProvider services, Type optionsType)
    {
        var options = services.GetRequiredService(typeof(IOptions<>).MakeGenericType(optionsType));
        return options.GetType().GetProperty(nameof(IOptions<object>.Value))!.GetValue(options)!;
    }

    /// <summary>The app as one of the Program.cs files composes it, with <paramref name="settings"/> as configuration; it is built, not started.</summary>
    private static WebApplication CreateApp(string composition, IDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        if (composition == Standalone)
        {
            builder.AddSandboxHttpServer();
        }
        else
        {
            builder.AddSandboxFunctions();
        }

        builder.AddSandboxTelemetry();

        var optionsTypes = builder.Services
            .Select(d => d.ServiceType)
            .Where(t => t.IsGenericType && t.GetGenericTypeDefinition() is var definition
                && (definition == typeof(IConfigureOptions<>) || definition == typeof(IValidateOptions<>) || definition == typeof(IOptionsChangeTokenSource<>)))
            .Select(t => t.GetGenericArguments()[0])
            .ToHashSet();
        builder.Services.AddSingleton(new RegisteredOptionsTypes(optionsTypes));
        return builder.Build();
    }

    private static async Task<HashSet<(string Route, string Method)>> MappedRoutesOfTheStandaloneServerAsync()
    {
        await using var app = CreateApp(Standalone, new Dictionary<string, string?>
        {
            ["Storage:DataPath"] = Directory.CreateTempSubdirectory("sandbox-data-").FullName,
        });

        // The same mapping calls the standalone Program.cs makes.
        app.MapHealth();
        app.MapMcp();

        return ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(method => (endpoint.RoutePattern.RawText!.Trim('/'), method)))
            .ToHashSet();
    }

    private static List<JsonElement> FunctionMetadata()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.FunctionsOutput, "functions.metadata")));
        return [.. document.RootElement.EnumerateArray().Select(f => f.Clone())];
    }

    private static List<(string Name, JsonElement Trigger)> FunctionTriggers() =>
        [.. FunctionMetadata().Select(function => (
            function.GetProperty("name").GetString()!,
            function.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal))))];

    private static string ReadTemplates() =>
        string.Join('\n', Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "infra"), "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllText));

    /// <summary>The names of the one-line <c>{ name: '...', value: ... }</c> app setting entries in infra/**/*.bicep.</summary>
    private static HashSet<string> TemplateAppSettings() =>
        AppSettingEntry().Matches(ReadTemplates()).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);

    private static List<string> TemplateList(string template, string variable)
    {
        var match = Regex.Match(template, $@"var {variable} = \[(?<items>[^\]]*)\]", RegexOptions.CultureInvariant);
        Assert.True(match.Success, $"The templates declare no '{variable}' list.");
        return [.. QuotedString().Matches(match.Groups["items"].Value).Select(m => m.Groups["value"].Value)];
    }

    /// <summary>
    /// The catalog entry a concrete name belongs to. <c>&lt;flavor&gt;</c> and <c>&lt;volume&gt;</c> match any flavor or
    /// volume name, and a Bicep interpolation (<c>${...}</c>) matches any text, so <c>Flavors__${flavor.key}</c> matches
    /// the flavor settings and <c>Volumes__${volume.name}__Container</c> the volume's container.
    /// </summary>
    private static AppSetting? FindCatalogEntry(string name) => SettingsCatalog.All.FirstOrDefault(s => Matches(s.Name, name));

    private static bool Matches(string catalogName, string name)
    {
        if (name.Contains("${", StringComparison.Ordinal))
        {
            var pattern = "^" + Regex.Escape(BicepInterpolation().Replace(name, "*")).Replace(@"\*", ".*", StringComparison.Ordinal) + "$";
            return catalogName.Contains('<', StringComparison.Ordinal) && Regex.IsMatch(catalogName, pattern, RegexOptions.CultureInvariant);
        }

        var concrete = "^" + Regex.Escape(catalogName)
            .Replace(Regex.Escape(FlavorPlaceholder), "[A-Za-z0-9_-]+", StringComparison.Ordinal)
            .Replace(Regex.Escape(VolumePlaceholder), "[A-Za-z0-9_.-]+", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(name, concrete, RegexOptions.CultureInvariant);
    }

    [GeneratedRegex(@"\$\{[^}]*\}", RegexOptions.CultureInvariant)]
    private static partial Regex BicepInterpolation();

    [GeneratedRegex(@"\{\s*name:\s*'(?<name>[^']+)'\s*,\s*value:", RegexOptions.CultureInvariant)]
    private static partial Regex AppSettingEntry();

    [GeneratedRegex(@"'(?<value>[^']*)'", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedString();

    [GeneratedRegex(@"@maxValue\((?<max>\d+)\)\s*param jobMaxTimeoutSeconds\b", RegexOptions.CultureInvariant)]
    private static partial Regex JobTimeoutMaximum();

    /// <summary>The options types registered before the container was built, kept for inspection.</summary>
    private sealed record RegisteredOptionsTypes(IReadOnlySet<Type> Types);
}
