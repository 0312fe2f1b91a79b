namespace SandboxFunctions.Tools.Tests.Shell;

/// <summary>head, tail, wc, cut, tr, uniq, echo, printf, basename and dirname.</summary>
[Collection(ShellTests.Name)]
public sealed class TextCommandTests(ShellFixture fixture)
{
    private const string Lines = "printf '1\\n2\\n3\\n4\\n5\\n' > n.txt; ";

    [Theory]
    [InlineData("head -n 2 n.txt", "1\n2\n")]
    [InlineData("head -2 n.txt", "1\n2\n")]
    [InlineData("head n.txt", "1\n2\n3\n4\n5\n")]
    [InlineData("head -n -2 n.txt", "1\n2\n3\n")]
    [InlineData("head -c 3 n.txt", "1\n2")]
    [InlineData("cat n.txt | head -n1", "1\n")]
    [InlineData("tail -n 2 n.txt", "4\n5\n")]
    [InlineData("tail -1 n.txt", "5\n")]
    [InlineData("tail -n +4 n.txt", "4\n5\n")]
    [InlineData("tail -c 4 n.txt", "4\n5\n")]
    [InlineData("printf 'a\\nb' | tail -n 1", "b")]
    [InlineData("head -n 1 n.txt n.txt", "==> n.txt <==\n1\n\n==> n.txt <==\n1\n")]
    public async Task Head_and_tail_take_lines_or_bytes(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(expected, await sandbox.OutAsync(Lines + command));
    }

