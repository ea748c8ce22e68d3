return await DataSync.Cli.DataSyncCli.RunAsync(args, Console.Out, Console.Error);
