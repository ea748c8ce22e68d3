namespace DataSync.Core.Schema;

/// <summary>One step of the tool's local schema: applied once, in version order, inside one transaction.</summary>
public sealed record Migration(int Version, string Description, string Sql);
