using System.Collections.Frozen;
using Lineage.Storage.Governance;

namespace Lineage.Server.Http;

/// <summary>What a route needs. Reader…Admin are project roles (same values as <c>Role</c>); ServerAdmin is server-wide.</summary>
public enum Access { Public = 0, Reader = 1, Writer = 2, Approver = 3, Admin = 4, ServerAdmin = 5 }

/// <summary>Where the project whose role a route needs comes from.</summary>
public enum ProjectSource
{
    /// <summary>The <c>project</c> query parameter, else <c>default</c>: entities named within a project.</summary>
    Query,
    /// <summary>The <c>project</c> field of the JSON body, else the query parameter, else <c>default</c>: creations.</summary>
    Body,
    /// <summary>Lists, searches, lineage walks: the role on the named <c>project</c>, else on any project; results are filtered.</summary>
    Any,
    /// <summary>The project of the entity named by <see cref="AccessRule.Parameter"/>.</summary>
    Entity,
}

public sealed record AccessRule(Access Required, bool Writes, ProjectSource Source = ProjectSource.Query, EntityKind? Entity = null,
    string? Parameter = null);

/// <summary>
/// Every route of every API surface with the role it needs, in one table that reviewers can read.
/// Writes (audited) are every non-GET route except the ones marked "read" (searches sent as POST).
/// The last word says on which project the role is checked (issue 7): none — the <c>project</c> query
/// parameter or <c>default</c>; <c>body-project</c> — the body's <c>project</c> field; <c>any</c> — a list or
/// walk whose results are filtered to readable projects; <c>kind:param</c> — the project of the entity
/// whose id is the route value, query parameter or JSON body field <c>param</c>.
/// A route missing here is refused when authentication is on, and <c>AccessRulesTests</c> fails.
/// </summary>
public static class AccessRules
{
    // METHOD pattern => role [read] [scope]
    private const string Table = """
        DELETE /ajax-api/2.0/mlflow-artifacts/artifacts/{**path}                     writer proxy:path
        DELETE /ajax-api/2.0/mlflow/model-versions/delete                            writer
        DELETE /ajax-api/2.0/mlflow/model-versions/delete-tag                        writer
        DELETE /ajax-api/2.0/mlflow/registered-models/alias                          approver
        DELETE /ajax-api/2.0/mlflow/registered-models/delete                         writer
        DELETE /ajax-api/2.0/mlflow/registered-models/delete-tag                     writer
        DELETE /ajax-api/2.0/mlflow/webhooks/{webhook_id}                            admin webhook:webhook_id
        DELETE /api/2.0/mlflow-artifacts/artifacts/{**path}                          writer proxy:path
        DELETE /api/2.0/mlflow/model-versions/delete                                 writer
        DELETE /api/2.0/mlflow/model-versions/delete-tag                             writer
        DELETE /api/2.0/mlflow/registered-models/alias                               approver
        DELETE /api/2.0/mlflow/registered-models/delete                              writer
        DELETE /api/2.0/mlflow/registered-models/delete-tag                          writer
        DELETE /api/2.0/mlflow/webhooks/{webhook_id}                                 admin webhook:webhook_id
        DELETE /api/v1/artifacts/{name}/aliases/{alias}                              writer
        DELETE /api/v1/artifacts/{name}/versions/{version}                           writer
        DELETE /api/v1/artifacts/{name}/versions/{version}/tags/{**key}              writer
        DELETE /api/v1/experiments/{id}                                              writer experiment:id
        DELETE /api/v1/experiments/{id}/tags/{**key}                                 writer experiment:id
        DELETE /api/v1/models/{name}                                                 admin
        DELETE /api/v1/models/{name}/aliases/{alias}                                 approver
        DELETE /api/v1/models/{name}/tags/{**key}                                    writer
        DELETE /api/v1/models/{name}/versions/{version}                              writer
        DELETE /api/v1/models/{name}/versions/{version}/tags/{**key}                 writer
        DELETE /api/v1/retention-policies/                                           admin
        DELETE /api/v1/runs/{runId}                                                  writer run:runId
        DELETE /api/v1/runs/{runId}/tags/{**key}                                     writer run:runId
        GET    /ajax-api/2.0/mlflow-artifacts/artifacts/{**path}                     reader proxy:path
        GET    /ajax-api/2.0/mlflow/artifacts/list                                   reader any
        GET    /ajax-api/2.0/mlflow/experiments/get                                  reader any
        GET    /ajax-api/2.0/mlflow/experiments/get-by-name                          reader
        GET    /ajax-api/2.0/mlflow/experiments/search                               reader any
        GET    /ajax-api/2.0/mlflow/metrics/get-history                              reader any
        GET    /ajax-api/2.0/mlflow/metrics/get-history-bulk                         reader any
        GET    /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval                reader any
        GET    /ajax-api/2.0/mlflow/model-versions/get                               reader
        GET    /ajax-api/2.0/mlflow/model-versions/get-download-uri                  reader
        GET    /ajax-api/2.0/mlflow/model-versions/search                            reader
        GET    /ajax-api/2.0/mlflow/registered-models/alias                          reader
        GET    /ajax-api/2.0/mlflow/registered-models/get                            reader
        GET    /ajax-api/2.0/mlflow/registered-models/get-latest-versions            reader
        GET    /ajax-api/2.0/mlflow/registered-models/search                         reader
        GET    /ajax-api/2.0/mlflow/runs/get                                         reader any
        GET    /ajax-api/2.0/mlflow/runs/search                                      reader any
        GET    /ajax-api/2.0/mlflow/webhooks                                         admin
        GET    /ajax-api/2.0/mlflow/webhooks/{webhook_id}                            admin webhook:webhook_id
        GET    /api/2.0/mlflow-artifacts/artifacts/{**path}                          reader proxy:path
        GET    /api/2.0/mlflow/artifacts/list                                        reader any
        GET    /api/2.0/mlflow/experiments/get                                       reader any
        GET    /api/2.0/mlflow/experiments/get-by-name                               reader
        GET    /api/2.0/mlflow/experiments/search                                    reader any
        GET    /api/2.0/mlflow/metrics/get-history                                   reader any
        GET    /api/2.0/mlflow/metrics/get-history-bulk                              reader any
        GET    /api/2.0/mlflow/metrics/get-history-bulk-interval                     reader any
        GET    /api/2.0/mlflow/model-versions/get                                    reader
        GET    /api/2.0/mlflow/model-versions/get-download-uri                       reader
        GET    /api/2.0/mlflow/model-versions/search                                 reader
        GET    /api/2.0/mlflow/registered-models/alias                               reader
        GET    /api/2.0/mlflow/registered-models/get                                 reader
        GET    /api/2.0/mlflow/registered-models/get-latest-versions                 reader
        GET    /api/2.0/mlflow/registered-models/search                              reader
        GET    /api/2.0/mlflow/runs/get                                              reader any
        GET    /api/2.0/mlflow/runs/search                                           reader any
        GET    /api/2.0/mlflow/webhooks                                              admin
        GET    /api/2.0/mlflow/webhooks/{webhook_id}                                 admin webhook:webhook_id
        GET    /api/v1/artifacts/                                                    reader any
        GET    /api/v1/artifacts/by-id/{id}                                          reader artifact:id
        GET    /api/v1/artifacts/{name}/aliases/history                              reader
        GET    /api/v1/artifacts/{name}/versions                                     reader
        GET    /api/v1/artifacts/{name}/versions/{reference}                         reader
        GET    /api/v1/artifacts/{name}/versions/{reference}/content                 reader
        GET    /api/v1/artifacts/{name}/versions/{reference}/manifest                reader
        GET    /api/v1/artifacts/{name}/versions/{version}/edits                     reader
        GET    /api/v1/blobs/{digest}                                                reader any
        GET    /api/v1/audit/                                                        server-admin
        GET    /api/v1/audit/verify                                                  server-admin
        GET    /api/v1/contexts/                                                     reader any
        GET    /api/v1/contexts/{id}                                                 reader context:id
        GET    /api/v1/dataset-schemas/{name}/versions/{version}                     reader
        GET    /api/v1/dashboards/model-metrics                                      reader
        GET    /api/v1/dashboards/usage                                              reader
        GET    /api/v1/datasets/failing                                              reader
        GET    /api/v1/datasets/{name}/diff                                          reader
        GET    /api/v1/datasets/{name}/versions/{reference}                          reader
        GET    /api/v1/datasets/{name}/versions/{reference}/usage                    reader
        GET    /api/v1/deployments/                                                  reader any
        GET    /api/v1/deployments/{id}                                              reader deployment:id
        GET    /api/v1/environments/stats                                            reader any
        GET    /api/v1/environments/{environment}/history                            reader
        GET    /api/v1/events/lineage                                                reader
        GET    /api/v1/executions/                                                   reader any
        GET    /api/v1/executions/{id}                                               reader execution:id
        GET    /api/v1/experiments/                                                  reader any
        GET    /api/v1/experiments/by-name                                           reader
        GET    /api/v1/experiments/{id}                                              reader experiment:id
        GET    /api/v1/experiments/{id}/fields                                       reader experiment:id
        GET    /api/v1/experiments/{id}/fields/values                                reader experiment:id
        GET    /api/v1/feature-sets/{name}/versions/{reference}                      reader
        GET    /api/v1/features/{name}/usage                                         reader any
        GET    /api/v1/jobs/runs/{id}                                                reader openlineage-run:id
        GET    /api/v1/lineage                                                       reader
        GET    /api/v1/lineage/graph                                                 reader any
        GET    /api/v1/lineage/impact                                                reader any
        GET    /api/v1/lineage/path                                                  reader any
        GET    /api/v1/lineage/provenance                                            reader any
        GET    /api/v1/model-versions/                                               reader any
        GET    /api/v1/models/                                                       reader any
        GET    /api/v1/models/{name}                                                 reader
        GET    /api/v1/models/{name}/history                                         reader
        GET    /api/v1/models/{name}/promotions                                      reader
        GET    /api/v1/models/{name}/versions                                        reader
        GET    /api/v1/models/{name}/versions/{reference}                            reader
        GET    /api/v1/models/{name}/versions/{reference}/manifest                   reader
        GET    /api/v1/namespaces                                                    reader
        GET    /api/v1/namespaces/{ns}                                               reader
        GET    /api/v1/namespaces/{ns}/datasets                                      reader
        GET    /api/v1/namespaces/{ns}/datasets/{dataset}                            reader
        GET    /api/v1/namespaces/{ns}/jobs                                          reader
        GET    /api/v1/namespaces/{ns}/jobs/{job}                                    reader
        GET    /api/v1/namespaces/{ns}/jobs/{job}/runs                               reader
        GET    /api/v1/projects/                                                     reader any
        GET    /api/v1/projects/{name}                                               reader project:name
        GET    /api/v1/promotions/                                                   reader any
        GET    /api/v1/promotions/{id}                                               reader promotion:id
        GET    /api/v1/retention-policies/                                           reader any
        GET    /api/v1/runs/                                                         reader any
        GET    /api/v1/runs/{runId}                                                  reader run:runId
        GET    /api/v1/runs/{runId}/metrics/history                                  reader run:runId
        GET    /api/v1/search/artifacts                                              reader any
        GET    /api/v1/search/experiments                                            reader any
        GET    /api/v1/search/runs                                                   reader any
        GET    /get-artifact                                                         reader any
        GET    /health                                                               public
        GET    /metrics                                                              reader any
        GET    /model-versions/get-artifact                                          reader
        GET    /openapi/{documentName}.json                                          public
        GET    /ready                                                                public
        GET    /version                                                              public
        HEAD   /api/v1/blobs/{digest}                                                reader any
        PATCH  /ajax-api/2.0/mlflow/model-versions/update                            writer
        PATCH  /ajax-api/2.0/mlflow/registered-models/update                         writer
        PATCH  /ajax-api/2.0/mlflow/webhooks/{webhook_id}                            admin webhook:webhook_id
        PATCH  /api/2.0/mlflow/model-versions/update                                 writer
        PATCH  /api/2.0/mlflow/registered-models/update                              writer
        PATCH  /api/2.0/mlflow/webhooks/{webhook_id}                                 admin webhook:webhook_id
        PATCH  /api/v1/artifacts/{name}/versions/{version}                           writer
        PATCH  /api/v1/executions/{id}                                               writer execution:id
        PATCH  /api/v1/experiments/{id}                                              writer experiment:id
        PATCH  /api/v1/models/{name}                                                 writer
        PATCH  /api/v1/models/{name}/versions/{version}                              writer
        PATCH  /api/v1/runs/{runId}                                                  writer run:runId
        POST   /ajax-api/2.0/mlflow-artifacts/mpu/abort/{**path}                     writer proxy:path
        POST   /ajax-api/2.0/mlflow-artifacts/mpu/complete/{**path}                  writer proxy:path
        POST   /ajax-api/2.0/mlflow-artifacts/mpu/create/{**path}                    writer proxy:path
        POST   /ajax-api/2.0/mlflow/experiments/create                               writer
        POST   /ajax-api/2.0/mlflow/experiments/delete                               writer experiment:experiment_id
        POST   /ajax-api/2.0/mlflow/experiments/delete-experiment-tag                writer experiment:experiment_id
        POST   /ajax-api/2.0/mlflow/experiments/restore                              writer experiment:experiment_id
        POST   /ajax-api/2.0/mlflow/experiments/search                               reader read any
        POST   /ajax-api/2.0/mlflow/experiments/set-experiment-tag                   writer experiment:experiment_id
        POST   /ajax-api/2.0/mlflow/experiments/update                               writer experiment:experiment_id
        POST   /ajax-api/2.0/mlflow/model-versions/create                            writer
        POST   /ajax-api/2.0/mlflow/model-versions/search                            reader read
        POST   /ajax-api/2.0/mlflow/model-versions/set-tag                           writer
        POST   /ajax-api/2.0/mlflow/model-versions/transition-stage                  approver
        POST   /ajax-api/2.0/mlflow/registered-models/alias                          approver
        POST   /ajax-api/2.0/mlflow/registered-models/create                         writer
        POST   /ajax-api/2.0/mlflow/registered-models/get-latest-versions            reader read
        POST   /ajax-api/2.0/mlflow/registered-models/rename                         writer
        POST   /ajax-api/2.0/mlflow/registered-models/search                         reader read
        POST   /ajax-api/2.0/mlflow/registered-models/set-tag                        writer
        POST   /ajax-api/2.0/mlflow/runs/create                                      writer experiment:experiment_id
        POST   /ajax-api/2.0/mlflow/runs/delete                                      writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/runs/delete-tag                                  writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/runs/log-batch                                   writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/runs/log-inputs                                  writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/runs/log-metric                                  writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/runs/log-model                                   writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/runs/log-parameter                               writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/runs/restore                                     writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/runs/search                                      reader read any
        POST   /ajax-api/2.0/mlflow/runs/set-tag                                     writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/runs/update                                      writer run:run_id/run_uuid
        POST   /ajax-api/2.0/mlflow/webhooks                                         admin
        POST   /ajax-api/2.0/mlflow/webhooks/{webhook_id}/test                       admin webhook:webhook_id
        POST   /api/2.0/mlflow-artifacts/mpu/abort/{**path}                          writer proxy:path
        POST   /api/2.0/mlflow-artifacts/mpu/complete/{**path}                       writer proxy:path
        POST   /api/2.0/mlflow-artifacts/mpu/create/{**path}                         writer proxy:path
        POST   /api/2.0/mlflow/experiments/create                                    writer
        POST   /api/2.0/mlflow/experiments/delete                                    writer experiment:experiment_id
        POST   /api/2.0/mlflow/experiments/delete-experiment-tag                     writer experiment:experiment_id
        POST   /api/2.0/mlflow/experiments/restore                                   writer experiment:experiment_id
        POST   /api/2.0/mlflow/experiments/search                                    reader read any
        POST   /api/2.0/mlflow/experiments/set-experiment-tag                        writer experiment:experiment_id
        POST   /api/2.0/mlflow/experiments/update                                    writer experiment:experiment_id
        POST   /api/2.0/mlflow/model-versions/create                                 writer
        POST   /api/2.0/mlflow/model-versions/search                                 reader read
        POST   /api/2.0/mlflow/model-versions/set-tag                                writer
        POST   /api/2.0/mlflow/model-versions/transition-stage                       approver
        POST   /api/2.0/mlflow/registered-models/alias                               approver
        POST   /api/2.0/mlflow/registered-models/create                              writer
        POST   /api/2.0/mlflow/registered-models/get-latest-versions                 reader read
        POST   /api/2.0/mlflow/registered-models/rename                              writer
        POST   /api/2.0/mlflow/registered-models/search                              reader read
        POST   /api/2.0/mlflow/registered-models/set-tag                             writer
        POST   /api/2.0/mlflow/runs/create                                           writer experiment:experiment_id
        POST   /api/2.0/mlflow/runs/delete                                           writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/runs/delete-tag                                       writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/runs/log-batch                                        writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/runs/log-inputs                                       writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/runs/log-metric                                       writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/runs/log-model                                        writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/runs/log-parameter                                    writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/runs/restore                                          writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/runs/search                                           reader read any
        POST   /api/2.0/mlflow/runs/set-tag                                          writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/runs/update                                           writer run:run_id/run_uuid
        POST   /api/2.0/mlflow/webhooks                                              admin
        POST   /api/2.0/mlflow/webhooks/{webhook_id}/test                            admin webhook:webhook_id
        POST   /api/v1/artifacts/                                                    writer body-project
        POST   /api/v1/artifacts/upload                                              writer
        POST   /api/v1/artifacts/{name}/versions/{version}/restore                   writer
        POST   /api/v1/artifacts/{name}/versions/{version}/tags                      writer
        POST   /api/v1/contexts/                                                     writer body-project
        POST   /api/v1/contexts/{id}/members                                         writer context:id
        POST   /api/v1/dataset-schemas/                                              writer body-project
        POST   /api/v1/datasets/{name}/versions/{reference}/validations              writer
        POST   /api/v1/deployments/                                                  writer body-project
        POST   /api/v1/deployments/{id}/rollback                                     writer deployment:id
        POST   /api/v1/deployments/{id}/status                                       writer deployment:id
        POST   /api/v1/executions/                                                   writer body-project
        POST   /api/v1/executions/{id}/events                                        writer execution:id
        POST   /api/v1/experiments/                                                  writer body-project
        POST   /api/v1/experiments/{id}/restore                                      writer experiment:id
        POST   /api/v1/experiments/{id}/tags                                         writer experiment:id
        POST   /api/v1/feature-sets/                                                 writer body-project
        POST   /api/v1/lineage                                                       writer
        POST   /api/v1/lineage/batch                                                 writer
        POST   /api/v1/manifests/verify                                              reader read any
        POST   /api/v1/models/                                                       writer body-project
        POST   /api/v1/models/{name}/promotions                                      writer
        POST   /api/v1/models/{name}/tags                                            writer
        POST   /api/v1/models/{name}/versions                                        writer
        POST   /api/v1/models/{name}/versions/{version}/stage                        approver
        POST   /api/v1/models/{name}/versions/{version}/tags                         writer
        POST   /api/v1/projects/                                                     server-admin
        POST   /api/v1/promotions/{id}/approve                                       approver promotion:id
        POST   /api/v1/promotions/{id}/reject                                        approver promotion:id
        POST   /api/v1/runs/                                                         writer experiment:experimentId
        POST   /api/v1/runs/metrics/history                                          reader read any
        POST   /api/v1/runs/{runId}/batch                                            writer run:runId
        POST   /api/v1/runs/{runId}/inputs                                           writer run:runId
        POST   /api/v1/runs/{runId}/metrics                                          writer run:runId
        POST   /api/v1/runs/{runId}/params                                           writer run:runId
        POST   /api/v1/runs/{runId}/restore                                          writer run:runId
        POST   /api/v1/runs/{runId}/tags                                             writer run:runId
        PUT    /ajax-api/2.0/mlflow-artifacts/artifacts/{**path}                     writer proxy:path
        PUT    /api/2.0/mlflow-artifacts/artifacts/{**path}                          writer proxy:path
        PUT    /api/v1/artifacts/{name}/aliases/{alias}                              writer
        PUT    /api/v1/blobs/                                                        writer any
        PUT    /api/v1/datasets/{name}/versions/{reference}                          writer
        PUT    /api/v1/models/{name}/aliases/{alias}                                 approver
        PUT    /api/v1/models/{name}/approvers                                       admin
        PUT    /api/v1/retention-policies/                                           admin body-project
        DELETE /api/v1/webhooks/{id}                                                 admin webhook:id
        GET    /api/v1/events/                                                       reader any
        GET    /api/v1/events/stream                                                 reader any
        GET    /api/v1/webhooks/                                                     admin any
        GET    /api/v1/webhooks/{id}                                                 admin webhook:id
        GET    /api/v1/webhooks/{id}/deliveries                                      admin webhook:id
        PATCH  /api/v1/webhooks/{id}                                                 admin webhook:id
        POST   /api/v1/webhooks/                                                     admin body-project
        POST   /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver               admin webhook:id
        POST   /api/v1/webhooks/{id}/test                                            admin webhook:id
        DELETE /api/v1/alerts/rules/{id}                                             admin alert-rule:id
        DELETE /api/v1/alerts/rules/{id}/mute                                        writer alert-rule:id
        GET    /api/v1/alerts/                                                       reader any
        GET    /api/v1/alerts/rules/                                                 reader any
        GET    /api/v1/alerts/rules/{id}                                             reader alert-rule:id
        GET    /api/v1/alerts/{id}                                                   reader alert:id
        PATCH  /api/v1/alerts/rules/{id}                                             admin alert-rule:id
        POST   /api/v1/alerts/rules/                                                 admin body-project
        POST   /api/v1/alerts/rules/{id}/mute                                        writer alert-rule:id
        POST   /api/v1/alerts/{id}/acknowledge                                       writer alert:id
        POST   /api/v1/alerts/{id}/resolve                                           writer alert:id
        """;

