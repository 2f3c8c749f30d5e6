namespace PgGate.Protocol;

/// <summary>
/// A CancelRequest packet: which backend to interrupt and its secret key. The key stays bytes because protocol 3.2
/// allows 4 to 256 of them, and a pooler may issue its own keys of any length in that range.
/// </summary>
public readonly struct CancelRequest
{
    public CancelRequest(int processId, byte[] secretKey)
    {
        ProcessId = processId;
        SecretKey = secretKey;
    }

    public int ProcessId { get; }

    public byte[] SecretKey { get; }
}
