namespace SandboxFunctions.Tools.Packages;

/// <summary>The values PEP 508 environment markers are evaluated against.</summary>
internal sealed class MarkerEnvironment
{
    private readonly Dictionary<string, string> _values;

    public MarkerEnvironment(IReadOnlyDictionary<string, string> values)
    {
        _values = new Dictionary<string, string>(values, StringComparer.Ordinal);
    }

    /// <summary>
    /// The sandbox's interpreter: CPython on wasm32-wasi. These are the values its own
    /// <c>platform</c>, <c>os</c> and <c>sys</c> modules report, so a requirement applies here exactly
    /// when it would apply to code asking the interpreter.
    /// </summary>
    public static MarkerEnvironment ForSandboxPython(string pythonVersion)
    {
        var full = PackageVersion.TryParse(pythonVersion, out var parsed) ? parsed.ToString() : pythonVersion;
        var release = parsed?.Release ?? [3, 11];
        return new(new Dictionary<string, string>
        {
            ["os_name"] = "posix",
            ["sys_platform"] = "wasi",
            ["platform_machine"] = "wasm32",
            ["platform_python_implementation"] = "CPython",
            ["platform_release"] = "0.0.0",
            ["platform_system"] = "wasi",
            ["platform_version"] = "0.0.0",
            ["python_version"] = $"{release[0]}.{(release.Count > 1 ? release[1] : 0)}",
            ["python_full_version"] = full,
            ["implementation_name"] = "cpython",
            ["implementation_version"] = full,
        });
    }

    public string PythonFullVersion => _values["python_full_version"];

    public bool TryGet(string variable, out string value) => _values.TryGetValue(variable, out value!);
}

/// <summary>A parsed PEP 508 marker such as <c>python_version &gt;= "3.8" and extra == "yaml"</c>.</summary>
internal abstract class EnvironmentMarker
{
    /// <summary>Parses a marker; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static EnvironmentMarker Parse(string text)
    {
        var parser = new MarkerParser(text);
        var marker = parser.ParseOr();
        parser.ExpectEnd();
        return marker;
    }

    /// <summary>Evaluates with <c>extra</c> set to <paramref name="extra"/> (empty when no extra applies).</summary>
    public abstract bool Evaluate(MarkerEnvironment environment, string extra);

    private sealed class And(EnvironmentMarker left, EnvironmentMarker right) : EnvironmentMarker
    {
        public override bool Evaluate(MarkerEnvironment environment, string extra) =>
            left.Evaluate(environment, extra) && right.Evaluate(environment, extra);
    }

    private sealed class Or(EnvironmentMarker left, EnvironmentMarker right) : EnvironmentMarker
    {
        public override bool Evaluate(MarkerEnvironment environment, string extra) =>
            left.Evaluate(environment, extra) || right.Evaluate(environment, extra);
    }

    private sealed class Comparison(Operand left, string op, Operand right) : EnvironmentMarker
    {
        private static readonly HashSet<string> VersionOperators = ["<", "<=", "==", "!=", ">=", ">", "~=", "==="];

        public override bool Evaluate(MarkerEnvironment environment, string extra)
        {
            var isExtra = left.Variable == "extra" || right.Variable == "extra";
            var lhs = left.Resolve(environment, extra, isExtra);
            var rhs = right.Resolve(environment, extra, isExtra);
            if (op == "in")
            {
                return rhs.Contains(lhs, StringComparison.Ordinal);
            }

            if (op == "not in")
            {
                return !rhs.Contains(lhs, StringComparison.Ordinal);
            }

            // PEP 508: compare as versions when both sides are versions, otherwise as strings.
            if (!isExtra && VersionOperators.Contains(op) && PackageVersion.TryParse(lhs, out var version) && PackageVersion.TryParse(rhs, out _))
            {
                return VersionSpecifier.Parse(op + rhs).Matches(version);
            }

            return op switch
            {
                "==" or "===" => lhs == rhs,
                "!=" => lhs != rhs,
                "<" => string.CompareOrdinal(lhs, rhs) < 0,
                "<=" => string.CompareOrdinal(lhs, rhs) <= 0,
                ">" => string.CompareOrdinal(lhs, rhs) > 0,
                ">=" => string.CompareOrdinal(lhs, rhs) >= 0,
                _ => throw new FormatException($"'{op}' cannot compare '{lhs}' with '{rhs}', which are not both versions."),
            };
        }
    }

