using SandboxFunctions.Sandbox.Execution;

namespace SandboxFunctions.Sandbox.Tests;

/// <summary>Hostile code finds nothing of the host: no files, no environment, no network, no processes.</summary>
[Collection(EngineTests.Name)]
public sealed class IsolationTests(EngineFixture engine)
{
    [Theory]
    [InlineData("open('/etc/passwd').read()", "FileNotFoundError")]
    [InlineData("open('../../../../etc/hostname').read()", "FileNotFoundError")]
    [InlineData("open('/proc/self/environ').read()", "FileNotFoundError")]
    [InlineData("import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 80))", "OSError")]
    [InlineData("import subprocess\nsubprocess.run(['ls'])", "OSError")]
    [InlineData("import threading\nthreading.Thread(target=print).start()", "RuntimeError")]
    [InlineData("open('/usr/local/lib/python311.zip', 'wb')", "OSError")]
    [InlineData("import os\nos.remove('/usr/local/lib/python311.zip')", "OSError")]
    public async Task Python_cannot_reach_the_host(string attempt, string errorType)
    {
        await using var sandbox = await engine.CreateAsync("python");

        var result = await sandbox.RunAsync(attempt);

        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal(errorType, result.Error!.Type);
    }

    [Fact]
    public async Task Python_sees_only_the_virtual_tree_and_no_environment()
    {
        await using var sandbox = await engine.CreateAsync("python");

        Assert.Equal("['packages', 'tmp', 'usr', 'workspace']", await sandbox.ValueAsync("import os\nsorted(os.listdir('/'))"));
        Assert.Equal("['packages', 'tmp', 'usr', 'workspace']", await sandbox.ValueAsync("sorted(os.listdir('/workspace/../../..'))"));
        Assert.Equal("{}", await sandbox.ValueAsync("dict(os.environ)"));
        Assert.Equal("'/workspace'", await sandbox.ValueAsync("os.getcwd()"));
    }

    [Theory]
    [InlineData("fs.readFileSync('/etc/passwd', 'utf8')", "ENOENT")]
    [InlineData("fs.readFileSync('../../etc/passwd', 'utf8')", "ENOENT")]
    [InlineData("fs.writeFileSync('/evil.js', 'x')", "EROFS")]
    [InlineData("require('child_process')", "Cannot find module")]
    [InlineData("require('net')", "Cannot find module")]
    public async Task JavaScript_cannot_reach_the_host(string attempt, string message)
    {
        await using var sandbox = await engine.CreateAsync("javascript");

        var result = await sandbox.RunAsync(attempt);

        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Contains(message, result.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JavaScript_sees_no_environment_and_no_network_apis()
    {
        await using var sandbox = await engine.CreateAsync("javascript");

        Assert.Equal("{}", await sandbox.ValueAsync("process.env"));
        Assert.Equal("[ 'tmp', 'workspace' ]", await sandbox.ValueAsync("fs.readdirSync('/')"));
        Assert.Equal("[ 'undefined', 'undefined', 'undefined' ]", await sandbox.ValueAsync("[typeof fetch, typeof XMLHttpRequest, typeof WebSocket]"));
    }
}
