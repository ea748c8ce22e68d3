using DataSync.Core.Archive.Sftp;

namespace DataSync.Core.Tests.Archive.Sftp;

/// <summary>known_hosts as OpenSSH writes it; the hashed lines below were written by <c>ssh-keygen -H</c>.</summary>
public sealed class KnownHostsTests
{
    private const string Key1 = "AAAAC3NzaC1lZDI1NTE5AAAAIJhGj+WCoZYKo6jmPsOVs2SjkxHGpXWEMYxXsZzQdBHb";
    private const string Key2 = "AAAAC3NzaC1lZDI1NTE5AAAAIH+NQY185tqnmwRKFNl7H+9yTV7uoiNXUQiUhpo6D1Ot";
    private const string RsaKey = "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDP1pmP4F+zPr9RW+7Gph8BDTGIG6AM7A0bXj6inrrkjbbg4uL6UcNjnyAb9c7FCdEy9Zm+EkNf3gJyFaQZrkvF3RalSz0cJbgmEb1y2eE3sZwyareVc8QG+Z8OcEJB6+X0hijHsUkdQxhIeqsWp+niXGSdQAn2IxSlQws8e0rjdQ==";

    // "[backup.example]:2222 Key1" and "backup.example Key2", hashed by ssh-keygen -H.
    private const string Hashed = $"""
        |1|0wlSpj5ns4aoMxy+5lFEnG2oMEE=|LwA6RQDDbcmoVSxnUzZ5TuT9yqE= ssh-ed25519 {Key1}
        |1|zfMsR3ci02+1wDuVSqXD4OIJPc8=|1y/hhPNkMkgVzwQ+RUMdaUlx62I= ssh-ed25519 {Key2}
        """;

    private const string Fingerprint1 = "SHA256:JqVmromFM0+ameRF/zZW0MyI/kkbcZqX9bGfT30iHd0";

    private static byte[] Blob(string base64) => Convert.FromBase64String(base64);

    [Fact]
    public void Hashed_entries_match_host_and_bracketed_host_port()
    {
        var known = KnownHosts.Parse(Hashed);
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("backup.example", 2222, Blob(Key1)).Verdict);
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("BACKUP.example", 22, Blob(Key2)).Verdict);
        // Same host, other port: the port-22 entry does not speak for port 2222 and vice versa.
        Assert.Equal(new HostKeyCheck(HostKeyVerdict.Changed, 1), known.Check("backup.example", 2222, Blob(Key2)));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("backup.example", 2223, Blob(Key1)).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("other.example", 22, Blob(Key2)).Verdict);
    }

    [Fact]
    public void Plain_patterns_with_lists_wildcards_and_negation()
    {
        var known = KnownHosts.Parse($"""
            # a comment, then a blank line

            backup.example,10.0.0.5 ssh-ed25519 {Key1} backup@host
            [10.0.0.6]:2200 ssh-ed25519 {Key1}
            *.backups.example,!evil.backups.example ssh-ed25519 {Key2}
            garbage line
            broken.example ssh-ed25519 not-base64!
            """);
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("10.0.0.5", 22, Blob(Key1)).Verdict);
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("10.0.0.6", 2200, Blob(Key1)).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("10.0.0.6", 22, Blob(Key1)).Verdict);
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("a.backups.example", 22, Blob(Key2)).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("evil.backups.example", 22, Blob(Key2)).Verdict);
        Assert.Equal(new HostKeyCheck(HostKeyVerdict.Changed, 3), known.Check("backup.example", 22, Blob(Key2)));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("broken.example", 22, Blob(Key2)).Verdict);
    }

    [Fact]
    public void Revoked_keys_are_refused_even_when_listed_and_cert_authorities_are_not_host_keys()
    {
        var known = KnownHosts.Parse($"""
            @revoked * ssh-ed25519 {Key2}
            backup.example ssh-ed25519 {Key2}
            @cert-authority backup.example ssh-ed25519 {Key1}
            """);
        Assert.Equal(new HostKeyCheck(HostKeyVerdict.Revoked, 1), known.Check("backup.example", 22, Blob(Key2)));
        Assert.Equal(HostKeyVerdict.Changed, known.Check("backup.example", 22, Blob(Key1)).Verdict);
    }

    [Fact]
    public void Key_types_on_record_are_those_of_matching_lines()
    {
        var known = KnownHosts.Parse(Hashed + $"\n[backup.example]:2222 ssh-rsa {RsaKey}\nother ssh-ed25519 {Key1}\n");
        Assert.Equal(["ssh-ed25519", "ssh-rsa"], known.KeyTypesFor("backup.example", 2222).Order());
        Assert.Empty(known.KeyTypesFor("nowhere", 22));
    }

    [Fact]
    public void Fingerprint_is_the_one_ssh_keygen_prints() =>
        // ssh-keygen -l -f k1.pub: 256 SHA256:... (no comment)
        Assert.Equal(Fingerprint1, KnownHosts.Fingerprint(Blob(Key1)));

    [Fact]
    public void A_missing_file_knows_no_host() =>
        Assert.Equal(HostKeyVerdict.Unknown, KnownHosts.Load("/nonexistent/known_hosts").Check("backup.example", 22, Blob(Key1)).Verdict);
}
