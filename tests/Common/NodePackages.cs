namespace SandboxFunctions.Testing;

/// <summary>
/// Installs a folder's Node packages from its lock file, once: a <c>.install.lock</c> file is held while installing
/// and a <c>node_modules/.installed-from</c> marker records the lock file's hash, so that test assemblies and the
/// benchmarks, each in its own process, never install into one folder at the same time or more often than needed.
/// </summary>
internal static class NodePackages
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static readonly HashSet<string> s_installed = new(StringComparer.Ordinal);

    public static async Task EnsureInstalledAsync(string folder)
    {
        await InstallGate.WaitAsync();
        try
        {
            if (s_installed.Contains(folder))
            {
                return;
            }

            await using var installLock = await AcquireFileLockAsync(Path.Combine(folder, ".install.lock"));
            var marker = Path.Combine(folder, "node_modules", ".installed-from");
            var lockFileStamp = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
                await File.ReadAllBytesAsync(Path.Combine(folder, "package-lock.json"))));
            if (!File.Exists(marker) || File.ReadAllText(marker) != lockFileStamp)
            {
                await using var npm = ChildProcess.Start("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], new Dictionary<string, string?>(), folder);
                var exitCode = await npm.WaitForExitAsync(TimeSpan.FromMinutes(10));
                if (exitCode != 0)
                {
                    throw new InvalidOperationException($"npm ci in {folder} failed with exit code {exitCode}:\n{npm.Output}");
                }

                await File.WriteAllTextAsync(marker, lockFileStamp);
            }

            s_installed.Add(folder);
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static async Task<FileStream> AcquireFileLockAsync(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
