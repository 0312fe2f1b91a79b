using System.Net;
using System.Security.Cryptography;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Host.Tests;

/// <summary>
/// A package index on loopback serving wheels built by the tests, and servers over one Azurite: two that
/// install from the index (as two Functions instances would), one with tight package and file limits,
/// and the fixture's own servers, which have no index configured.
/// </summary>
public sealed class PackageServersFixture : IAsyncLifetime
{
    private PackageIndexServer? _index;
    private ServerProcess? _server;
    private ServerProcess? _secondServer;
    private ServerProcess? _limitedServer;

    internal AzuriteServerFixture Storage { get; } = new();

    internal PackageIndexServer Index => _index ?? throw new InvalidOperationException("The index has not started.");

    internal ServerProcess Server => _server ?? throw new InvalidOperationException("The server has not started.");

    internal ServerProcess SecondServer => _secondServer ?? throw new InvalidOperationException("The server has not started.");

    internal ServerProcess LimitedServer => _limitedServer ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync()
    {
        _index = PackageIndexServer.Start();
        PublishPackages(_index);
        await Storage.InitializeAsync();
        var withIndex = new Dictionary<string, string?> { ["Packages__IndexUrl"] = _index.IndexUrl.AbsoluteUri };
        var limited = new Dictionary<string, string?>(withIndex)
        {
            ["Packages__MaxWheelBytes"] = "200000",
            ["Packages__MaxTotalBytes"] = "300000",
            ["Packages__Timeout"] = "00:00:02",
            ["Flavors__small__WorkspaceMiB"] = "1",
        };
        var servers = await Task.WhenAll(Storage.StartServerAsync(withIndex), Storage.StartServerAsync(withIndex), Storage.StartServerAsync(limited));
        (_server, _secondServer, _limitedServer) = (servers[0], servers[1], servers[2]);
    }

    public async Task DisposeAsync()
    {
        foreach (var server in new[] { _server, _secondServer, _limitedServer })
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        await Storage.DisposeAsync();
        if (_index is not null)
        {
            await _index.DisposeAsync();
        }
    }

    private static void PublishPackages(PackageIndexServer index)
    {
        index.AddWheel("greeting-kit", "1.0", new Dictionary<string, string>
        {
            ["greeting_kit/__init__.py"] = "import six\nfrom word_source import WORD\n\n\ndef greet(name):\n    return six.text_type(f'{WORD}, {name}!')\n",
        }, requiresDist: ["word-source>=1.1", "six>=1.10", "colour-kit; sys_platform == 'win32'"]);
        foreach (var (version, word) in new[] { ("1.0", "Hi"), ("1.1", "Hello"), ("2.0a1", "Hey") })
        {
            index.AddWheel("word-source", version, new Dictionary<string, string> { ["word_source.py"] = $"WORD = '{word}'\n" });
        }

        index.AddWheel("tabulate", "9.9.9", new Dictionary<string, string>
        {
            ["tabulate.py"] = "__version__ = '9.9.9'\n\n\ndef tabulate(rows, **options):\n    return 'installed tabulate'\n",
        });
        index.AddWheel("native-only", "1.0", tag: "cp311-cp311-manylinux_2_17_x86_64");
        index.AddFile("tampered", WheelBuilder.FileName("tampered", "1.0"), WheelBuilder.Build("tampered", "1.0", new Dictionary<string, string> { ["tampered.py"] = "" }), statedSha256: new string('a', 64));
        index.AddWheel("broken-wheel", "1.0", withMetadata: false);
        index.AddWheel("conflicted", "1.0", requiresDist: ["left-dep", "right-dep"]);
        index.AddWheel("left-dep", "1.0", requiresDist: ["shared-dep<2"]);
        index.AddWheel("right-dep", "1.0", requiresDist: ["shared-dep>=2"]);
        index.AddWheel("shared-dep", "1.0");
        index.AddWheel("shared-dep", "2.0");
        index.Fail("flaky", HttpStatusCode.ServiceUnavailable);
        index.Delay("slow", TimeSpan.FromSeconds(10));
        index.AddWheel("big-wheel", "1.0", new Dictionary<string, string>
        {
            ["big_wheel.py"] = "DATA = '" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(240_000)) + "'\n",
        });
        index.AddWheel("roomy", "1.0", new Dictionary<string, string> { ["roomy.py"] = "PAD = '" + new string('x', 2_000_000) + "'\n" });
    }
}

