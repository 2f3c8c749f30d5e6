namespace PgGate.Sandbox;

/// <summary>The end of a server log, for error messages: the reason a server failed is almost always there.</summary>
internal static class LogTail
{
    public static string Read(string path, int lines = 20)
    {
        try
        {
            if (!File.Exists(path))
            {
                return "(no log file)";
            }

            var all = File.ReadAllLines(path);
            var start = Math.Max(0, all.Length - lines);
            return string.Join('\n', all, start, all.Length - start);
        }
        catch (IOException e)
        {
            return $"(could not read the log: {e.Message})";
        }
        catch (UnauthorizedAccessException e)
        {
            return $"(could not read the log: {e.Message})";
        }
    }
}
