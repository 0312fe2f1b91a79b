namespace SandboxFunctions.Sandbox.Tests;

[Collection(EngineTests.Name)]
public sealed class WorkspaceTests(EngineFixture engine)
{
    [Theory]
    [InlineData("data.csv", "/workspace/data.csv")]
    [InlineData("./sub/../data.csv", "/workspace/data.csv")]
    [InlineData("/workspace/a/b.txt", "/workspace/a/b.txt")]
    [InlineData("/workspace", "/workspace")]
    public void Paths_are_normalized_inside_the_workspace(string path, string expected) =>
        Assert.Equal(expected, SandboxWorkspace.Normalize(path));

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("/workspace/../tmp/x")]
    [InlineData("/usr/local/lib/python311.zip")]
    public void Paths_outside_the_workspace_are_refused(string path)
    {
        var error = Assert.Throws<WorkspaceException>(() => SandboxWorkspace.Normalize(path));

        Assert.Equal(WorkspaceError.OutsideWorkspace, error.Error);
        Assert.Contains("/workspace", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Files_written_by_the_host_are_seen_by_the_guest_and_back()
    {
        await using var sandbox = await engine.CreateAsync("python");

        var entry = await sandbox.Workspace.WriteAsync("in/data.txt", "hello"u8.ToArray());
        var read = await sandbox.ValueAsync("open('in/data.txt').read().upper()");
        await sandbox.ValueAsync("open('out.txt', 'w').write('from guest')");

        Assert.Equal("/workspace/in/data.txt", entry.Path);
        Assert.Equal(5, entry.Size);
        Assert.Equal("'HELLO'", read);
        Assert.Equal("from guest"u8.ToArray(), await sandbox.Workspace.ReadAsync("out.txt"));
        Assert.Equal("guest"u8.ToArray(), await sandbox.Workspace.ReadAsync("out.txt", offset: 5, length: 100));
    }

    [Fact]
    public async Task Deleting_removes_files_and_folders_and_missing_paths_say_so()
    {
        await using var sandbox = await engine.CreateAsync("javascript");
        await sandbox.Workspace.WriteAsync("tree/a/b.txt", "x"u8.ToArray());

        await sandbox.Workspace.DeleteAsync("tree");

        Assert.Empty(await sandbox.Workspace.ListAsync());
        var missing = await Assert.ThrowsAsync<WorkspaceException>(() => sandbox.Workspace.ReadAsync("tree/a/b.txt"));
        Assert.Equal(WorkspaceError.NotFound, missing.Error);
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_writes_respect_the_workspace_limits()
    {
        var limits = Execution.SandboxLimits.Default with { Files = new Vfs.VfsLimits(MaxFiles: 10, MaxTotalBytes: 1000, MaxFileBytes: 600) };
        await using var sandbox = await engine.CreateAsync("python", limits);

        var error = await Assert.ThrowsAsync<WorkspaceException>(() => sandbox.Workspace.WriteAsync("big.bin", new byte[700]));

        Assert.Equal(WorkspaceError.LimitExceeded, error.Error);
        Assert.Contains("600 bytes", error.Message, StringComparison.Ordinal);
    }
}
