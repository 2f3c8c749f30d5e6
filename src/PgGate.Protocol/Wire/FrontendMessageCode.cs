namespace PgGate.Protocol;

/// <summary>The type byte of each message a client sends after the startup packet.</summary>
public static class FrontendMessageCode
{
    public const byte Bind = (byte)'B';
    public const byte Close = (byte)'C';
    public const byte CopyData = (byte)'d';
    public const byte CopyDone = (byte)'c';
    public const byte CopyFail = (byte)'f';
    public const byte Describe = (byte)'D';
    public const byte Execute = (byte)'E';
    public const byte Flush = (byte)'H';
    public const byte FunctionCall = (byte)'F';
    public const byte Parse = (byte)'P';
    public const byte Query = (byte)'Q';
    public const byte Sync = (byte)'S';
    public const byte Terminate = (byte)'X';

    /// <summary>PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse all share 'p'.</summary>
    public const byte Password = (byte)'p';

    /// <summary>Describe and Close target: a prepared statement.</summary>
    public const byte TargetStatement = (byte)'S';

    /// <summary>Describe and Close target: a portal.</summary>
    public const byte TargetPortal = (byte)'P';
}
