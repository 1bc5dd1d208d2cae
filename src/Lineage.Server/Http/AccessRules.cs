using System.Collections.Frozen;

namespace Lineage.Server.Http;

/// <summary>What a route needs. Reader…Admin are project roles (same values as <c>Role</c>); ServerAdmin is server-wide.</summary>
public enum Access { Public = 0, Reader = 1, Writer = 2, Approver = 3, Admin = 4, ServerAdmin = 5 }

public sealed record AccessRule(Access Required, bool Writes);

/// <summary>
/// Every route of every API surface with the role it needs, in one table that reviewers can read.
/// Writes (audited) are every non-GET route except the ones marked "read" (searches sent as POST).
/// A route missing here is refused when authentication is on, and <c>AccessRulesTests</c> fails.
/// </summary>
public static class AccessRules
{
    // METHOD pattern => role [read]
    private const string Table = """
        DELETE /ajax-api/2.0/mlflow-artifacts/artifacts/{**path}                     writer
        DELETE /ajax-api/2.0/mlflow/model-versions/delete                            writer
        DELETE /ajax-api/2.0/mlflow/model-versions/delete-tag                        writer
        DELETE /ajax-api/2.0/mlflow/registered-models/alias                          approver
        DELETE /ajax-api/2.0/mlflow/registered-models/delete                         writer
        DELETE /ajax-api/2.0/mlflow/registered-models/delete-tag                     writer
        DELETE /api/2.0/mlflow-artifacts/artifacts/{**path}                          writer
        DELETE /api/2.0/mlflow/model-versions/delete                                 writer
        DELETE /api/2.0/mlflow/model-versions/delete-tag                             writer
        DELETE /api/2.0/mlflow/registered-models/alias                               approver
        DELETE /api/2.0/mlflow/registered-models/delete                              writer
        DELETE /api/2.0/mlflow/registered-models/delete-tag                          writer
        DELETE /api/v1/artifacts/{name}/aliases/{alias}                              writer
        DELETE /api/v1/artifacts/{name}/versions/{version}                           writer
        DELETE /api/v1/artifacts/{name}/versions/{version}/tags/{**key}              writer
        DELETE /api/v1/experiments/{id}                                              writer
        DELETE /api/v1/experiments/{id}/tags/{**key}                                 writer
        DELETE /api/v1/models/{name}                                                 admin
        DELETE /api/v1/models/{name}/aliases/{alias}                                 approver
        DELETE /api/v1/models/{name}/tags/{**key}                                    writer
        DELETE /api/v1/models/{name}/versions/{version}                              writer
        DELETE /api/v1/models/{name}/versions/{version}/tags/{**key}                 writer
        DELETE /api/v1/retention-policies/                                           admin
        DELETE /api/v1/runs/{runId}                                                  writer
        DELETE /api/v1/runs/{runId}/tags/{**key}                                     writer
        GET    /ajax-api/2.0/mlflow-artifacts/artifacts/{**path}                     reader
        GET    /ajax-api/2.0/mlflow/artifacts/list                                   reader
        GET    /ajax-api/2.0/mlflow/experiments/get                                  reader
        GET    /ajax-api/2.0/mlflow/experiments/get-by-name                          reader
        GET    /ajax-api/2.0/mlflow/experiments/search                               reader
        GET    /ajax-api/2.0/mlflow/metrics/get-history                              reader
        GET    /ajax-api/2.0/mlflow/metrics/get-history-bulk                         reader
        GET    /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval                reader
        GET    /ajax-api/2.0/mlflow/model-versions/get                               reader
        GET    /ajax-api/2.0/mlflow/model-versions/get-download-uri                  reader
        GET    /ajax-api/2.0/mlflow/model-versions/search                            reader
        GET    /ajax-api/2.0/mlflow/registered-models/alias                          reader
        GET    /ajax-api/2.0/mlflow/registered-models/get                            reader
        GET    /ajax-api/2.0/mlflow/registered-models/get-latest-versions            reader
        GET    /ajax-api/2.0/mlflow/registered-models/search                         reader
        GET    /ajax-api/2.0/mlflow/runs/get                                         reader
        GET    /ajax-api/2.0/mlflow/runs/search                                      reader
        GET    /api/2.0/mlflow-artifacts/artifacts/{**path}                          reader
        GET    /api/2.0/mlflow/artifacts/list                                        reader
        GET    /api/2.0/mlflow/experiments/get                                       reader
        GET    /api/2.0/mlflow/experiments/get-by-name                               reader
        GET    /api/2.0/mlflow/experiments/search                                    reader
        GET    /api/2.0/mlflow/metrics/get-history                                   reader
        GET    /api/2.0/mlflow/metrics/get-history-bulk                              reader
        GET    /api/2.0/mlflow/metrics/get-history-bulk-interval                     reader
        GET    /api/2.0/mlflow/model-versions/get                                    reader
        GET    /api/2.0/mlflow/model-versions/get-download-uri                       reader
        GET    /api/2.0/mlflow/model-versions/search                                 reader
        GET    /api/2.0/mlflow/registered-models/alias                               reader
        GET    /api/2.0/mlflow/registered-models/get                                 reader
        GET    /api/2.0/mlflow/registered-models/get-latest-versions                 reader
        GET    /api/2.0/mlflow/registered-models/search                              reader
        GET    /api/2.0/mlflow/runs/get                                              reader
        GET    /api/2.0/mlflow/runs/search                                           reader
        GET    /api/v1/artifacts/                                                    reader
        GET    /api/v1/artifacts/by-id/{id}                                          reader
        GET    /api/v1/artifacts/{name}/aliases/history                              reader
        GET    /api/v1/artifacts/{name}/versions                                     reader
        GET    /api/v1/artifacts/{name}/versions/{reference}                         reader
        GET    /api/v1/artifacts/{name}/versions/{reference}/content                 reader
        GET    /api/v1/artifacts/{name}/versions/{reference}/manifest                reader
        GET    /api/v1/artifacts/{name}/versions/{version}/edits                     reader
        GET    /api/v1/blobs/{digest}                                                reader
        GET    /api/v1/audit/                                                        server-admin
        GET    /api/v1/audit/verify                                                  server-admin
        GET    /api/v1/contexts/{id}                                                 reader
        GET    /api/v1/dataset-schemas/{name}/versions/{version}                     reader
        GET    /api/v1/dashboards/model-metrics                                      reader
        GET    /api/v1/dashboards/usage                                              reader
        GET    /api/v1/datasets/{name}/diff                                          reader
        GET    /api/v1/datasets/{name}/versions/{reference}                          reader
        GET    /api/v1/datasets/{name}/versions/{reference}/usage                    reader
        GET    /api/v1/deployments/                                                  reader
        GET    /api/v1/deployments/{id}                                              reader
        GET    /api/v1/environments/stats                                            reader
        GET    /api/v1/environments/{environment}/history                            reader
        GET    /api/v1/executions/                                                   reader
        GET    /api/v1/executions/{id}                                               reader
        GET    /api/v1/experiments/                                                  reader
        GET    /api/v1/experiments/by-name                                           reader
        GET    /api/v1/experiments/{id}                                              reader
        GET    /api/v1/feature-sets/{name}/versions/{reference}                      reader
        GET    /api/v1/features/{name}/usage                                         reader
        GET    /api/v1/jobs/runs/{id}                                                reader
        GET    /api/v1/lineage                                                       reader
        GET    /api/v1/lineage/graph                                                 reader
        GET    /api/v1/lineage/impact                                                reader
        GET    /api/v1/lineage/path                                                  reader
        GET    /api/v1/lineage/provenance                                            reader
        GET    /api/v1/model-versions/                                               reader
        GET    /api/v1/models/                                                       reader
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
        GET    /api/v1/projects/                                                     reader
        GET    /api/v1/projects/{name}                                               reader
        GET    /api/v1/promotions/                                                   reader
        GET    /api/v1/promotions/{id}                                               reader
        GET    /api/v1/retention-policies/                                           reader
        GET    /api/v1/runs/                                                         reader
        GET    /api/v1/runs/{runId}                                                  reader
        GET    /api/v1/runs/{runId}/metrics/history                                  reader
        GET    /api/v1/search/artifacts                                              reader
        GET    /api/v1/search/experiments                                            reader
        GET    /api/v1/search/runs                                                   reader
        GET    /get-artifact                                                         reader
        GET    /health                                                               public
        GET    /model-versions/get-artifact                                          reader
        GET    /openapi/{documentName}.json                                          public
        GET    /ready                                                                public
        GET    /version                                                              public
        HEAD   /api/v1/blobs/{digest}                                                reader
        PATCH  /ajax-api/2.0/mlflow/model-versions/update                            writer
        PATCH  /ajax-api/2.0/mlflow/registered-models/update                         writer
        PATCH  /api/2.0/mlflow/model-versions/update                                 writer
        PATCH  /api/2.0/mlflow/registered-models/update                              writer
        PATCH  /api/v1/artifacts/{name}/versions/{version}                           writer
        PATCH  /api/v1/executions/{id}                                               writer
        PATCH  /api/v1/experiments/{id}                                              writer
        PATCH  /api/v1/models/{name}                                                 writer
        PATCH  /api/v1/models/{name}/versions/{version}                              writer
        PATCH  /api/v1/runs/{runId}                                                  writer
        POST   /ajax-api/2.0/mlflow-artifacts/mpu/abort/{**path}                     writer
        POST   /ajax-api/2.0/mlflow-artifacts/mpu/complete/{**path}                  writer
        POST   /ajax-api/2.0/mlflow-artifacts/mpu/create/{**path}                    writer
        POST   /ajax-api/2.0/mlflow/experiments/create                               writer
        POST   /ajax-api/2.0/mlflow/experiments/delete                               writer
        POST   /ajax-api/2.0/mlflow/experiments/delete-experiment-tag                writer
        POST   /ajax-api/2.0/mlflow/experiments/restore                              writer
        POST   /ajax-api/2.0/mlflow/experiments/search                               reader read
        POST   /ajax-api/2.0/mlflow/experiments/set-experiment-tag                   writer
        POST   /ajax-api/2.0/mlflow/experiments/update                               writer
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
        POST   /ajax-api/2.0/mlflow/runs/create                                      writer
        POST   /ajax-api/2.0/mlflow/runs/delete                                      writer
        POST   /ajax-api/2.0/mlflow/runs/delete-tag                                  writer
        POST   /ajax-api/2.0/mlflow/runs/log-batch                                   writer
        POST   /ajax-api/2.0/mlflow/runs/log-inputs                                  writer
        POST   /ajax-api/2.0/mlflow/runs/log-metric                                  writer
        POST   /ajax-api/2.0/mlflow/runs/log-model                                   writer
        POST   /ajax-api/2.0/mlflow/runs/log-parameter                               writer
        POST   /ajax-api/2.0/mlflow/runs/restore                                     writer
        POST   /ajax-api/2.0/mlflow/runs/search                                      reader read
        POST   /ajax-api/2.0/mlflow/runs/set-tag                                     writer
        POST   /ajax-api/2.0/mlflow/runs/update                                      writer
        POST   /api/2.0/mlflow-artifacts/mpu/abort/{**path}                          writer
        POST   /api/2.0/mlflow-artifacts/mpu/complete/{**path}                       writer
        POST   /api/2.0/mlflow-artifacts/mpu/create/{**path}                         writer
        POST   /api/2.0/mlflow/experiments/create                                    writer
        POST   /api/2.0/mlflow/experiments/delete                                    writer
        POST   /api/2.0/mlflow/experiments/delete-experiment-tag                     writer
        POST   /api/2.0/mlflow/experiments/restore                                   writer
        POST   /api/2.0/mlflow/experiments/search                                    reader read
        POST   /api/2.0/mlflow/experiments/set-experiment-tag                        writer
        POST   /api/2.0/mlflow/experiments/update                                    writer
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
        POST   /api/2.0/mlflow/runs/create                                           writer
        POST   /api/2.0/mlflow/runs/delete                                           writer
        POST   /api/2.0/mlflow/runs/delete-tag                                       writer
        POST   /api/2.0/mlflow/runs/log-batch                                        writer
        POST   /api/2.0/mlflow/runs/log-inputs                                       writer
        POST   /api/2.0/mlflow/runs/log-metric                                       writer
        POST   /api/2.0/mlflow/runs/log-model                                        writer
        POST   /api/2.0/mlflow/runs/log-parameter                                    writer
        POST   /api/2.0/mlflow/runs/restore                                          writer
        POST   /api/2.0/mlflow/runs/search                                           reader read
        POST   /api/2.0/mlflow/runs/set-tag                                          writer
        POST   /api/2.0/mlflow/runs/update                                           writer
        POST   /api/v1/artifacts/                                                    writer
        POST   /api/v1/artifacts/upload                                              writer
        POST   /api/v1/artifacts/{name}/versions/{version}/restore                   writer
        POST   /api/v1/artifacts/{name}/versions/{version}/tags                      writer
        POST   /api/v1/contexts/                                                     writer
        POST   /api/v1/contexts/{id}/members                                         writer
        POST   /api/v1/dataset-schemas/                                              writer
        POST   /api/v1/datasets/{name}/versions/{reference}/validations              writer
        POST   /api/v1/deployments/                                                  writer
        POST   /api/v1/deployments/{id}/rollback                                     writer
        POST   /api/v1/deployments/{id}/status                                       writer
        POST   /api/v1/executions/                                                   writer
        POST   /api/v1/executions/{id}/events                                        writer
        POST   /api/v1/experiments/                                                  writer
        POST   /api/v1/experiments/{id}/restore                                      writer
        POST   /api/v1/experiments/{id}/tags                                         writer
        POST   /api/v1/feature-sets/                                                 writer
        POST   /api/v1/lineage                                                       writer
        POST   /api/v1/manifests/verify                                              reader read
        POST   /api/v1/models/                                                       writer
        POST   /api/v1/models/{name}/promotions                                      writer
        POST   /api/v1/models/{name}/tags                                            writer
        POST   /api/v1/models/{name}/versions                                        writer
        POST   /api/v1/models/{name}/versions/{version}/stage                        approver
        POST   /api/v1/models/{name}/versions/{version}/tags                         writer
        POST   /api/v1/projects/                                                     server-admin
        POST   /api/v1/promotions/{id}/approve                                       approver
        POST   /api/v1/promotions/{id}/reject                                        approver
        POST   /api/v1/runs/                                                         writer
        POST   /api/v1/runs/{runId}/batch                                            writer
        POST   /api/v1/runs/{runId}/inputs                                           writer
        POST   /api/v1/runs/{runId}/metrics                                          writer
        POST   /api/v1/runs/{runId}/params                                           writer
        POST   /api/v1/runs/{runId}/restore                                          writer
        POST   /api/v1/runs/{runId}/tags                                             writer
        PUT    /ajax-api/2.0/mlflow-artifacts/artifacts/{**path}                     writer
        PUT    /api/2.0/mlflow-artifacts/artifacts/{**path}                          writer
        PUT    /api/v1/artifacts/{name}/aliases/{alias}                              writer
        PUT    /api/v1/blobs/                                                        writer
        PUT    /api/v1/datasets/{name}/versions/{reference}                          writer
        PUT    /api/v1/models/{name}/aliases/{alias}                                 approver
        PUT    /api/v1/models/{name}/approvers                                       admin
        PUT    /api/v1/retention-policies/                                           admin
        """;

    private static readonly FrozenDictionary<string, AccessRule> Rules = Table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .ToFrozenDictionary(parts => $"{parts[0]} {parts[1]}", parts =>
        {
            var access = Enum.Parse<Access>(parts[2].Replace("-", ""), ignoreCase: true);
            var read = parts[0] is "GET" or "HEAD" || parts.Skip(3).Contains("read");
            return new AccessRule(access, !read && access != Access.Public);
        });

    public static AccessRule? For(string method, string pattern) =>
        Rules.TryGetValue($"{(method == "HEAD" ? "GET" : method)} {pattern}", out var rule) ? rule
        : method == "HEAD" && Rules.TryGetValue($"HEAD {pattern}", out rule) ? rule : null;

    /// <summary>All (method, pattern) keys, for the test that checks the table against the live routes.</summary>
    public static IEnumerable<string> Keys => Rules.Keys;
}
