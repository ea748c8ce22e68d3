using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using DataSync.Actors.Daemon;
using DataSync.Actors.Hosting;
using DataSync.Core.Embedded;
using DataSync.Messages.Control;

namespace DataSync.Core.Tests.Cli;

/// <summary>
/// The CLI knows it talks to our daemon: a token file left by a killed daemon costs no wait, and whatever else
/// holds CONTROL_PORT (a plain socket, an Akka system without the token) gets neither the token nor a request.
/// No database is needed: without a daemon, status reports the local database unreachable (exit 1) and prints its lines.
/// </summary>
public sealed class ControlHandshakeTests : IDisposable
{
    private const string Token = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";

    private readonly string _folder = Directory.CreateTempSubdirectory("datasync-handshake-").FullName;
    private readonly int _port = PostgresServer.FindFreePort();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string State => Path.Combine(_folder, "state");

    private string WriteConfigAndStaleToken()
    {
        var path = Path.Combine(_folder, "datasync.toml");
        File.WriteAllText(path, $"""
            PG_PORT = {PostgresServer.FindFreePort()}
            PG_PASSWORD = "x"
            PG_DB_NAME = "nowhere"
            ARCHIVE_DIR = "{_folder}/archive"
            BASE_BACKUP_DIR = "{_folder}/backups"
            STATE_DIR = "{State}"
            CONTROL_PORT = {_port}
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.CreateDirectory(State);
        File.WriteAllText(ControlToken.PathIn(State), Token);
        return path;
    }

    [Fact]
    public async Task A_token_file_left_by_a_killed_daemon_costs_no_wait()
    {
        var config = WriteConfigAndStaleToken();

        var clock = Stopwatch.StartNew();
        var status = await CliRunner.RunAsync(config, "status");
        clock.Stop();

        Assert.Equal(1, status.ExitCode);
        Assert.StartsWith("status: not-started\n", status.Out);
        Assert.Contains("last successful sync: unknown (the local database is unreachable)\n", status.Out);
        // Before, the CLI asked the dead port and waited for its 5 s probe timeout.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"status took {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task A_plain_listener_on_the_control_port_is_told_apart_and_gets_no_token()
    {
        var config = WriteConfigAndStaleToken();
        using var listener = new TcpListener(IPAddress.Loopback, _port);
        listener.Start();
        var received = new ConcurrentQueue<byte[]>();
        using var stop = new CancellationTokenSource();
        var accepting = AcceptAndRecordAsync(listener, received, stop.Token);

        var status = await CliRunner.RunAsync(config, "status");
        var add = await CliRunner.RunAsync(config, "add-tables", "items");
        await stop.CancelAsync();
        await accepting;

        foreach (var result in new[] { status, add })
        {
            Assert.Equal(1, result.ExitCode);
            Assert.Contains($"the process listening on 127.0.0.1:{_port} (CONTROL_PORT) is not this datasync daemon", result.Error);
        }

        Assert.DoesNotContain(Token, Encoding.Latin1.GetString(received.SelectMany(b => b).ToArray()), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_akka_system_without_the_token_on_the_control_port_gets_no_request_and_no_token()
    {
        var config = WriteConfigAndStaleToken();
        // It speaks our protocol (our serializer, our system name, an actor at /user/control) and answers everything.
        var impostor = ActorSystem.Create(DaemonHost.ActorSystemName, ConfigurationFactory.ParseString($"""
                akka.remote.dot-netty.tcp.port = {_port}
                akka.loglevel = OFF
                akka.stdout-loglevel = OFF
                """).WithFallback(DataSyncHocon.Load()));
        var received = new ConcurrentQueue<object>();
        impostor.ActorOf(Props.Create(() => new Impostor(received)), "control");
        try
        {
            var status = await CliRunner.RunAsync(config, "status");
            var stop = await CliRunner.RunAsync(config, "stop");

            foreach (var result in new[] { status, stop })
            {
                Assert.Equal(1, result.ExitCode);
                Assert.Contains("is not this datasync daemon: it answered without proving it holds the control token", result.Error);
            }

            Assert.NotEmpty(received);
            Assert.All(received, message => Assert.IsType<ControlHello>(message));
            Assert.All(received, message => Assert.DoesNotContain(Token, message.ToString()!, StringComparison.OrdinalIgnoreCase));
        }
        finally
        {
            await impostor.Terminate();
        }
    }

    private static async Task AcceptAndRecordAsync(TcpListener listener, ConcurrentQueue<byte[]> received, CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                connections.Add(Task.Run(async () =>
                {
                    using (client)
                    {
                        var buffer = new byte[4096];
                        try
                        {
                            int read;
                            while ((read = await client.GetStream().ReadAsync(buffer, cancellationToken)) > 0) received.Enqueue(buffer[..read]);
                        }
                        catch (Exception e) when (e is OperationCanceledException or IOException)
                        {
                        }
                    }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(connections);
    }

    /// <summary>Records what it gets and answers like a daemon would, had it the token: a bogus proof, an active status.</summary>
    private sealed class Impostor : ReceiveActor
    {
        public Impostor(ConcurrentQueue<object> received)
        {
            ReceiveAny(message =>
            {
                received.Enqueue(message);
                Sender.Tell(message switch
                {
                    ControlHello => new ControlHelloReply("nonce", "00"),
                    StatusRequest => new StatusReply(1, DateTimeOffset.UtcNow, 1, 0, 0, null, []),
                    _ => ControlReply.Ok("done"),
                });
            });
        }
    }
}
