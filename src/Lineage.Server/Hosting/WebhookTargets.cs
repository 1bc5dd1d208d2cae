using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Lineage.Core.Errors;

namespace Lineage.Server.Hosting;

/// <summary>
/// Where webhooks may point (SSRF, docs/events.md). Refused always: this server itself (any of its own addresses on a port it
/// listens on). Refused unless <see cref="ServerOptions.WebhookAllowPrivate"/>: loopback, private, shared, link-local,
/// unique-local, multicast and reserved addresses. Checked twice: when a webhook is created or changed (its host resolved),
/// and on every connection (<see cref="ConnectAsync"/>), so a name that later resolves elsewhere (DNS rebinding) is refused
/// before any byte is sent. Thread-safe.
/// </summary>
public sealed class WebhookTargets(ServerOptions options, Func<IReadOnlyCollection<int>> listeningPorts)
{
    /// <summary>Throws INVALID_PARAMETER_VALUE (field url) when the URL's host is or resolves to a refused address.</summary>
    public async Task CheckAsync(string url, CancellationToken ct = default)
    {
        var uri = new Uri(url);
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, ct);
        }
        catch (SocketException ex)
        {
            throw LineageException.Invalid("url", $"the webhook host '{uri.Host}' cannot be resolved: {ex.Message}");
        }
        foreach (var a in addresses)
            if (Refusal(a, uri.Port) is { } reason)
                throw LineageException.Invalid("url", $"webhook URL {uri.GetLeftPart(UriPartial.Authority)} refused: {reason}");
    }

    /// <summary>Why a connection to <paramref name="address"/>:<paramref name="port"/> is refused, or null when it is allowed.</summary>
    public string? Refusal(IPAddress address, int port)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IsSelf(address, port)) return $"{address}:{port} is this Lineage server";
        if (options.WebhookAllowPrivate || IsPublic(address)) return null;
        return $"{address} is a loopback, private or reserved address (start the server with --webhook-allow-private to allow it)";
    }

    /// <summary>The HTTP handler's connect step: resolves, drops refused addresses, and connects to the first allowed one.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var port = context.DnsEndPoint.Port;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var refusals = new List<string>();
        foreach (var address in addresses)
        {
            if (Refusal(address, port) is { } reason)
            {
                refusals.Add(reason);
                continue;
            }
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                if (address == addresses[^1]) throw;
            }
        }
        throw new HttpRequestException($"refused before connecting: {string.Join("; ", refusals.Distinct())}");
    }

    private bool IsSelf(IPAddress address, int port)
    {
        if (!listeningPorts().Contains(port)) return false;
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        return NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Any(u => u.Address.Equals(address));
    }

    /// <summary>Publicly routable unicast: not any of the special-purpose ranges (RFC 6890 and friends).</summary>
    public static bool IsPublic(IPAddress a)
    {
        if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 or >= 224
                     || (b[0] == 100 && b[1] is >= 64 and <= 127)
                     || (b[0] == 169 && b[1] == 254)
                     || (b[0] == 172 && b[1] is >= 16 and <= 31)
                     || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                     || (b[0] == 192 && b[1] == 168)
                     || (b[0] == 198 && b[1] is 18 or 19)
                     || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                     || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }
        if (IPAddress.IsLoopback(a) || a.Equals(IPAddress.IPv6Any) || a.IsIPv6LinkLocal || a.IsIPv6SiteLocal || a.IsIPv6Multicast) return false;
        var first = a.GetAddressBytes()[0];
        return (first & 0xfe) != 0xfc; // fc00::/7 unique-local
    }
}
