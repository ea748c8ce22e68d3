namespace DataSync.Core.Verify;

/// <summary>How a local row differs from production's at the verified point.</summary>
public enum DifferenceKind
{
    /// <summary>Production has the key; the local table does not.</summary>
    MissingLocally,

    /// <summary>The local table has the key; production does not.</summary>
    ExtraLocally,

    /// <summary>Both have the key with different values.</summary>
    Different,
}

/// <summary>One differing row: how it differs, its key, and the key as a reader says it (<c>id=42</c>).</summary>
public sealed record RowDifference(DifferenceKind Kind, KeyValue Key, string Described)
{
    public static string Word(DifferenceKind kind) => kind switch
    {
        DifferenceKind.MissingLocally => "missing locally",
        DifferenceKind.ExtraLocally => "extra locally",
        _ => "different",
    };
}
