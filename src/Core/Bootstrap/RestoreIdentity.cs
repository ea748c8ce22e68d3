namespace DataSync.Core.Bootstrap;

/// <summary>
/// Who to connect to a temporary restore as, and to which database, learned from the restored files
/// themselves: production's superuser need not be called <c>postgres</c> (initdb -U), and its
/// <c>postgres</c> database may have been dropped. No setting and no connection is needed for it.
/// </summary>
/// <param name="Superusers">Role names to try, best first: the bootstrap superuser (OID 10) as the files show it, then other superusers.</param>
/// <param name="Databases">The databases the backup holds (template0 left out: it refuses connections), current-looking row versions first.</param>
/// <param name="MaintenanceDatabase">A database to connect to for replay checks: postgres or template1 when a current-looking row shows it, else any.</param>
public sealed record RestoreIdentity(IReadOnlyList<string> Superusers, IReadOnlyList<string> Databases, string MaintenanceDatabase)
{

    public static RestoreIdentity Read(string dataDirectory)
    {
        var roles = SharedCatalogRows.Read(dataDirectory, SharedCatalogRows.AuthIdCatalog);
        // A rename leaves the old version beside the new one until vacuum; the current-looking version comes first,
        // and the server decides among the rest once it accepts connections.
        var superusers = roles
            .Where(r => r.Oid == SharedCatalogRows.BootstrapSuperuserOid || r.FlagAfterName == 1)
            .OrderBy(r => r.Oid == SharedCatalogRows.BootstrapSuperuserOid ? 0 : 1)
            .ThenBy(r => r.LooksCurrent ? 0 : 1)
            .Select(r => r.Name)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (superusers.Count == 0)
            throw new InvalidDataException($"{Path.Combine(dataDirectory, "global")}: pg_authid shows no superuser (no role with OID 10); is the base backup complete?");
        var rows = SharedCatalogRows.Read(dataDirectory, SharedCatalogRows.DatabaseCatalog).Where(r => r.Name != "template0").ToList();
        var databases = rows.OrderBy(r => r.LooksCurrent ? 0 : 1).Select(r => r.Name).Distinct(StringComparer.Ordinal).ToList();
        // A dropped database can leave its deleted row behind: prefer names whose row was not deleted.
        var current = rows.Where(r => r.LooksCurrent).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var maintenance = new[] { "postgres", "template1" }.FirstOrDefault(current.Contains)
            ?? new[] { "postgres", "template1" }.FirstOrDefault(databases.Contains)
            ?? databases.FirstOrDefault() ?? "postgres";
        return new RestoreIdentity(superusers, databases, maintenance);
    }
}
