using System.Net;
using SandboxFunctions.Testing;
using SandboxFunctions.Tools.Packages;

namespace SandboxFunctions.Tools.Tests.Packages;

/// <summary>Resolution against a real index on loopback, serving wheels the tests build.</summary>
public sealed class PackageResolverTests : IAsyncDisposable
{
    private const long Megabyte = 1024 * 1024;
    private readonly PackageIndexServer _index = PackageIndexServer.Start();

    public ValueTask DisposeAsync() => _index.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dependencies_get_the_newest_version_that_satisfies_them(bool htmlPages)
    {
        _index.HtmlOnly = htmlPages;
        _index.AddWheel("demo-lib", "1.0", requiresDist: ["helper-lib>=1.1", "helper-lib<3"]);
        _index.AddWheel("demo-lib", "1.1", requiresDist: ["helper-lib>=1.1"]);
        _index.AddWheel("helper-lib", "1.0");
        _index.AddWheel("helper-lib", "1.2");
        _index.AddWheel("helper-lib", "2.0b1");

        var resolution = await ResolveAsync("demo-lib");

        Assert.Equal(["demo-lib 1.1", "helper-lib 1.2"], resolution.Wheels.Select(w => $"{w.Name} {w.Version}"));
        Assert.True(resolution.Wheels[0].Requested);
        Assert.Equal("demo-lib 1.1: helper-lib>=1.1", resolution.Wheels[1].RequiredBy);
        Assert.Equal("demo_lib-1.1.dist-info", resolution.Wheels[0].DistInfo);
        Assert.Empty(resolution.AlreadyPresent);
    }

    [Fact]
    public async Task Pre_releases_are_chosen_only_when_asked_for_or_when_nothing_else_matches()
    {
        _index.AddWheel("fresh", "1.0");
        _index.AddWheel("fresh", "2.0rc1");
        _index.AddWheel("only-beta", "0.1b2");

        Assert.Equal("1.0", (await ResolveAsync("fresh")).Wheels[0].Version.ToString());
        Assert.Equal("2.0rc1", (await ResolveAsync("fresh>=2.0rc1")).Wheels[0].Version.ToString());
        Assert.Equal("0.1b2", (await ResolveAsync("only-beta")).Wheels[0].Version.ToString());
    }

    [Fact]
    public async Task What_the_session_or_the_runtime_already_has_is_not_installed_again()
    {
        _index.AddWheel("app", "1.0", requiresDist: ["six>=1.10", "attrs>=23", "mine"]);
        _index.AddWheel("attrs", "23.1.0");
        PresentPackage[] present =
        [
            new("six", PackageVersion.Parse("1.16.0"), PackageOrigin.Runtime),
            new("attrs", PackageVersion.Parse("22.2.0"), PackageOrigin.Runtime),
            new("mine", PackageVersion.Parse("0.1"), PackageOrigin.Session),
        ];

        var resolution = await ResolveAsync("app", present);

        Assert.Equal(["app 1.0", "attrs 23.1.0"], resolution.Wheels.Select(w => $"{w.Name} {w.Version}"));
        Assert.Equal(["six Runtime", "mine Session"], resolution.AlreadyPresent.Select(p => $"{p.Name} {p.Origin}"));
        Assert.DoesNotContain("/simple/six/", _index.Requests);
    }

    [Fact]
    public async Task Markers_and_extras_decide_which_dependencies_apply()
    {
        _index.AddWheel("portable", "1.0", requiresDist:
        [
            "win-only; sys_platform == 'win32'",
            "old-backport; python_version < '3.8'",
            "yaml-extra; extra == 'yaml'",
            "always>=1; python_version >= '3.8'",
        ]);
        _index.AddWheel("always", "1.0");
        _index.AddWheel("yaml-extra", "2.0");

        var plain = await ResolveAsync("portable");
        var withExtra = await ResolveAsync("portable[YAML]");

        Assert.Equal(["portable", "always"], plain.Wheels.Select(w => w.Name));
        Assert.Equal(["portable", "yaml-extra", "always"], withExtra.Wheels.Select(w => w.Name));
    }

    [Fact]
    public async Task Files_for_other_pythons_and_withdrawn_releases_are_passed_over()
    {
        _index.AddWheel("picky", "1.0");
        _index.AddWheel("picky", "2.0", requiresPython: ">=3.12");
        _index.AddWheel("picky", "1.5", yanked: true);

        Assert.Equal("1.0", (await ResolveAsync("picky")).Wheels[0].Version.ToString());
        Assert.Equal("1.5", (await ResolveAsync("picky==1.5")).Wheels[0].Version.ToString());
    }

    [Fact]
    public async Task A_newer_native_only_release_falls_back_to_the_newest_pure_one()
    {
        _index.AddWheel("speedy", "1.0");
        _index.AddWheel("speedy", "2.0", tag: "cp311-cp311-manylinux_2_17_x86_64");

        Assert.Equal("1.0", (await ResolveAsync("speedy")).Wheels[0].Version.ToString());
    }