/// <summary>install_package end to end: resolution against the index, imports in later calls, restores, and every error.</summary>
public sealed class PackageToolTests(PackageServersFixture fixture) : IClassFixture<PackageServersFixture>
{
    [Fact]
    public async Task A_package_with_a_dependency_installs_imports_and_survives_a_restore_on_another_instance()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, AzuriteServerFixture.Key);
        var session = (await client.OkAsync("execute_code", new { code = "try:\n    import greeting_kit\nexcept ImportError:\n    missing = True\nmissing" })).GetProperty("session_id").GetString()!;

        var install = await client.CallAsync("install_package", new { session_id = session, package = "greeting-kit" });
        var imported = await client.OkAsync("execute_code", new
        {
            session_id = session,
            code = "import greeting_kit, importlib.metadata as metadata\n(greeting_kit.greet('Ada'), metadata.version('word-source'), greeting_kit.__file__)",
        });

        Assert.False(install.IsError, install.Text);
        var installed = install.Structured.GetProperty("installed").EnumerateArray().ToList();
        Assert.Equal(["greeting-kit 1.0", "word-source 1.1"], installed.Select(p => $"{p.GetProperty("name").GetString()} {p.GetProperty("version").GetString()}"));
        Assert.True(installed[0].GetProperty("requested").GetBoolean());
        Assert.Equal("greeting-kit 1.0: word-source>=1.1", installed[1].GetProperty("required_by").GetString());
        var present = Assert.Single(install.Structured.GetProperty("already_present").EnumerateArray());
        Assert.Equal(("six", "1.16.0", "runtime"), (present.GetProperty("name").GetString(), present.GetProperty("version").GetString(), present.GetProperty("source").GetString()));
        Assert.True(install.Structured.GetProperty("total_bytes").GetInt64() > 0);
        Assert.Contains("Installed into session", install.Text, StringComparison.Ordinal);
        Assert.Equal(["Hello, Ada!", "1.1", "/packages/greeting_kit/__init__.py"], imported.GetProperty("result").GetProperty("json").EnumerateArray().Select(e => e.GetString()));

        await using var other = await ToolClient.ConnectAsync(fixture.SecondServer.McpEndpoint, AzuriteServerFixture.Key);
        var restored = await other.OkAsync("execute_code", new { session_id = session, code = "greeting_kit.greet('Grace')" });
        var again = await other.OkAsync("install_package", new { session_id = session, package = "greeting-kit" });
        var fresh = await other.OkAsync("execute_code", new { code = "import os\nos.listdir('/packages')" });

        Assert.Equal("Hello, Grace!", restored.GetProperty("result").GetProperty("json").GetString());
        Assert.Empty(again.GetProperty("installed").EnumerateArray());
        Assert.Equal("session", Assert.Single(again.GetProperty("already_present").EnumerateArray()).GetProperty("source").GetString());
        Assert.Empty(fresh.GetProperty("result").GetProperty("json").EnumerateArray());
    }

    [Fact]
    public async Task An_installed_version_wins_over_the_bundled_one_and_already_imported_modules_are_named()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, AzuriteServerFixture.Key);
        var session = (await client.OkAsync("execute_code", new { code = "import tabulate\ntabulate.__version__" })).GetProperty("session_id").GetString()!;

        var bundled = await client.OkAsync("install_package", new { session_id = session, package = "tabulate" });
        var upgrade = await client.OkAsync("install_package", new { session_id = session, package = "tabulate", version = "9.9.9" });
        var reloaded = await client.OkAsync("execute_code", new { session_id = session, code = "import importlib\nimportlib.reload(tabulate).tabulate([[1]])" });

        Assert.Empty(bundled.GetProperty("installed").EnumerateArray());
        Assert.Equal("runtime", Assert.Single(bundled.GetProperty("already_present").EnumerateArray()).GetProperty("source").GetString());
        Assert.Equal("9.9.9", Assert.Single(upgrade.GetProperty("installed").EnumerateArray()).GetProperty("version").GetString());
        Assert.Equal(["tabulate"], upgrade.GetProperty("stale_modules").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("installed tabulate", reloaded.GetProperty("result").GetProperty("json").GetString());
    }

    [Fact]
    public async Task List_runtimes_shows_the_bundled_packages_with_their_versions()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, AzuriteServerFixture.Key);

        var call = await client.CallAsync("list_runtimes");

        var python = call.Structured.GetProperty("runtimes").EnumerateArray().Single(r => r.GetProperty("language").GetString() == "python");
        var packages = python.GetProperty("packages").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.Contains("tabulate==0.8.9", packages);
        Assert.Contains("Jinja2==3.1.2", packages);
        Assert.Contains("python-dateutil==2.8.2", packages);
        Assert.Contains("PyYAML==6.0", packages);
        Assert.Contains("openpyxl==3.0.9", packages);
        Assert.True(packages.Count >= 30, $"only {packages.Count} packages listed");
        Assert.Contains("tabulate==0.8.9", call.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_install_failure_has_its_own_code_and_leaves_the_session_unchanged()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.Server.McpEndpoint, AzuriteServerFixture.Key);
        var session = (await client.OkAsync("execute_code", new { code = "kept = 1" })).GetProperty("session_id").GetString()!;
        var javascript = (await client.OkAsync("create_session", new { language = "javascript" })).GetProperty("session_id").GetString()!;

        await client.FailsAsync("install_package", new { session_id = javascript, package = "greeting-kit" }, "PYTHON_SESSION_REQUIRED");
        await client.FailsAsync("install_package", new { session_id = session, package = "not a name!" }, "INVALID_REQUIREMENT");
        await client.FailsAsync("install_package", new { session_id = session, package = "word-source", version = ">>1" }, "INVALID_REQUIREMENT");
        await client.FailsAsync("install_package", new { session_id = session, package = "no-such-project" }, "PACKAGE_NOT_FOUND");
        var version = await client.FailsAsync("install_package", new { session_id = session, package = "word-source", version = "3.0" }, "PACKAGE_NOT_FOUND");
        var native = await client.FailsAsync("install_package", new { session_id = session, package = "native-only" }, "PACKAGE_NOT_PURE_PYTHON");
        await client.FailsAsync("install_package", new { session_id = session, package = "tampered" }, "PACKAGE_HASH_MISMATCH");
        var conflict = await client.FailsAsync("install_package", new { session_id = session, package = "conflicted" }, "PACKAGE_CONFLICT");
        await client.FailsAsync("install_package", new { session_id = session, package = "broken-wheel" }, "PACKAGE_INVALID");
        await client.FailsAsync("install_package", new { session_id = session, package = "flaky" }, "PACKAGE_INDEX_UNREACHABLE");
        await client.FailsAsync("install_package", new { session_id = "no-such-session", package = "greeting-kit" }, "SESSION_NOT_FOUND");
        var after = await client.OkAsync("execute_code", new { session_id = session, code = "import os\n(kept, os.listdir('/packages'))" });

        Assert.Contains("1.1, 1.0", version.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("cp311-cp311-manylinux_2_17_x86_64", native.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("shared-dep", conflict.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("[1,[]]", after.GetProperty("result").GetProperty("json").GetRawText());
    }

    [Fact]
    public async Task Limits_and_a_slow_index_each_have_their_own_code()
    {
        await using var client = await ToolClient.ConnectAsync(fixture.LimitedServer.McpEndpoint, AzuriteServerFixture.Key);
        var session = (await client.OkAsync("create_session", new { language = "python" })).GetProperty("session_id").GetString()!;

        var large = await client.FailsAsync("install_package", new { session_id = session, package = "big-wheel" }, "PACKAGE_TOO_LARGE");
        var slow = await client.FailsAsync("install_package", new { session_id = session, package = "slow" }, "PACKAGE_INDEX_UNREACHABLE");
        var full = await client.FailsAsync("install_package", new { session_id = session, package = "roomy" }, "WORKSPACE_LIMIT");
        var after = await client.OkAsync("execute_code", new { session_id = session, code = "import os\nos.listdir('/packages')" });

        Assert.Contains("200000 bytes per wheel", large.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("within 2 s", slow.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("/workspace", full.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(after.GetProperty("result").GetProperty("json").EnumerateArray());
    }

    [Fact]
    public async Task A_malformed_index_url_stops_the_server_at_startup()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            fixture.Storage.StartServerAsync(new Dictionary<string, string?> { ["Packages__IndexUrl"] = "index.invalid/simple" }));

        Assert.Contains("Packages:IndexUrl must be an absolute http or https URL", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_an_index_the_tool_says_which_setting_enables_it()
    {
        await using var client = await fixture.Storage.ConnectAsync();
        var session = (await client.OkAsync("create_session", new { language = "python" })).GetProperty("session_id").GetString()!;

        var error = await client.FailsAsync("install_package", new { session_id = session, package = "greeting-kit" }, "PACKAGE_INDEX_NOT_CONFIGURED");

        Assert.Contains(error.GetProperty("suggestions").EnumerateArray(), s => s.GetString()!.Contains("Packages__IndexUrl", StringComparison.Ordinal));
    }
}
