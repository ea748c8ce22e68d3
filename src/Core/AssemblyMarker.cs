namespace DataSync.Core;
internal static class AssemblyMarker { }
