using SandboxFunctions.Tools.Packages;

namespace SandboxFunctions.Tools.Tests.Packages;

/// <summary>PEP 508 requirements and environment markers, evaluated for the sandbox's CPython on wasm32-wasi.</summary>
public sealed class RequirementTests
{
    private static readonly MarkerEnvironment Sandbox = MarkerEnvironment.ForSandboxPython("3.11.2");

    [Fact]
    public void A_full_requirement_is_read_into_its_parts()
    {
        var requirement = Requirement.Parse("Demo_Lib[Fast, yaml] >=1.0, <2 ; python_version >= '3.8'");

        Assert.Equal("Demo_Lib", requirement.Name);
        Assert.Equal("demo-lib", requirement.CanonicalName);
        Assert.Equal(["fast", "yaml"], requirement.Extras);
        Assert.Equal(">=1.0,<2", requirement.Specifier.ToString());
        Assert.True(requirement.AppliesTo(Sandbox, []));
    }

    [Theory]
    [InlineData("six", "six", "")]
    [InlineData("zope.interface (>=5.0)", "zope.interface", ">=5.0")]
    [InlineData("attrs>=19.2.0,!=20.1", "attrs", ">=19.2.0,!=20.1")]
    [InlineData("typing-extensions ; python_version < \"3.8\"", "typing-extensions", "")]
    public void Requirements_in_their_common_spellings_are_read(string text, string name, string specifier)
    {
        var requirement = Requirement.Parse(text);

        Assert.Equal(name, requirement.Name);
        Assert.Equal(specifier, requirement.Specifier.ToString());
    }

    [Theory]
    [InlineData("not a name!")]
    [InlineData("demo >= ")]
    [InlineData("demo @ https://example.invalid/demo.whl")]
    [InlineData("demo[bad extra]")]
    [InlineData("demo; python_version >>> '3'")]
    public void Malformed_requirements_are_refused(string text) =>
        Assert.Throws<FormatException>(() => Requirement.Parse(text));

    [Theory]
    [InlineData("python_version >= '3.8'", true)]
    [InlineData("python_version < '3.10'", false)]
    [InlineData("python_full_version == '3.11.2'", true)]
    [InlineData("python_version > '3.9' and python_version < '3.12'", true)]
    [InlineData("sys_platform == 'win32' or sys_platform == 'darwin'", false)]
    [InlineData("sys_platform == 'wasi'", true)]
    [InlineData("platform_system != 'Windows'", true)]
    [InlineData("platform_machine == 'wasm32'", true)]
    [InlineData("os_name == 'posix' and (implementation_name == 'cpython' or implementation_name == 'pypy')", true)]
    [InlineData("platform_python_implementation == 'PyPy'", false)]
    [InlineData("'linux' in sys_platform", false)]
    [InlineData("'wa' in sys_platform", true)]
    [InlineData("'win' not in sys_platform", true)]
    [InlineData("os.name == 'posix'", true)]
    [InlineData("'3.11' == python_version", true)]
    [InlineData("implementation_version >= '3'", true)]
    public void Markers_describe_cpython_on_wasi(string marker, bool expected) =>
        Assert.Equal(expected, EnvironmentMarker.Parse(marker).Evaluate(Sandbox, string.Empty));

    [Fact]
    public void Extra_markers_apply_only_for_their_extra_in_any_spelling()
    {
        var requirement = Requirement.Parse("PyYAML>=5; extra == 'Yaml_Support'");

        Assert.False(requirement.AppliesTo(Sandbox, []));
        Assert.False(requirement.AppliesTo(Sandbox, ["other"]));
        Assert.True(requirement.AppliesTo(Sandbox, ["yaml-support"]));
    }

    [Theory]
    [InlineData("python_version >= ")]
    [InlineData("(python_version >= '3'")]
    [InlineData("python_version ~ '3'")]
    [InlineData("python_version >= '3' or")]
    [InlineData("'unterminated == sys_platform")]
    public void Malformed_markers_are_refused(string marker) =>
        Assert.Throws<FormatException>(() => EnvironmentMarker.Parse(marker));

    [Fact]
    public void Unknown_variables_fail_when_evaluated() =>
        Assert.Throws<FormatException>(() => EnvironmentMarker.Parse("gpu_vendor == 'x'").Evaluate(Sandbox, string.Empty));
}
