using System.Text.Json;
using System.Text.Json.Serialization;

namespace DataSync.Wal.Catalog;

/// <summary>Persists a <see cref="CatalogSnapshot"/> as JSON and reads it back.</summary>
/// <remarks>Byte arrays (missing values) travel as base64; chars as one-character strings.</remarks>
public static class CatalogJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public static string Serialize(CatalogSnapshot snapshot) => JsonSerializer.Serialize(snapshot, Options);

    public static CatalogSnapshot Deserialize(string json) =>
        JsonSerializer.Deserialize<CatalogSnapshot>(json, Options)
        ?? throw new JsonException("catalog snapshot JSON is null");
}
