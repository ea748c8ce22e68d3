namespace DataSync.Messages;
internal static class AssemblyMarker { }
