namespace PgGate.Protocol;

/// <summary>The result of parsing a connection's first packet: what it is, how long it was, or what was wrong.</summary>
public readonly struct StartupParseResult
{
    private StartupParseResult(
        StartupParseStatus status,
        StartupPacketKind kind,
        int packetLength,
        StartupMessage? startup,
        CancelRequest cancel,
        string? errorMessage,
        string? errorSqlState)
    {
        Status = status;
        Kind = kind;
        PacketLength = packetLength;
        Startup = startup;
        Cancel = cancel;
        ErrorMessage = errorMessage;
        ErrorSqlState = errorSqlState;
    }

    public StartupParseStatus Status { get; }

    public StartupPacketKind Kind { get; }

    /// <summary>The packet's length field (the bytes to consume when <see cref="IsOk"/>); 0 when it was not yet known.</summary>
    public int PacketLength { get; }

    /// <summary>Set when <see cref="Kind"/> is <see cref="StartupPacketKind.Startup"/> and the packet is valid.</summary>
    public StartupMessage? Startup { get; }

    /// <summary>Set when <see cref="Kind"/> is <see cref="StartupPacketKind.CancelRequest"/>.</summary>
    public CancelRequest Cancel { get; }

    /// <summary>A message fit to send to the client in an ErrorResponse (and to log).</summary>
    public string? ErrorMessage { get; }

    /// <summary>The SQLSTATE PostgreSQL uses for the same mistake.</summary>
    public string? ErrorSqlState { get; }

    public bool IsOk => Status == StartupParseStatus.Ok;

    public bool IsError => Status > StartupParseStatus.NeedMoreData;

    internal static StartupParseResult NeedMore(int packetLength) =>
        new(StartupParseStatus.NeedMoreData, StartupPacketKind.None, packetLength, null, default, null, null);

    internal static StartupParseResult Simple(StartupPacketKind kind, int packetLength) =>
        new(StartupParseStatus.Ok, kind, packetLength, null, default, null, null);

    internal static StartupParseResult ForStartup(StartupMessage startup, int packetLength) =>
        new(StartupParseStatus.Ok, StartupPacketKind.Startup, packetLength, startup, default, null, null);

    internal static StartupParseResult ForCancel(CancelRequest cancel, int packetLength) =>
        new(StartupParseStatus.Ok, StartupPacketKind.CancelRequest, packetLength, null, cancel, null, null);

    internal static StartupParseResult Error(
        StartupParseStatus status, StartupPacketKind kind, int packetLength, string sqlState, string message) =>
        new(status, kind, packetLength, null, default, message, sqlState);
}
