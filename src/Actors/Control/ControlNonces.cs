using DataSync.Actors.Daemon;

namespace DataSync.Actors.Control;

/// <summary>
/// The nonces the control endpoint gave out in handshakes, and whether a request's proof answers one of them.
/// A nonce authorises requests for <see cref="Lifetime"/> (a CLI command's whole run, with room). Any local user
/// can ask for handshakes, so at most <see cref="Capacity"/> are remembered: the oldest goes first.
/// </summary>
public sealed class ControlNonces(TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    public const int Capacity = 256;

    private readonly Dictionary<string, DateTimeOffset> _issued = new(StringComparer.Ordinal);

    /// <summary>How many nonces are remembered now.</summary>
    public int Count => _issued.Count;

    public string Issue()
    {
        var now = clock.GetUtcNow();
        foreach (var stale in _issued.Where(n => now - n.Value > Lifetime).Select(n => n.Key).ToList()) _issued.Remove(stale);
        if (_issued.Count >= Capacity) _issued.Remove(_issued.MinBy(n => n.Value).Key);
        var nonce = ControlToken.NewNonce();
        _issued[nonce] = now;
        return nonce;
    }

    /// <summary>True when <paramref name="presented"/> is a proof of <paramref name="token"/> for a nonce issued here within its lifetime.</summary>
    public bool Authorises(string token, string? presented)
    {
        var separator = presented?.IndexOf(':') ?? -1;
        if (separator <= 0) return false;
        var nonce = presented![..separator];
        return _issued.TryGetValue(nonce, out var issued)
               && clock.GetUtcNow() - issued <= Lifetime
               && ControlToken.Matches(ControlToken.ClientProof(token, nonce), presented);
    }
}
