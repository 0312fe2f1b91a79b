namespace SandboxFunctions.Tools.Shell;

/// <summary>The POSIX character classes (<c>[:alpha:]</c> and the rest) in the C locale.</summary>
internal static class CharacterClasses
{
    /// <summary>The class as the inside of a .NET character class, or null when there is no such class.</summary>
    public static string? ToRegex(string name) => name switch
    {
        "alpha" => "a-zA-Z",
        "digit" => "0-9",
        "alnum" => "a-zA-Z0-9",
        "upper" => "A-Z",
        "lower" => "a-z",
        "space" => @" \t\n\r\f\v",
        "blank" => @" \t",
        "punct" => @"!-/:-@\[-`{-~",
        "xdigit" => "0-9A-Fa-f",
        "cntrl" => @"\x00-\x1f\x7f",
        "print" => @"\x20-\x7e",
        "graph" => @"\x21-\x7e",
        _ => null,
    };

    /// <summary>The characters of the class in order, or null when there is no such class.</summary>
    public static string? Characters(string name) => name switch
    {
        "alpha" => Range('A', 'Z') + Range('a', 'z'),
        "digit" => Range('0', '9'),
        "alnum" => Range('0', '9') + Range('A', 'Z') + Range('a', 'z'),
        "upper" => Range('A', 'Z'),
        "lower" => Range('a', 'z'),
        "space" => "\t\n\v\f\r ",
        "blank" => "\t ",
        "punct" => Range('!', '/') + Range(':', '@') + Range('[', '`') + Range('{', '~'),
        "xdigit" => Range('0', '9') + Range('A', 'F') + Range('a', 'f'),
        "cntrl" => Range('\0', '\x1f') + "\x7f",
        "print" => Range(' ', '~'),
        "graph" => Range('!', '~'),
        _ => null,
    };

    private static string Range(char first, char last) => new([.. Enumerable.Range(first, last - first + 1).Select(c => (char)c)]);
}