    [Fact]
    public async Task Head_refuses_a_bad_count_and_tail_refuses_to_follow()
    {
        await using var sandbox = await fixture.CreateAsync();

        var count = await sandbox.ShellAsync("head -n x n.txt");
        var follow = await sandbox.ShellAsync("tail -f n.txt");

        Assert.Equal((1, "head: invalid number of lines: 'x'\n"), (count.ExitCode, count.Stderr.Text));
        Assert.Equal(1, follow.ExitCode);
        Assert.Contains("-f) is not supported", follow.Stderr.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wc -l n.txt", "5 n.txt\n")]
    [InlineData("cat n.txt | wc -l", "5\n")]
    [InlineData("printf 'one two\\nthree\\n' | wc -w", "3\n")]
    [InlineData("printf 'héllo' | wc -c", "6\n")]
    [InlineData("printf 'héllo' | wc -m", "5\n")]
    [InlineData("printf 'a b\\nc\\n' | wc", "      2       3       6\n")]
    [InlineData("wc n.txt", " 5  5 10 n.txt\n")]
    [InlineData("wc -l n.txt n.txt", " 5 n.txt\n 5 n.txt\n10 total\n")]
    public async Task Wc_counts_lines_words_and_bytes(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(expected, await sandbox.OutAsync(Lines + command));
    }

    [Theory]
    [InlineData("cut -d, -f2 t.csv", "b\n2\n5\n")]
    [InlineData("cut -d , -f 1,3 t.csv", "a,c\n1,3\n4,6\n")]
    [InlineData("cut -d, -f2- t.csv", "b,c\n2,3\n5,6\n")]
    [InlineData("cut -d, -f-2 t.csv", "a,b\n1,2\n4,5\n")]
    [InlineData("cut -c 1-3 t.csv", "a,b\n1,2\n4,5\n")]
    [InlineData("cut -c2 t.csv", ",\n,\n,\n")]
    [InlineData("printf 'x\\ty\\nno-tab\\n' | cut -f2", "y\nno-tab\n")]
    [InlineData("printf 'x\\ty\\nno-tab\\n' | cut -s -f2", "y\n")]
    [InlineData("cut -d, -f3,1 --output-delimiter=' ' t.csv", "a c\n1 3\n4 6\n")]
    public async Task Cut_selects_fields_and_characters(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("t.csv", "a,b,c\n1,2,3\n4,5,6\n");

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }

    [Theory]
    [InlineData("cut t.csv", "cut: you must specify a list of bytes, characters, or fields\n")]
    [InlineData("cut -d ab -f1 t.csv", "cut: the delimiter must be a single character\n")]
    [InlineData("cut -f0 t.csv", "cut: fields and positions are numbered from 1\n")]
    public async Task Cut_explains_misuse(string command, string stderr)
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync(command);

        Assert.Equal((1, stderr), (outcome.ExitCode, outcome.Stderr.Text));
    }

    [Theory]
    [InlineData("echo Hello | tr a-z A-Z", "HELLO\n")]
    [InlineData("echo Hello | tr '[:lower:]' '[:upper:]'", "HELLO\n")]
    [InlineData("echo 'a-b_c' | tr _- ' '", "a b c\n")]
    [InlineData("echo hello | tr -d l", "heo\n")]
    [InlineData("echo 'a1b22c333' | tr -d '[:digit:]'", "abc\n")]
    [InlineData("echo 'aa  bb    c' | tr -s ' '", "aa bb c\n")]
    [InlineData("echo 'one two' | tr ' ' '\\n'", "one\ntwo\n")]
    [InlineData("echo 'abc123' | tr -cd '[:digit:]'", "123")]
    [InlineData("echo 'a,b;c' | tr -c '[:alnum:]\\n' '_'", "a_b_c\n")]
    [InlineData("echo 'aabbcc' | tr -s a-c x", "x\n")]
    public async Task Tr_translates_deletes_and_squeezes(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }

    [Theory]
    [InlineData("uniq u.txt", "a\nb\na\nc\n")]
    [InlineData("uniq -c u.txt", "      2 a\n      1 b\n      1 a\n      2 c\n")]
    [InlineData("uniq -d u.txt", "a\nc\n")]
    [InlineData("uniq -u u.txt", "b\na\n")]
    [InlineData("sort u.txt | uniq -c | sort -rn | head -1", "      3 a\n")]
    [InlineData("printf 'A\\na\\n' | uniq -i", "A\n")]
    public async Task Uniq_collapses_adjacent_repeats(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();
        await sandbox.WriteAsync("u.txt", "a\na\nb\na\nc\nc\n");

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }

    [Theory]
    [InlineData("echo a b  c", "a b c\n")]
    [InlineData("echo -n no newline", "no newline")]
    [InlineData("echo 'tab\\tkept'", "tab\\tkept\n")]
    [InlineData("echo -e 'tab\\there\\nline \\x41\\0102'", "tab\there\nline AB\n")]
    [InlineData("echo -e 'stop\\cignored'", "stop")]
    [InlineData("echo -ne 'x\\n'", "x\n")]
    [InlineData("echo -x", "-x\n")]
    [InlineData("echo", "\n")]
    public async Task Echo_prints_its_arguments(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }

    [Theory]
    [InlineData("printf 'plain'", "plain")]
    [InlineData("printf '%s|%5s|%-5s|%.2s\\n' a b c xyz", "a|    b|c    |xy\n")]
    [InlineData("printf '%d %i %+d %05d %-4d| %x %X %o %#x %u\\n' 42 -7 3 42 1 255 255 8 255 7", "42 -7 +3 00042 1   | ff FF 10 0xff 7\n")]
    [InlineData("printf '%.2f %8.3f %e %g %g %g\\n' 3.14159 2.5 12345.678 0.0001 123456789 100", "3.14    2.500 1.234568e+04 0.0001 1.23457e+08 100\n")]
    [InlineData("printf '%c%c %%\\n' hello world", "hw %\n")]
    [InlineData("printf '%s=%s\\n' a 1 b 2 c", "a=1\nb=2\nc=\n")]
    [InlineData("printf '%b|%s\\n' 'a\\tb' 'a\\tb'", "a\tb|a\\tb\n")]
    [InlineData("printf '%*d|%-*s|\\n' 4 7 3 x", "   7|x  |\n")]
    [InlineData("printf '%d\\n' 0x1F 010 \"'A\"", "31\n8\n65\n")]
    [InlineData("printf '\\101\\x42\\n'", "AB\n")]
    public async Task Printf_formats_like_c(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }

    [Fact]
    public async Task Printf_reports_numbers_it_cannot_read()
    {
        await using var sandbox = await fixture.CreateAsync();

        var outcome = await sandbox.ShellAsync("printf '%d\\n' abc");

        Assert.Equal((1, "0\n", "printf: 'abc': invalid number\n"), (outcome.ExitCode, outcome.Stdout.Text, outcome.Stderr.Text));
    }

    [Theory]
    [InlineData("basename /workspace/data/file.csv", "file.csv\n")]
    [InlineData("basename data/file.csv .csv", "file\n")]
    [InlineData("basename -s .py a.py b.py", "a\nb\n")]
    [InlineData("dirname /workspace/data/file.csv", "/workspace/data\n")]
    [InlineData("dirname file.csv", ".\n")]
    public async Task Basename_and_dirname_split_paths(string command, string expected)
    {
        await using var sandbox = await fixture.CreateAsync();

        Assert.Equal(expected, await sandbox.OutAsync(command));
    }
}
