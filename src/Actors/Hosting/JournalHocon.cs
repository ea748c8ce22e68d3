using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using LinqToDB;

namespace DataSync.Actors.Hosting;

/// <summary>
/// Akka.Persistence settings for the checkpoint journal: the SQL journal in the local database, in
/// tables of its own (datasync_journal*), created when missing. The snapshot store is the same database's
/// (datasync_snapshot), never Akka's default local one: that writes a <c>snapshots</c> folder into whatever
/// directory the daemon was started from, and fails every persistent actor where it cannot.
/// </summary>
/// <remarks>
/// The connection string holds the local password, so it is not part of the HOCON: the actor system's
/// configuration is printed by Akka in some of its own errors, and a journal whose recovery timed out under
/// load once put the password into the daemon's log that way. The journal and the snapshot store get their
/// connection from <see cref="Connection"/>, an actor-system setup that is never rendered as text.
/// </remarks>
public static class JournalHocon
{
    /// <summary>The plugin name linq2db needs to pick its PostgreSQL dialect; it is not a connection detail.</summary>
    private const string ProviderName = LinqToDB.ProviderName.PostgreSQL15;

    public static Config Settings { get; } = ConfigurationFactory.ParseString($$"""
            akka.persistence.journal {
              plugin = "akka.persistence.journal.sql"
              sql {
                connection-string = ""
                provider-name = "{{ProviderName}}"
                auto-initialize = true
                default {
                  journal.table-name = "datasync_journal"
                  metadata.table-name = "datasync_journal_metadata"
                  tag.table-name = "datasync_journal_tags"
                }
              }
            }
            akka.persistence.snapshot-store {
              plugin = "akka.persistence.snapshot-store.sql"
              sql {
                connection-string = ""
                provider-name = "{{ProviderName}}"
                auto-initialize = true
                default.snapshot.table-name = "datasync_snapshot"
              }
            }
            """).WithFallback(SqlPersistence.DefaultConfiguration);

    /// <summary>The journal's and snapshot store's connection to the local database, kept out of the configuration text.</summary>
    public static Setup Connection(string connectionString) =>
        new DataOptionsSetup(new DataOptions().UseConnectionString(ProviderName, connectionString));
}
