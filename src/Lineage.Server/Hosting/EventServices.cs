using Lineage.Storage.Alerts;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Server.Hosting;

/// <summary>Wiring of the event log, webhooks and their delivery service, and alert rules and their evaluator (issue 14), so start-up adds them with one line.</summary>
public static class EventServices
{
    public static IServiceCollection AddEvents(this IServiceCollection services, ServerOptions options, Database db)
    {
        services.AddSingleton(new EventStore(db));
        services.AddSingleton<EventFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<EventFeed>());
        services.AddSingleton(new WebhookStore(db));
        services.AddSingleton(sp => new WebhookTargets(options, () => ListeningPorts(sp)));
        services.AddSingleton<WebhookSender>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookSender>());
        services.AddSingleton(new AlertStore(db));
        services.AddSingleton(new AlertEvaluator(db));
        services.AddHostedService<AlertService>();
        return services;
    }

    /// <summary>The ports this server listens on (port 0 is resolved by then), read when a URL is checked.</summary>
    private static IReadOnlyCollection<int> ListeningPorts(IServiceProvider sp) =>
        sp.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            .Select(a => new Uri(a.Replace("://+", "://localhost").Replace("://*", "://localhost")).Port).ToHashSet() ?? [];
}
