namespace PgGate.Protocol;

/// <summary>The status byte of ReadyForQuery; the values are the bytes on the wire.</summary>
public enum TransactionStatus : byte
{
    Idle = (byte)'I',
    InTransaction = (byte)'T',
    Failed = (byte)'E',
}
