using System.Text;
using Akka.Configuration;
using Akka.Persistence.Sql;

namespace DataSync.Actors.Hosting;

/// <summary>
/// Akka.Persistence settings for the checkpoint journal: the SQL journal in the local database, in
/// tables of its own (datasync_journal*), created when missing. The snapshot store is the same database's
/// (datasync_snapshot), never Akka's default local one: that writes a <c>snapshots</c> folder into whatever
/// directory the daemon was started from, and fails every persistent actor where it cannot.
/// </summary>
public static class JournalHocon
{
    public static Config For(string connectionString) =>
        ConfigurationFactory.ParseString($$"""
            akka.persistence.journal {
              plugin = "akka.persistence.journal.sql"
              sql {
                connection-string = {{Quote(connectionString)}}
                provider-name = "PostgreSQL.15"
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
                connection-string = {{Quote(connectionString)}}
                provider-name = "PostgreSQL.15"
                auto-initialize = true
                default.snapshot.table-name = "datasync_snapshot"
              }
            }
            """).WithFallback(SqlPersistence.DefaultConfiguration);

    /// <summary>A HOCON quoted string: the connection string may hold any character, the password included.</summary>
    private static string Quote(string value)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in value)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => c.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }
}
