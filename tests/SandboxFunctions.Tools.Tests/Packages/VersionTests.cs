using SandboxFunctions.Tools.Packages;

namespace SandboxFunctions.Tools.Tests.Packages;

/// <summary>PEP 440 versions and specifiers, as installers read and order them.</summary>
public sealed class VersionTests
{
    [Theory]
    [InlineData("1.0", "1.0")]
    [InlineData("v1.0", "1.0")]
    [InlineData("1.0-alpha.2", "1.0a2")]
    [InlineData("1.0.beta", "1.0b0")]
    [InlineData("1.0c1", "1.0rc1")]
    [InlineData("1.0-preview-3", "1.0rc3")]
    [InlineData("1.0-1", "1.0.post1")]
    [InlineData("1.0.rev2", "1.0.post2")]
    [InlineData("1.0-dev", "1.0.dev0")]
    [InlineData("2!1.0_RC1.post2.dev3+Ubuntu-1", "2!1.0rc1.post2.dev3+ubuntu.1")]
    public void Versions_are_read_in_their_normalized_form(string text, string normalized) =>
        Assert.Equal(normalized, PackageVersion.Parse(text).ToString());

    [Theory]
    [InlineData("")]
    [InlineData("1.0.x")]
    [InlineData("one")]
    [InlineData("1.0+")]
    [InlineData("1..0")]
    public void Invalid_versions_are_refused(string text) =>
        Assert.False(PackageVersion.TryParse(text, out _));

    [Fact]
    public void Versions_sort_as_pep_440_orders_them()
    {
        string[] ordered =
        [
            "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456",
            "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456",
            "1.0.15", "1.1.dev1", "2.0", "1!0.1",
        ];

        var shuffled = ordered.Reverse().Concat(ordered.Where((_, i) => i % 2 == 0)).Select(PackageVersion.Parse).Distinct().ToList();
        shuffled.Sort();

        Assert.Equal(ordered, shuffled.Select(v => v.ToString()));
    }

    [Fact]
    public void Trailing_zeros_do_not_make_a_different_version()
    {
        Assert.Equal(PackageVersion.Parse("1.2"), PackageVersion.Parse("1.2.0.0"));
        Assert.Equal(PackageVersion.Parse("1.2").GetHashCode(), PackageVersion.Parse("1.2.0").GetHashCode());
        Assert.True(PackageVersion.Parse("1.10") > PackageVersion.Parse("1.9"));
    }

    [Theory]
    [InlineData("==1.2", "1.2.0", true)]
    [InlineData("==1.2", "1.2.1", false)]
    [InlineData("==1.2", "1.2+local", true)]
    [InlineData("==1.2+local", "1.2", false)]
    [InlineData("==1.2.*", "1.2.9", true)]
    [InlineData("==1.2.*", "1.2", true)]
    [InlineData("==1.2.*", "1.3", false)]
    [InlineData("!=1.2.*", "1.3", true)]
    [InlineData("!=1.2.*", "1.2.5", false)]
    [InlineData("!=2.0", "2.0.0", false)]
    [InlineData("~=2.2", "2.9", true)]
    [InlineData("~=2.2", "3.0", false)]
    [InlineData("~=2.2", "2.1", false)]
    [InlineData("~=1.4.5", "1.4.9", true)]
    [InlineData("~=1.4.5", "1.5.0", false)]
    [InlineData("<3.0", "2.9", true)]
    [InlineData("<3.0", "3.0a1", false)]
    [InlineData("<3.0rc1", "3.0a1", true)]
    [InlineData(">3.0", "3.0.post1", false)]
    [InlineData(">3.0.post1", "3.0.post2", true)]
    [InlineData(">3.0", "3.0.1", true)]
    [InlineData("<=3.0", "3.0+local", true)]
    [InlineData(">=1.0", "1.0", true)]
    [InlineData("===1.0", "1.0", true)]
    [InlineData("===1.0", "1.0.0", false)]
    public void Specifier_clauses_match_as_pep_440_says(string clause, string version, bool matches) =>
        Assert.Equal(matches, VersionSpecifier.Parse(clause).Matches(PackageVersion.Parse(version)));

    [Theory]
    [InlineData(">=1.0", "2.0b1", false)]
    [InlineData(">=1.0b1", "2.0b1", true)]
    [InlineData(">=1.0,!=1.5b1", "2.0b1", false)]
    [InlineData("", "2.0.dev1", false)]
    [InlineData(">=1.0", "2.0", true)]
    public void Pre_releases_only_match_when_a_clause_names_one(string specifier, string version, bool contains) =>
        Assert.Equal(contains, VersionSpecifierSet.Parse(specifier).Contains(PackageVersion.Parse(version)));

    [Fact]
    public void A_set_needs_every_clause()
    {
        var set = VersionSpecifierSet.Parse(">=1.0, <2.0, !=1.3");

        Assert.True(set.Contains(PackageVersion.Parse("1.4")));
        Assert.False(set.Contains(PackageVersion.Parse("1.3")));
        Assert.False(set.Contains(PackageVersion.Parse("2.0")));
        Assert.Equal(">=1.0,<2.0,!=1.3", set.ToString());
    }

    [Theory]
    [InlineData("=>1.0")]
    [InlineData(">=1.*")]
    [InlineData("~=1")]
    [InlineData("<1.0+local")]
    [InlineData("==1.0a1.*")]
    [InlineData("1.0")]
    public void Invalid_specifiers_are_refused(string clause) =>
        Assert.Throws<FormatException>(() => VersionSpecifier.Parse(clause));
}
