using System.Globalization;
using DataSync.Benchmarks;

// dotnet run -c Release --project bench/DataSync.Benchmarks -- [rows] [repeats]
var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500_000;
var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
return await FullDecodeBenchmark.RunAsync(rows, repeats);
