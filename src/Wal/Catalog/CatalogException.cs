namespace DataSync.Wal.Catalog;

/// <summary>The catalog rows read from production do not describe a table the decoder can use.</summary>
public sealed class CatalogException(string message) : Exception(message);
