using System.Text.RegularExpressions;
using System.Xml.Linq;
using DataSync.Core.Tests.Docs;

namespace DataSync.Core.Tests.Architecture;

/// <summary>
/// The layers as the design draws them, read from the project files: a reference added, dropped or turned around
/// fails here rather than drifting in unnoticed. The WAL library is the format alone (no database client, no SQL);
/// the messages know only the WAL types; the daemon and the command line never carry the embedded PostgreSQL the
/// demo and the tests use.
/// </summary>
public sealed partial class ProjectReferencesTests
{
    /// <summary>Each project under src (DataSync.X.csproj as X) and exactly the projects of ours it references.</summary>
    private static readonly Dictionary<string, string[]> Expected = new()
    {
        ["Wal"] = [],
        ["Messages"] = ["Wal"],
        ["Core"] = ["Wal"],
        ["Actors"] = ["Core", "Messages"],
        ["Cli"] = ["Actors"],
        ["Embedded"] = ["Core"],
        ["Demo"] = ["Cli", "Embedded"],
    };

    [Fact]
    public void Every_project_under_src_references_exactly_the_layers_drawn_for_it()
    {
        var actual = SourceProjects();
        Assert.Equal(Expected.Keys.Order(), actual.Keys.Order());
        foreach (var (project, references) in actual)
            Assert.True(Expected[project].Order().SequenceEqual(references.Order()),
                $"{project} references [{string.Join(", ", references.Order())}]; the layers allow exactly [{string.Join(", ", Expected[project].Order())}]");
    }

    [Fact]
    public void Only_the_demo_reaches_the_embedded_postgres_project_even_through_others()
    {
        var projects = SourceProjects();
        var reaching = projects.Keys.Where(p => p != "Embedded" && Reachable(projects, p).Contains("Embedded")).Order();
        Assert.Equal(["Demo"], reaching);
    }

    [Fact]
    public void The_wal_library_has_no_database_client_package()
    {
        var packages = XDocument.Load(Path.Combine(Src, "Wal", "DataSync.Wal.csproj"))
            .Descendants("PackageReference").Select(p => (string?)p.Attribute("Include") ?? "");
        Assert.DoesNotContain(packages, p => p.StartsWith("Npgsql", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void The_wal_library_names_no_npgsql_type_and_holds_no_sql_text()
    {
        var offenders = new List<string>();
        foreach (var file in SourceFiles(Path.Combine(Src, "Wal")))
        {
            var code = WithoutComments(File.ReadAllText(file));
            if (code.Contains("Npgsql", StringComparison.Ordinal)) offenders.Add($"{Relative(file)}: names Npgsql");
            offenders.AddRange(SqlLiterals(code).Select(literal => $"{Relative(file)}: SQL in a string: {literal[..Math.Min(60, literal.Length)]}"));
        }

        Assert.Empty(offenders);
    }

    /// <summary>The detector finds the SQL it is meant to find (the catalog queries, now in Core), so the test above can fail.</summary>
    [Fact]
    public void The_sql_detector_finds_the_catalog_queries_in_core()
    {
        var code = WithoutComments(File.ReadAllText(Path.Combine(Src, "Core", "Catalog", "CatalogQueries.cs")));
        Assert.Equal(4, SqlLiterals(code).Count);
        // WAL record names and error text that mention SQL commands are not SQL.
        Assert.Empty(SqlLiterals("""Name(RmgrId.Heap, 0x20, "UPDATE"); var m = "the row must be applied as an UPDATE that leaves this column out";"""));
    }

    private static string Src => Path.Combine(DocumentedSurface.RepositoryRoot(), "src");

    private static string Relative(string path) => Path.GetRelativePath(DocumentedSurface.RepositoryRoot(), path);

    private static Dictionary<string, string[]> SourceProjects() =>
        Directory.EnumerateFiles(Src, "*.csproj", SearchOption.AllDirectories)
            .ToDictionary(
                ShortName,
                file => XDocument.Load(file).Descendants("ProjectReference")
                    .Select(r => ShortName(((string?)r.Attribute("Include") ?? "").Replace('\\', '/')))
                    .ToArray());

    /// <summary>DataSync.Core.csproj → Core.</summary>
    private static string ShortName(string projectPath)
    {
        var name = Path.GetFileNameWithoutExtension(projectPath);
        return name.StartsWith("DataSync.", StringComparison.Ordinal) ? name["DataSync.".Length..] : name;
    }

    private static HashSet<string> Reachable(Dictionary<string, string[]> projects, string from)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>(projects[from]);
        while (pending.TryPop(out var next))
        {
            if (seen.Add(next) && projects.TryGetValue(next, out var further))
                foreach (var reference in further) pending.Push(reference);
        }

        return seen;
    }

    private static IEnumerable<string> SourceFiles(string folder) =>
        Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Relative(f).Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"));

    /// <summary>Drops whole-line comments (// and ///), where the WAL library explains what it leaves to Core.</summary>
    private static string WithoutComments(string source) =>
        string.Join('\n', source.Split('\n').Where(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal)));

    /// <summary>String literals (plain, verbatim, interpolated, raw) that read as SQL statements.</summary>
    private static List<string> SqlLiterals(string code) =>
        StringLiteral().Matches(code).Select(m => m.Value).Where(literal => SqlStatement().IsMatch(literal)).ToList();

    [GeneratedRegex("\"\"\"[\\s\\S]*?\"\"\"|@\"(?:[^\"]|\"\")*\"|\"(?:[^\"\\\\\\n]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    // Upper-case keywords in a statement's shape; a lone INSERT/UPDATE/DELETE is a WAL record's name.
    [GeneratedRegex(@"\bSELECT\s|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bUPDATE\s+[\w"".]+\s+SET\b|\bCREATE\s+(TABLE|TYPE|INDEX)\b|\bFROM\s+pg_\w+|\bCOPY\s+[\w"".]+\s+(FROM|TO)\b")]
    private static partial Regex SqlStatement();
}
