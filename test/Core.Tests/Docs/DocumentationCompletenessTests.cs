namespace DataSync.Core.Tests.Docs;

/// <summary>
/// The two documents cover what the code offers: every configuration key and command (with its options)
/// in docs/syncdata-readme.md, every command and exit code in docs/syncdata-agent.md. The lists come
/// from the code, so a new key, command or option fails here until it is documented.
/// </summary>
public sealed class DocumentationCompletenessTests
{
    private static string Read(string document) => File.ReadAllText(Path.Combine(DocumentedSurface.RepositoryRoot(), "docs", document));

    [Fact]
    public void Readme_documents_every_configuration_key_with_its_default()
    {
        var missing = DocumentedSurface.MissingFrom(Read("syncdata-readme.md"), DocumentedSurface.ConfigurationKeys());
        Assert.True(missing.Count == 0, "docs/syncdata-readme.md lacks:\n" + string.Join('\n', missing));
    }

    [Fact]
    public void Readme_documents_every_command_option_and_exit_code()
    {
        var missing = DocumentedSurface.MissingFrom(Read("syncdata-readme.md"), DocumentedSurface.Commands().Concat(DocumentedSurface.ExitCodeRows()));
        Assert.True(missing.Count == 0, "docs/syncdata-readme.md lacks:\n" + string.Join('\n', missing));
    }

    [Fact]
    public void Agent_document_lists_every_command_option_and_exit_code()
    {
        var missing = DocumentedSurface.MissingFrom(Read("syncdata-agent.md"), DocumentedSurface.Commands().Concat(DocumentedSurface.ExitCodeRows()));
        Assert.True(missing.Count == 0, "docs/syncdata-agent.md lacks:\n" + string.Join('\n', missing));
    }

    [Fact]
    public void The_surface_read_from_the_code_is_not_empty()
    {
        // Guards the check itself: an empty list would pass against any document.
        Assert.Contains(DocumentedSurface.ConfigurationKeys(), i => i.What.Contains("ON_CONFLICT", StringComparison.Ordinal));
        var commands = DocumentedSurface.Commands().Select(i => i.What).ToList();
        foreach (var expected in new[] { "command 'datasync start'", "option --foreground of 'datasync start'", "option --verbose of 'datasync status'", "command 'datasync waldump'" })
            Assert.Contains(expected, commands);
        Assert.Equal(3, DocumentedSurface.ExitCodeRows().Count());
    }

    [Theory]
    [InlineData("syncdata-readme.md", "| `ON_CONFLICT` |", "configuration key ON_CONFLICT")]
    [InlineData("syncdata-readme.md", "--foreground", "option --foreground of 'datasync start'")]
    [InlineData("syncdata-readme.md", "datasync remove-tables", "command 'datasync remove-tables'")]
    [InlineData("syncdata-agent.md", "| 2 |", "exit code 2")]
    [InlineData("syncdata-agent.md", "datasync clear", "command 'datasync clear'")]
    public void Removing_a_mention_is_caught(string document, string mention, string reported)
    {
        // The real document with every line that mentions the item dropped: the check must name it.
        var text = string.Join('\n', Read(document).Split('\n').Where(line => !line.Contains(mention, StringComparison.Ordinal)));
        var items = DocumentedSurface.ConfigurationKeys().Concat(DocumentedSurface.Commands()).Concat(DocumentedSurface.ExitCodeRows());
        Assert.Contains(DocumentedSurface.MissingFrom(text, items), what => what.StartsWith(reported, StringComparison.Ordinal));
    }
}
