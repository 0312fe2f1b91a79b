using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox.Tests;

/// <summary>The pure-Python packages that ship with the Python runtime: each imports and works in the sandbox.</summary>
[Collection(EngineTests.Name)]
public sealed class BundledPackagesTests(EngineFixture engine)
{
    /// <summary>Per distribution: code whose last expression must equal the expected repr.</summary>
    public static TheoryData<string, string, string> Checks => new()
    {
        { "attrs", "import attr\n@attr.s(auto_attribs=True)\nclass P:\n    x: int\nrepr(P(1))", "'P(x=1)'" },
        { "beautifulsoup4", "from bs4 import BeautifulSoup\nBeautifulSoup('<p><b>hi</b></p>', 'html.parser').b.text", "'hi'" },
        { "chardet", "import chardet\nchardet.detect('naïve café'.encode('utf-8'))['encoding']", "'utf-8'" },
        { "charset-normalizer", "from charset_normalizer import from_bytes\nstr(from_bytes('Grüße aus Köln'.encode('utf-8')).best())", "'Grüße aus Köln'" },
        { "defusedxml", "from defusedxml.ElementTree import fromstring\nfromstring('<a><b>1</b></a>').find('b').text", "'1'" },
        { "et-xmlfile", "import io\nfrom et_xmlfile import xmlfile\nout = io.BytesIO()\nwith xmlfile(out) as xf:\n    with xf.element('root'):\n        xf.write('x')\nout.getvalue()", "b'<root>x</root>'" },
        { "idna", "import idna\nidna.encode('bücher.example').decode()", "'xn--bcher-kva.example'" },
        { "Jinja2", "import jinja2\njinja2.Template('Hello {{ name|upper }}').render(name='<x>')", "'Hello <X>'" },
        { "jmespath", "import jmespath\njmespath.search('a[*].b', {'a': [{'b': 1}, {'b': 2}]})", "[1, 2]" },
        { "Markdown", "import markdown\nmarkdown.markdown('# Title')", "'<h1>Title</h1>'" },
        { "MarkupSafe", "import markupsafe\nstr(markupsafe.escape('<a>'))", "'&lt;a&gt;'" },
        { "more-itertools", "import more_itertools\nlist(more_itertools.chunked(range(5), 2))", "[[0, 1], [2, 3], [4]]" },
        { "mpmath", "import mpmath\nmpmath.mp.dps = 20\nstr(mpmath.sqrt(2))", "'1.4142135623730950488'" },
        { "natsort", "import natsort\nnatsort.natsorted(['a10', 'a2', 'a1'])", "['a1', 'a2', 'a10']" },
        { "networkx", "import networkx as nx\ng = nx.path_graph(5)\nnx.shortest_path(g, 0, 4)", "[0, 1, 2, 3, 4]" },
        { "openpyxl", "import io, openpyxl\nwb = openpyxl.Workbook()\nwb.active['A1'] = 42\nbuf = io.BytesIO()\nwb.save(buf)\nopenpyxl.load_workbook(io.BytesIO(buf.getvalue())).active['A1'].value", "42" },
        { "packaging", "from packaging.version import Version\nVersion('1.10') > Version('1.9')", "True" },
        { "pydantic", "import pydantic\nclass M(pydantic.BaseModel):\n    n: int\nM(n='5').n", "5" },
        { "pyparsing", "import pyparsing as pp\npp.Word(pp.nums).parse_string('123')[0]", "'123'" },
        { "pypdf", "import pypdf\nw = pypdf.PdfWriter()\nw.add_blank_page(72, 72)\nlen(w.pages)", "1" },
        { "python-dateutil", "from dateutil import parser, relativedelta\nstr(parser.parse('2024-01-31') + relativedelta.relativedelta(months=1))", "'2024-02-29 00:00:00'" },
        { "python-slugify", "from slugify import slugify\nslugify('Hello, Wörld!')", "'hello-world'" },
        { "PyYAML", "import yaml\n(yaml.safe_load('a: [1, 2]'), yaml.__with_libyaml__)", "({'a': [1, 2]}, False)" },
        { "simplejson", "import simplejson\nsimplejson.dumps({'a': 1.5})", "'{\"a\": 1.5}'" },
        { "six", "import six\nsix.PY3", "True" },
        { "sortedcontainers", "from sortedcontainers import SortedList\nlist(SortedList([3, 1, 2]))", "[1, 2, 3]" },
        { "soupsieve", "import soupsieve, bs4\nlen(soupsieve.select('li.x', bs4.BeautifulSoup('<li class=x></li><li></li>', 'html.parser')))", "1" },
        { "sympy", "import sympy\nx = sympy.Symbol('x')\nstr(sympy.integrate(x**2, x))", "'x**3/3'" },
        { "tabulate", "from tabulate import tabulate\ntabulate([[1, 2]], headers=['a', 'b'], tablefmt='github')", "'|   a |   b |\\n|-----|-----|\\n|   1 |   2 |'" },
        { "tomli", "import tomli\ntomli.loads('a = 1')", "{'a': 1}" },
        { "tomlkit", "import tomlkit\ndoc = tomlkit.parse('a = 1 # kept')\ndoc['a'] = 2\ntomlkit.dumps(doc)", "'a = 2 # kept'" },
        { "toolz", "import toolz\ntoolz.pipe(3, lambda n: n + 1, str)", "'4'" },
        { "tzdata", "from datetime import datetime\nfrom zoneinfo import ZoneInfo, available_timezones\n(str(datetime(2026, 7, 1, tzinfo=ZoneInfo('Europe/Paris')).utcoffset()), str(datetime(2026, 1, 1, tzinfo=ZoneInfo('America/Argentina/Buenos_Aires')).utcoffset()), {'Asia/Tokyo', 'UTC'} <= available_timezones())", "('2:00:00', '-1 day, 21:00:00', True)" },
        { "typing_extensions", "import typing_extensions\ntyping_extensions.Literal['a'].__args__", "('a',)" },
        { "Unidecode", "from unidecode import unidecode\nunidecode('Łódź')", "'Lodz'" },
        { "XlsxWriter", "import io, xlsxwriter\nbuf = io.BytesIO()\nwb = xlsxwriter.Workbook(buf)\nwb.add_worksheet().write('A1', 'x')\nwb.close()\nbuf.getvalue()[:2]", "b'PK'" },
        { "xmltodict", "import xmltodict\nxmltodict.parse('<a><b>1</b></a>')", "{'a': {'b': '1'}}" },
    };

