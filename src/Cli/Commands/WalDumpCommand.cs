using System.CommandLine;
using DataSync.Wal.Dump;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync waldump FILE...</c>: one line per WAL record, named as pg_walinspect names them.</summary>
public static class WalDumpCommand
{
    public static Command Build(CliContext context)
    {
        var files = new Argument<string[]>("files") { Arity = ArgumentArity.OneOrMore, Description = "WAL segment files of one timeline, in any order (plain, .gz, .zst, .lz4, .partial)." };
        var relfilenode = new Option<uint?>("--relfilenode") { Description = "Only records with a block reference to this relfilenode." };
        var xid = new Option<uint?>("--xid") { Description = "Only records of this transaction id." };
        var command = new Command("waldump", DataSyncCli.Describe(
            "Print one line per WAL record: start LSN, resource manager, record type, xid, then length and block references."));
        command.Arguments.Add(files);
        command.Options.Add(relfilenode);
        command.Options.Add(xid);
        // No configuration needed: waldump reads only the files it is given.
        command.SetAction(parse => WalDump.Run(
            parse.GetValue(files)!,
            new WalDumpFilter { RelFileNode = parse.GetValue(relfilenode), Xid = parse.GetValue(xid) },
            context.Out,
            context.Error));
        return command;
    }
}
