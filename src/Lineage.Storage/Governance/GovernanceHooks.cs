using System.Runtime.CompilerServices;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Governance;

/// <summary>
/// Governance plugs into the engine's seams; the engine never names governance types (an architecture test holds it
/// to that). The audit entry travels as the request's <see cref="OperationContext.BeforeCommit"/> hook
/// (<see cref="PendingAudit"/>); value protection is the database's <see cref="Database.Fields"/>, whose default is set
/// here when the assembly loads, so a database opened anywhere (server, CLI, tests) redacts and refuses as the server does.
/// </summary>
internal static class GovernanceHooks
{
#pragma warning disable CA2255 // The module initializer is the plug-in point: it runs before any Database exists.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PlugIn() => Database.DefaultFields = FieldProtection.Off;
}
