namespace DataSync.Wal;
internal static class AssemblyMarker { }
