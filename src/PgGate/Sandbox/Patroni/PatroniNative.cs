namespace PgGate.Sandbox.Patroni;

/// <summary>Signal numbers the Patroni sandbox sends besides <see cref="NativeMethods"/>' (Linux values).</summary>
internal static class PatroniNative
{
    public const int SigHup = 1;
    public const int SigTerm = 15;
}
