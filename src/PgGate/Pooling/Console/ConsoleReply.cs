namespace PgGate.Pooling.Console;

/// <summary>What one console command answers: a result set and/or a command tag, or an error; optionally a notice.</summary>
internal sealed record ConsoleReply
{
    public ConsoleTable? Table { get; init; }

    /// <summary>CommandComplete's tag ("SHOW", "PAUSE", "SET key=value"...).</summary>
    public string? Tag { get; init; }

    public string? ErrorSqlState { get; init; }

    public string? ErrorMessage { get; init; }

    public string? ErrorHint { get; init; }

    public string? NoticeMessage { get; init; }

    public string? NoticeDetail { get; init; }

    public bool IsError => ErrorSqlState is not null;

    public static ConsoleReply Done(string tag) => new() { Tag = tag };

    public static ConsoleReply Show(ConsoleTable table) => new() { Table = table, Tag = "SHOW" };

    public static ConsoleReply Error(string sqlState, string message, string? hint = null) =>
        new() { ErrorSqlState = sqlState, ErrorMessage = message, ErrorHint = hint };
}
