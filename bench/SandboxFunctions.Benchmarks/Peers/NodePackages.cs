using System.Diagnostics;
using System.Security.Cryptography;

namespace SandboxFunctions.Benchmarks.Peers;

/// <summary>
/// Installs a folder's Node packages from its lock file once. It follows the test suite's convention (a
/// <c>.install.lock</c> file held while installing, and a <c>node_modules/.installed-from</c> marker holding the
/// lock file's hash), so that the tests and the benchmarks never install into one folder at the same time.
/// </summary>
internal static class NodePackages
{
    public static async Task EnsureInstalledAsync(string folder)
    {
        await using var installLock = await AcquireFileLockAsync(Path.Combine(folder, ".install.lock"));
        var marker = Path.Combine(folder, "node_modules", ".installed-from");
        var lockFileHash = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(folder, "package-lock.json"))));
        if (File.Exists(marker) && await File.ReadAllTextAsync(marker) == lockFileHash)
        {
            return;
        }

        Console.Error.WriteLine($"Installing the Node packages in {folder} ...");
        var info = new ProcessStartInfo("npm") { WorkingDirectory = folder, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
        {
            info.ArgumentList.Add(argument);
        }

        using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm could not be started.");
        var output = npm.StandardOutput.ReadToEndAsync();
        var errors = npm.StandardError.ReadToEndAsync();
        await npm.WaitForExitAsync();
        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm ci in {folder} failed with exit code {npm.ExitCode}:\n{await output}\n{await errors}");
        }

        await File.WriteAllTextAsync(marker, lockFileHash);
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
