using DataSync.Cli;
using DataSync.Demo;

var context = new CliContext(Console.Out, Console.Error, Environment.GetEnvironmentVariable);
var parsed = DemoRun.Build(context).Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"datasync-demo: {error.Message}");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync().ConfigureAwait(false);
