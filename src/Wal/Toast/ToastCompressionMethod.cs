namespace DataSync.Wal.Toast;

/// <summary>The 2-bit compression method id stored in va_tcinfo / va_extinfo (toast_compression.h).</summary>
public enum ToastCompressionMethod : byte
{
    Pglz = 0,
    Lz4 = 1,
}
