using System.Globalization;
using System.Text;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// One figure of the suite next to its baseline measured in the same run. <see cref="Ratio"/> is
/// oriented so that more than 1 means DataSync is better (faster, or less time).
/// </summary>
internal sealed record ResultRow(
    string Section,
    string Measure,
    string Ours,
    string Baseline,
    double? Ratio,
    string Target = "",
    bool? Met = null,
    string Note = "");

/// <summary>The suite's rows, with free-text notes, printed as they come and rendered as Markdown at the end.</summary>
internal sealed class ResultTable
{
    private readonly List<ResultRow> _rows = [];
    private readonly List<string> _notes = [];

    public IReadOnlyList<ResultRow> Rows => _rows;

    public void Add(ResultRow row)
    {
        _rows.Add(row);
        Console.WriteLine($"[result] {row.Section} | {row.Measure} | {row.Ours} | {row.Baseline} | {FormatRatio(row.Ratio)} | {row.Target} {MetText(row.Met)} {row.Note}");
    }

    public void Note(string text)
    {
        _notes.Add(text);
        Console.WriteLine($"[note] {text}");
    }

    public static string FormatRatio(double? ratio) => ratio is { } r ? string.Create(CultureInfo.InvariantCulture, $"{r:F2}x") : "–";

    private static string MetText(bool? met) => met switch { true => "met", false => "MISSED", null => "" };

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("| Section | Measure | DataSync | Baseline (same run) | Ratio | Target | Met |");
        text.AppendLine("| :-- | :-- | --: | :-- | --: | :-- | :-- |");
        foreach (var row in _rows)
        {
            var measure = row.Note.Length > 0 ? $"{row.Measure} ({row.Note})" : row.Measure;
            text.AppendLine($"| {row.Section} | {Escape(measure)} | {Escape(row.Ours)} | {Escape(row.Baseline)} | {FormatRatio(row.Ratio)} | {Escape(row.Target)} | {MetText(row.Met)} |");
        }

        if (_notes.Count > 0)
        {
            text.AppendLine();
            foreach (var note in _notes) text.AppendLine($"- {note}");
        }

        return text.ToString();
    }

    private static string Escape(string value) => value.Replace("|", "\\|", StringComparison.Ordinal);
}
