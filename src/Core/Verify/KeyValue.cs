namespace DataSync.Core.Verify;

/// <summary>One row's key as the servers print it: each key column's text, in key order. Equal when every part is.</summary>
public sealed class KeyValue(IReadOnlyList<string> parts) : IEquatable<KeyValue>
{
    public IReadOnlyList<string> Parts { get; } = parts;

    public bool Equals(KeyValue? other) => other is not null && Parts.SequenceEqual(other.Parts, StringComparer.Ordinal);

    public override bool Equals(object? obj) => obj is KeyValue other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var part in Parts) hash.Add(part, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    public override string ToString() => string.Join(", ", Parts);
}