    private sealed record Operand(string? Variable, string? Literal)
    {
        public string Resolve(MarkerEnvironment environment, string extra, bool isExtra)
        {
            var value = Variable switch
            {
                null => Literal!,
                "extra" => extra,
                _ when environment.TryGet(Variable, out var known) => known,
                _ => throw new FormatException($"'{Variable}' is not an environment marker variable."),
            };

            // Extras compare by their normalized names (PEP 685).
            return isExtra ? PackageName.Canonicalize(value) : value;
        }
    }

    private sealed class MarkerParser(string text)
    {
        // Older metadata spells some variables with dots.
        private static readonly Dictionary<string, string> LegacyNames = new(StringComparer.Ordinal)
        {
            ["os.name"] = "os_name",
            ["sys.platform"] = "sys_platform",
            ["platform.version"] = "platform_version",
            ["platform.machine"] = "platform_machine",
            ["platform.python_implementation"] = "platform_python_implementation",
            ["python_implementation"] = "platform_python_implementation",
        };

        private static readonly string[] Operators = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"];

        private int _position;

        public EnvironmentMarker ParseOr()
        {
            var left = ParseAnd();
            while (TryKeyword("or"))
            {
                left = new Or(left, ParseAnd());
            }

            return left;
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_position < text.Length)
            {
                throw Error($"unexpected '{text[_position..]}'");
            }
        }

        private EnvironmentMarker ParseAnd()
        {
            var left = ParseAtom();
            while (TryKeyword("and"))
            {
                left = new And(left, ParseAtom());
            }

            return left;
        }

        private EnvironmentMarker ParseAtom()
        {
            SkipSpace();
            if (_position < text.Length && text[_position] == '(')
            {
                _position++;
                var inner = ParseOr();
                SkipSpace();
                if (_position >= text.Length || text[_position] != ')')
                {
                    throw Error("a '(' is not closed");
                }

                _position++;
                return inner;
            }

            var left = ParseOperand();
            var op = ParseOperator();
            var right = ParseOperand();
            return new Comparison(left, op, right);
        }

        private Operand ParseOperand()
        {
            SkipSpace();
            if (_position >= text.Length)
            {
                throw Error("a value is missing at the end");
            }

            var quote = text[_position];
            if (quote is '"' or '\'')
            {
                var end = text.IndexOf(quote, _position + 1);
                if (end < 0)
                {
                    throw Error("a quoted string is not closed");
                }

                var literal = text[(_position + 1)..end];
                _position = end + 1;
                return new Operand(null, literal);
            }

            var start = _position;
            while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] is '_' or '.'))
            {
                _position++;
            }

            if (start == _position)
            {
                throw Error($"expected a variable or a quoted string at '{text[start..]}'");
            }

            var name = text[start.._position];
            return new Operand(LegacyNames.GetValueOrDefault(name, name), null);
        }

        private string ParseOperator()
        {
            SkipSpace();
            if (TryKeyword("not"))
            {
                return TryKeyword("in") ? "not in" : throw Error("'not' must be followed by 'in'");
            }

            if (TryKeyword("in"))
            {
                return "in";
            }

            foreach (var op in Operators)
            {
                if (string.CompareOrdinal(text, _position, op, 0, op.Length) == 0)
                {
                    _position += op.Length;
                    return op;
                }
            }

            throw Error($"expected a comparison operator at '{text[_position..]}'");
        }

        private bool TryKeyword(string keyword)
        {
            SkipSpace();
            var end = _position + keyword.Length;
            if (end <= text.Length && string.CompareOrdinal(text, _position, keyword, 0, keyword.Length) == 0 &&
                (end == text.Length || !char.IsAsciiLetterOrDigit(text[end]) && text[end] != '_'))
            {
                _position = end;
                return true;
            }

            return false;
        }

        private void SkipSpace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        private FormatException Error(string problem) => new($"The marker '{text}' is invalid: {problem}.");
    }
}
