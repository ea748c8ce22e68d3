namespace DataSync.Wal.Values;

/// <summary>
/// How to convert the values of one column type, resolved once: domains replaced by their base,
/// arrays with their element's plan. Built by <see cref="ValueConverter.PlanFor"/>.
/// </summary>
/// <param name="TypeOid">The type as declared (a domain keeps its own OID here).</param>
/// <param name="Name">Qualified name, for error messages.</param>
/// <param name="Length">typlen of the underlying type: bytes, or -1 for a varlena.</param>
/// <param name="Alignment">typalign of the underlying type.</param>
/// <param name="Form">For <see cref="TypePlanKind.Base"/>, the conversion.</param>
/// <param name="Element">For <see cref="TypePlanKind.Array"/>, the element type's plan; for a range, its
/// subtype's; for a multirange, its range type's.</param>
/// <param name="Attributes">For <see cref="TypePlanKind.Composite"/>, the type's attributes (dropped ones included).</param>
/// <param name="Fields">For <see cref="TypePlanKind.Composite"/>, each attribute's plan, null for a dropped one.</param>
public sealed record TypePlan(
    uint TypeOid,
    string Name,
    TypePlanKind Kind,
    short Length,
    char Alignment,
    SendForm Form,
    TypePlan? Element,
    IReadOnlyList<Catalog.ColumnDescriptor>? Attributes = null,
    IReadOnlyList<TypePlan?>? Fields = null)
{
    public bool IsVarlena => Length == -1;

    /// <summary>
    /// True when values are written in the text form the type's input function reads, not as its binary send form: the
    /// type (an array's element type) has no binary send and receive functions, so binary COPY cannot carry it. Such a
    /// column is carried to the local server as text and cast to its type there.
    /// </summary>
    public bool IsText => Kind switch
    {
        TypePlanKind.Base => SupportedTypes.IsTextForm(Form),
        TypePlanKind.Array => Element!.IsText,
        _ => false,
    };
}
