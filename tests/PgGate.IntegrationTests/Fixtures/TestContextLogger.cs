using Microsoft.Extensions.Logging;

namespace PgGate.IntegrationTests.Fixtures;

/// <summary>Sends log lines to the running test's output, or to xunit's diagnostic messages between tests.</summary>
public sealed class TestContextLogger : ILogger
{
    /// <summary>Set to <c>debug</c> to see every command the sandbox runs, with its duration.</summary>
    public const string LevelVariable = "PGGATE_TEST_LOG";

    private static readonly LogLevel MinimumLevel =
        string.Equals(Environment.GetEnvironmentVariable(LevelVariable), "debug", StringComparison.OrdinalIgnoreCase)
            ? LogLevel.Debug
            : LogLevel.Information;

    /// <summary>A file to append every line to as well, e.g. to read a benchmark's PgGate log after a passing run.</summary>
    public const string FileVariable = "PGGATE_TEST_LOG_FILE";

    private static readonly string? LogFile = Environment.GetEnvironmentVariable(FileVariable);

    private static readonly Lock FileLock = new();

    public static TestContextLogger Instance { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= MinimumLevel;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var line = $"[{DateTime.Now:HH:mm:ss.fff}] {formatter(state, exception)}";
        if (LogFile is not null)
        {
            lock (FileLock)
            {
                File.AppendAllText(LogFile, line + "\n");
            }
        }

        var output = TestContext.Current.TestOutputHelper;
        if (output is not null)
        {
            output.WriteLine(line);
        }
        else
        {
            TestContext.Current.SendDiagnosticMessage(line);
        }
    }
}
