using System.Globalization;
using System.Text;
using SandboxFunctions.Sandbox;

namespace SandboxFunctions.Tools.Shell.Commands;

/// <summary><c>ls</c>: one name per line (as when its output is not a terminal), or the long format with -l.</summary>
internal static class ListCommand
{
    public static async Task<int> RunAsync(CommandContext context)
    {
        var options = CommandOptions.Parse(context, context.Arguments, "laAR1dhrtSFp",
            "all=a,almost-all=A,recursive=R,directory=d,human-readable=h,reverse=r,classify=F", usageStatus: 2);
        if (options is null)
        {
            return 2;
        }

        var listing = new Listing(context, options);
        var status = 0;
        var files = new List<(string Shown, ShellEntry Entry)>();
        var directories = new List<(string Shown, ShellEntry Entry)>();
        foreach (var operand in options.Operands.Count == 0 ? ["."] : options.Operands)
        {
            ShellEntry? entry;
            try
            {
                entry = await context.Files.StatAsync(context.Resolve(operand), context.CancellationToken).ConfigureAwait(false);
            }
            catch (WorkspaceException ex)
            {
                status = context.Fail($"cannot access '{operand}': {ShellFileSystem.Describe(ex)}", 2);
                continue;
            }

            if (entry is null)
            {
                status = context.Fail($"cannot access '{operand}': No such file or directory", 2);
            }
            else if (entry.IsDirectory && !options.Has("d"))
            {
                directories.Add((operand, entry));
            }
            else
            {
                files.Add((operand, entry));
            }
        }

        listing.Print([.. listing.Sort(files)], total: false);
        var headers = files.Count + directories.Count > 1 || options.Has("R");
        var first = files.Count == 0;
        foreach (var (shown, entry) in listing.Sort(directories))
        {
            first = await listing.PrintDirectoryAsync(shown, entry, headers, first).ConfigureAwait(false);
        }

        return status;
    }

    private sealed class Listing(CommandContext context, CommandOptions options)
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public async Task<bool> PrintDirectoryAsync(string shown, ShellEntry directory, bool header, bool first)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (!first)
            {
                context.Stdout.Write("\n");
            }

            if (header)
            {
                context.Stdout.WriteLine($"{shown}:");
            }

            var children = await context.Files.ListAsync(directory.Path, recursive: false, context.CancellationToken).ConfigureAwait(false);
            var visible = children.Where(c => options.Has("a") || options.Has("A") || !c.Name.StartsWith('.')).Select(c => (c.Name, Entry: c)).ToList();
            var sorted = Sort(visible).ToList();
            if (options.Has("a"))
            {
                sorted.InsertRange(options.Has("r") ? sorted.Count : 0, options.Has("r") ? [("..", directory), (".", directory)] : [(".", directory), ("..", directory)]);
            }

            Print(sorted, total: true);
            if (options.Has("R"))
            {
                foreach (var (name, entry) in Sort(visible).Where(c => c.Entry.IsDirectory))
                {
                    await PrintDirectoryAsync(shown.EndsWith('/') ? shown + name : $"{shown}/{name}", entry, header: true, first: false).ConfigureAwait(false);
                }
            }

            return false;
        }

        public IEnumerable<(string Shown, ShellEntry Entry)> Sort(IEnumerable<(string Shown, ShellEntry Entry)> entries)
        {
            var sorted = options.Has("t")
                ? entries.OrderByDescending(e => e.Entry.Modified).ThenBy(e => e.Shown, StringComparer.Ordinal)
                : options.Has("S")
                    ? entries.OrderByDescending(e => e.Entry.Size).ThenBy(e => e.Shown, StringComparer.Ordinal)
                    : entries.OrderBy(e => e.Shown, StringComparer.Ordinal);
            return options.Has("r") ? sorted.Reverse() : sorted;
        }

        public void Print(List<(string Shown, ShellEntry Entry)> entries, bool total)
        {
            var text = new StringBuilder();
            if (!options.Has("l"))
            {
                foreach (var (shown, entry) in entries)
                {
                    text.Append(shown).Append(Suffix(entry)).Append('\n');
                }

                context.Stdout.Write(text.ToString());
                return;
            }

            if (total)
            {
                var blocks = entries.Where(e => !e.Entry.IsDirectory).Sum(e => (e.Entry.Size + 1023) / 1024);
                text.Append(CultureInfo.InvariantCulture, $"total {blocks}\n");
            }

            var sizes = entries.Select(e => options.Has("h") ? FileCommands.HumanSize(e.Entry.Size) : e.Entry.Size.ToString(CultureInfo.InvariantCulture)).ToList();
            var width = sizes.Count == 0 ? 1 : sizes.Max(s => s.Length);
            for (var i = 0; i < entries.Count; i++)
            {
                var (shown, entry) = entries[i];
                var mode = entry.IsDirectory ? "drwxr-xr-x 2" : "-rw-r--r-- 1";
                text.Append(CultureInfo.InvariantCulture, $"{mode} sandbox sandbox {sizes[i].PadLeft(width)} {Date(entry.Modified)} {shown}{Suffix(entry)}\n");
            }

            context.Stdout.Write(text.ToString());
        }

        private string Suffix(ShellEntry entry) => entry.IsDirectory && (options.Has("F") || options.Has("p")) ? "/" : string.Empty;

        private string Date(DateTimeOffset modified)
        {
            var recent = modified > _now.AddMonths(-6) && modified <= _now.AddHours(1);
            var month = modified.ToString("MMM", CultureInfo.InvariantCulture);
            var day = modified.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2);
            return recent
                ? $"{month} {day} {modified.ToString("HH:mm", CultureInfo.InvariantCulture)}"
                : $"{month} {day}  {modified.Year.ToString(CultureInfo.InvariantCulture)}";
        }
    }
}
