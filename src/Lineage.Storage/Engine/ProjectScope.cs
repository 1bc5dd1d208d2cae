using System.Globalization;

namespace Lineage.Storage.Engine;

/// <summary>
/// The projects a caller may read (issue 7: a reader of project A sees nothing of project B). The HTTP
/// access middleware decides it for each authenticated request that is not a server admin's and it travels in the
/// request's <see cref="OperationContext"/> into every <see cref="DbSession"/>; data-access code adds
/// <see cref="DbSession.Visible"/> to lookups by id, listings, searches, counts and lineage walks. An entity of
/// another project is therefore "not found" by the same statement and message as a missing one.
/// No scope (authentication off, server admins, the CLI, background work) means every project.
/// </summary>
public sealed class ProjectScope
{
    /// <summary>The ids rendered once as an SQL list, empty for none. They are integers read from the database, never request text.</summary>
    private readonly string _list;

    public ProjectScope(IEnumerable<long> projectIds) =>
        _list = string.Join(", ", projectIds.Distinct().Order().Select(id => id.ToString(CultureInfo.InvariantCulture)));

    /// <summary>"<paramref name="column"/> is one of the readable projects" (false for an empty scope).</summary>
    internal string Condition(string column) => _list.Length == 0 ? "1 = 0" : $"{column} IN ({_list})";
}
