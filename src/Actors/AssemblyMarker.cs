namespace DataSync.Actors;
internal static class AssemblyMarker { }
