using System.Net;
using Lineage.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;

namespace Lineage.Server.Http;

/// <summary>
/// Behind a reverse proxy the connection comes from the proxy; the client is in <c>X-Forwarded-For</c>. That
/// header is believed only from the proxies named with <c>--trusted-proxy</c> (the framework's ForwardedHeaders
/// middleware, with its default trust of loopback removed), so a client cannot forge its address in the audit
/// log or in its rate-limit bucket. Without trusted proxies the middleware is not installed at all.
/// </summary>
public static class TrustedProxies
{
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app, IReadOnlyList<string> proxies)
    {
        if (proxies.Count == 0) return app;
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in proxies)
        {
            if (proxy.Contains('/')) options.KnownIPNetworks.Add(ParseNetwork(proxy));
            else options.KnownProxies.Add(IPAddress.TryParse(proxy, out var ip) ? ip : throw Invalid(proxy));
        }
        return app.UseForwardedHeaders(options);
    }

    private static System.Net.IPNetwork ParseNetwork(string text) => System.Net.IPNetwork.TryParse(text, out var network) ? network : throw Invalid(text);

    private static LineageException Invalid(string text) =>
        LineageException.Invalid("trusted-proxy", $"'{text}' is not an IP address or a CIDR network such as 10.0.0.0/8");
}