    [Theory]
    [MemberData(nameof(Checks))]
    public async Task Each_bundled_package_imports_and_works(string distribution, string code, string expected)
    {
        await using var sandbox = await engine.CreateAsync("python");

        var result = await sandbox.RunAsync(code, timeoutSeconds: 60);

        Assert.True(result.Status == ExecutionStatus.Ok, $"{distribution}: {result.Status} {result.Error?.Traceback ?? result.Message}\n{result.Stderr}");
        Assert.Equal(expected, result.Result?.Repr);
    }

    [Fact]
    public async Task The_manifest_lists_every_bundled_package_with_the_version_the_guest_reports()
    {
        var packages = engine.Runtime("python").Info.Packages;
        await using var sandbox = await engine.CreateAsync("python");

        var result = await sandbox.RunAsync("import importlib.metadata as m\nsorted(f\"{d.metadata['Name']}=={d.version}\" for d in m.distributions())", timeoutSeconds: 60);

        Assert.Equal(ExecutionStatus.Ok, result.Status);
        var reported = result.Result!.Json!.Value.EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(packages.Order(StringComparer.OrdinalIgnoreCase), reported.Order(StringComparer.OrdinalIgnoreCase));
        Assert.Equal(Checks.Count, packages.Count);
        Assert.All(Checks, check => Assert.Contains(packages, p => p.StartsWith((string)check[0] + "==", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Bundled_packages_are_read_only_and_come_after_the_session_folders_on_the_path()
    {
        await using var sandbox = await engine.CreateAsync("python");

        var path = await sandbox.RunAsync("import sys\nsys.path");
        var write = await sandbox.RunAsync("open('/usr/local/lib/python3.11/site-packages.zip', 'ab')");

        Assert.Equal(
            ["/workspace", "/usr/local/lib/python311.zip", "/packages", "/usr/local/lib/python3.11/site-packages.zip"],
            path.Result!.Json!.Value.EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(ExecutionStatus.Error, write.Status);
        Assert.Contains("Read-only", write.Error!.Message, StringComparison.OrdinalIgnoreCase);
    }
}