    private static readonly FrozenDictionary<string, AccessRule> Rules = Table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .ToFrozenDictionary(parts => $"{parts[0]} {parts[1]}", parts =>
        {
            var access = Enum.Parse<Access>(parts[2].Replace("-", ""), ignoreCase: true);
            var read = parts[0] is "GET" or "HEAD" || parts.Skip(3).Contains("read");
            var rule = new AccessRule(access, !read && access != Access.Public);
            return parts.Skip(3).Where(p => p != "read").SingleOrDefault() switch
            {
                null => rule,
                "any" => rule with { Source = ProjectSource.Any },
                "body-project" => rule with { Source = ProjectSource.Body },
                var scope => rule with { Source = ProjectSource.Entity, Entity = EntityOf(scope.Split(':')[0]), Parameter = scope.Split(':')[1] },
            };
        });

    private static EntityKind EntityOf(string word) => word switch
    {
        "project" => EntityKind.Project,
        "experiment" => EntityKind.Experiment,
        "run" => EntityKind.Run,
        "execution" => EntityKind.Execution,
        "context" => EntityKind.Context,
        "deployment" => EntityKind.Deployment,
        "promotion" => EntityKind.Promotion,
        "artifact" => EntityKind.ArtifactVersion,
        "openlineage-run" => EntityKind.OpenLineageRun,
        "proxy" => EntityKind.ProxyPath,
        "webhook" => EntityKind.Webhook,
        "alert-rule" => EntityKind.AlertRule,
        "alert" => EntityKind.Alert,
        _ => throw new FormatException($"unknown entity kind '{word}' in the access table"),
    };

    public static AccessRule? For(string method, string pattern) =>
        Rules.TryGetValue($"{(method == "HEAD" ? "GET" : method)} {pattern}", out var rule) ? rule
        : method == "HEAD" && Rules.TryGetValue($"HEAD {pattern}", out rule) ? rule : null;

    /// <summary>All (method, pattern) keys, for the test that checks the table against the live routes.</summary>
    public static IEnumerable<string> Keys => Rules.Keys;
}
