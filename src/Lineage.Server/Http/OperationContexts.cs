using Lineage.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.Http;

/// <summary>
/// Builds the request's one <see cref="OperationContext"/> from what the middleware before it decided — the project
/// prefix (<see cref="ProjectPrefix"/>), the caller and its rights (<see cref="AccessControl"/>, <see cref="RequestUser"/>),
/// the Idempotency-Key (<see cref="Idempotency"/>) — and makes it current for the endpoint. Every store operation the
/// endpoint runs takes its actor, project scope, key, reveal rights and audit hook from it, and from nowhere else.
/// </summary>
public static class OperationContexts
{
    public static IApplicationBuilder UseOperationContext(this IApplicationBuilder app) =>
        app.Use(async (ctx, next) =>
        {
            var (scope, reveal, audit) = AccessControl.DecisionOf(ctx);
            using var entered = OperationContext.Enter(new OperationContext
            {
                Actor = RequestUser.Of(ctx),
                Project = ProjectPrefix.ProjectOf(ctx),
                Scope = scope,
                Idempotency = Idempotency.KeyOf(ctx),
                Reveal = reveal,
                BeforeCommit = audit,
                Cancellation = ctx.RequestAborted,
            });
            await next(ctx);
        });
}