    [Fact]
    public async Task Conflicting_requirements_name_both_sides()
    {
        _index.AddWheel("top", "1.0", requiresDist: ["left", "right"]);
        _index.AddWheel("left", "1.0", requiresDist: ["shared<2"]);
        _index.AddWheel("right", "1.0", requiresDist: ["shared>=2"]);
        _index.AddWheel("shared", "1.5");
        _index.AddWheel("shared", "2.5");

        var error = await FailsAsync("top", "PACKAGE_CONFLICT");

        Assert.Contains("shared>=2 (required by right 1.0)", error.Message, StringComparison.Ordinal);
        Assert.Contains("shared 1.5 was already chosen for left 1.0: shared<2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_projects_and_versions_list_what_exists()
    {
        foreach (var release in new[] { "0.9", "1.0", "1.1", "1.2", "1.3", "2.0", "2.1", "3.0" })
        {
            _index.AddWheel("known", release);
        }

        var project = await FailsAsync("unknown-project", "PACKAGE_NOT_FOUND");
        var version = await FailsAsync("known==1.2.5", "PACKAGE_NOT_FOUND");

        Assert.Contains("no project named 'unknown-project'", project.Message, StringComparison.Ordinal);
        Assert.Contains("matching ==1.2.5", version.Message, StringComparison.Ordinal);
        Assert.EndsWith("Versions nearest to it: 2.1, 2.0, 1.3, 1.2, 1.1, 1.0.", version.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Native_only_and_source_only_projects_are_refused_with_what_they_offer()
    {
        _index.AddWheel("compiled", "1.0", tag: "cp311-cp311-manylinux_2_17_x86_64");
        _index.AddWheel("compiled", "1.0", tag: "cp311-cp311-win_amd64");
        _index.AddFile("source-only", "source_only-1.0.tar.gz", [1, 2, 3]);
        _index.AddWheel("sneaky", "1.0", files: new Dictionary<string, string> { ["sneaky/_speedups.so"] = "ELF" });

        var native = await FailsAsync("compiled", "PACKAGE_NOT_PURE_PYTHON");
        var source = await FailsAsync("source-only", "PACKAGE_NOT_PURE_PYTHON");
        var hidden = await FailsAsync("sneaky", "PACKAGE_NOT_PURE_PYTHON");

        Assert.Contains("cp311-cp311-manylinux_2_17_x86_64, cp311-cp311-win_amd64", native.Message, StringComparison.Ordinal);
        Assert.Contains("source code only", source.Message, StringComparison.Ordinal);
        Assert.Contains("sneaky/_speedups.so", hidden.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Files_whose_hash_is_wrong_or_missing_are_refused()
    {
        var wheel = WheelBuilder.Build("tampered", "1.0", new Dictionary<string, string> { ["tampered.py"] = "x = 1\n" });
        _index.AddFile("tampered", WheelBuilder.FileName("tampered", "1.0"), wheel, statedSha256: new string('0', 64));
        _index.AddFile("unhashed", WheelBuilder.FileName("unhashed", "1.0"), WheelBuilder.Build("unhashed", "1.0", new Dictionary<string, string>()), withHash: false);

        var tampered = await FailsAsync("tampered", "PACKAGE_HASH_MISMATCH");
        var unhashed = await FailsAsync("unhashed", "PACKAGE_HASH_MISMATCH");

        Assert.Contains("but the package index states 0000", tampered.Message, StringComparison.Ordinal);
        Assert.Contains("states no SHA-256", unhashed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Size_limits_hold_per_wheel_and_per_install()
    {
        var bulky = new Dictionary<string, string> { ["bulky/data.py"] = "# " + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(60_000)) };
        _index.AddWheel("bulky", "1.0", files: bulky);
        _index.AddWheel("pair", "1.0", files: bulky, requiresDist: ["bulky"]);

        var perWheel = await FailsAsync("bulky", "PACKAGE_TOO_LARGE", maxWheelBytes: 50_000);
        var perInstall = await FailsAsync("pair", "PACKAGE_TOO_LARGE", maxTotalBytes: 120_000);

        Assert.Contains("50000 bytes per wheel", perWheel.Message, StringComparison.Ordinal);
        Assert.Contains("120000 bytes per install", perInstall.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broken_wheels_are_refused()
    {
        _index.AddWheel("hollow", "1.0", withMetadata: false);
        _index.AddFile("garbled", WheelBuilder.FileName("garbled", "1.0"), [1, 2, 3, 4]);

        await FailsAsync("hollow", "PACKAGE_INVALID");
        await FailsAsync("garbled", "PACKAGE_INVALID");
    }

    [Fact]
    public async Task An_index_that_fails_or_cannot_be_reached_is_reported()
    {
        _index.Fail("flaky", HttpStatusCode.ServiceUnavailable);

        var failing = await FailsAsync("flaky", "PACKAGE_INDEX_UNREACHABLE");
        var closed = await Assert.ThrowsAsync<ToolFailureException>(() =>
            new PackageResolver(new PackageIndexClient(new Uri($"http://127.0.0.1:{FreePort.Next()}/simple/")), Environment(), Megabyte, Megabyte)
                .ResolveAsync(Requirement.Parse("anything"), [], CancellationToken.None));

        Assert.Contains("503", failing.Message, StringComparison.Ordinal);
        Assert.Equal("PACKAGE_INDEX_UNREACHABLE", closed.Error.Code);
        Assert.DoesNotContain("127.0.0.1", closed.Error.Message, StringComparison.Ordinal);
    }

    private static MarkerEnvironment Environment() => MarkerEnvironment.ForSandboxPython("3.11.2");

    private Task<Resolution> ResolveAsync(string requirement, IReadOnlyList<PresentPackage>? present = null, long maxWheelBytes = Megabyte, long maxTotalBytes = 4 * Megabyte) =>
        new PackageResolver(new PackageIndexClient(_index.IndexUrl), Environment(), maxWheelBytes, maxTotalBytes)
            .ResolveAsync(Requirement.Parse(requirement), present ?? [], CancellationToken.None);

    private async Task<ToolError> FailsAsync(string requirement, string code, long maxWheelBytes = Megabyte, long maxTotalBytes = 4 * Megabyte)
    {
        var failure = await Assert.ThrowsAsync<ToolFailureException>(() => ResolveAsync(requirement, null, maxWheelBytes, maxTotalBytes));
        Assert.Equal(code, failure.Error.Code);
        Assert.NotEmpty(failure.Error.Suggestions);
        return failure.Error;
    }
}
