namespace DataSync.Wal.Changes;

/// <summary>Transaction id arithmetic (src/backend/access/transam/transam.c): 32-bit ids compared modulo 2^32.</summary>
internal static class TransactionIds
{
    /// <summary>Ids below 3 are special (invalid, bootstrap, frozen) and precede every normal one.</summary>
    public const uint FirstNormal = 3;

    public static bool Precedes(uint a, uint b)
    {
        if (a < FirstNormal || b < FirstNormal) return a < b;
        return (int)(a - b) < 0;
    }
}
