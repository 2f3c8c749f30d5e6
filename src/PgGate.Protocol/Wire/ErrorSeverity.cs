namespace PgGate.Protocol;

/// <summary>The non-localised severities PostgreSQL puts in the S and V fields of ErrorResponse/NoticeResponse.</summary>
public static class ErrorSeverity
{
    public const string Error = "ERROR";
    public const string Fatal = "FATAL";
    public const string Panic = "PANIC";
    public const string Warning = "WARNING";
    public const string Notice = "NOTICE";
    public const string Debug = "DEBUG";
    public const string Info = "INFO";
    public const string Log = "LOG";
}
