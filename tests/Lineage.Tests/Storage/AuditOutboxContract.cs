using System.Collections.Concurrent;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>
/// The audit outbox on both databases: a write request's entry commits with its first write, once per request,
/// and is moved into the chain exactly once, however many servers chain at the same time.
/// </summary>
public abstract class AuditOutboxContract : StoreTestBase
{
    private static readonly IReadOnlyDictionary<long, AuditRecord> NoAnswers = new Dictionary<long, AuditRecord>();

    private AuditLog Log => new(Db);

    private static PendingAudit Request(string target) =>
        new("ana", "127.0.0.1", "POST /api/v1/experiments/", target, """{"route":"/api/v1/experiments/"}""");

    private static AuditRecord Answer(string target, int status) =>
        new("ana", "127.0.0.1", "POST /api/v1/experiments/", target, status, """{"route":"/api/v1/experiments/","created":"/api/v1/experiments/9"}""");

    /// <summary>Runs <paramref name="body"/> as the server runs a write request: its store writes owe <paramref name="pending"/>.</summary>
    private static async Task<T> AsRequest<T>(PendingAudit pending, Func<Task<T>> body)
    {
        using var entered = OperationContext.Enter(new OperationContext { Actor = "ana", BeforeCommit = pending });
        return await body();
    }

    private Task<List<(long Id, long Time, string Target)>> PendingRows() =>
        Db.ReadAsync(async s => (await s.Connection.QueryAsync<(long Id, long Time, string Target)>(
            "SELECT id, time, target FROM audit_pending ORDER BY id", transaction: s.Transaction)).ToList());

    [Fact]
    public async Task a_request_s_entry_commits_with_its_first_write_and_its_later_writes_add_none()
    {
        var pending = Request("/api/v1/experiments/");
        await AsRequest(pending, async () =>
        {
            await Store.CreateExperimentAsync(null, "a");
            Assert.NotNull(pending.Id); // committed with the first write
            await Store.CreateExperimentAsync(null, "b");
            return await Store.CreateExperimentAsync(null, "c");
        });
        var row = Assert.Single(await PendingRows());
        Assert.Equal(pending.Id, row.Id);
        var check = await Log.VerifyAsync();
        Assert.Equal((0L, 1L, row.Time), (check.Entries, check.Pending, check.OldestPendingTime));

        Assert.Equal(new AuditChaining(1, 0, false), await Log.ChainAsync(new Dictionary<long, AuditRecord> { [row.Id] = Answer(row.Target, 201) }, [], 0));
        var entry = Assert.Single(await Log.ListAsync(new AuditQuery()));
        Assert.Equal((201, row.Time), (entry.Status, entry.Time));
        Assert.Contains("\"created\"", entry.Summary);
        Assert.Empty(await PendingRows());
        check = await Log.VerifyAsync();
        Assert.True(check.Intact);
        Assert.Equal((1L, 0L, (long?)null), (check.Entries, check.Pending, check.OldestPendingTime));
    }

    [Fact]
    public async Task a_write_that_rolls_back_leaves_no_pending_entry()
    {
        await Store.CreateExperimentAsync(null, "taken");
        var pending = Request("/api/v1/experiments/");
        var ex = await Assert.ThrowsAsync<LineageException>(() => AsRequest(pending, () => Store.CreateExperimentAsync(null, "taken")));
        Assert.Equal(ErrorCode.ResourceAlreadyExists, ex.Code);
        Assert.Null(pending.Id);
        Assert.Empty(await PendingRows());
        Assert.Equal(new AuditChaining(0, 0, false), await Log.ChainAsync(NoAnswers, [], long.MaxValue));
        Assert.Empty(await Log.ListAsync(new AuditQuery()));
    }

    [Fact]
    public async Task requests_whose_writes_ran_again_after_a_group_rollback_each_have_one_pending_entry()
    {
        await Store.CreateExperimentAsync(null, "taken");
        // Hold the writer so the requests below queue up and run as one SQLite group; the failing ones roll the
        // group back and the others run again, each in a savepoint. (On PostgreSQL each runs on its own.)
        // Continuations run asynchronously: none may run on the writer's loop.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = Db.WriteAsync(async _ =>
        {
            started.SetResult();
            await gate.Task;
            return 0;
        });
        await started.Task;
        var requests = Enumerable.Range(0, 30).Select(i => Request($"/t/{i}")).ToList();
        var writes = requests.Select((p, i) => AsRequest(p, () => Store.CreateExperimentAsync(null, i % 7 == 3 ? "taken" : $"e{i}"))).ToList();
        gate.SetResult();
        await holder;
        var succeeded = await Task.WhenAll(writes.Select(async w =>
        {
            try
            {
                await w;
                return true;
            }
            catch (LineageException ex) when (ex.Code == ErrorCode.ResourceAlreadyExists)
            {
                return false;
            }
        }));

        Assert.Equal(26, succeeded.Count(ok => ok));
        var rows = await PendingRows();
        Assert.Equal(requests.Where((_, i) => succeeded[i]).Select(p => (p.Id, p.Target)).OrderBy(r => r.Id),
            rows.Select(r => ((long?)r.Id, r.Target)));
        Assert.All(requests.Where((_, i) => !succeeded[i]), p => Assert.Null(p.Id));
    }

    [Fact]
    public async Task an_unanswered_entry_is_chained_only_once_older_than_the_cut_off_and_says_its_status_is_unknown()
    {
        var pending = Request("/api/v1/experiments/");
        await AsRequest(pending, () => Store.CreateExperimentAsync(null, "a"));
        var row = Assert.Single(await PendingRows());

        Assert.Equal(new AuditChaining(0, 0, false), await Log.ChainAsync(NoAnswers, [], row.Time));
        Assert.Single(await PendingRows());

        Assert.Equal(new AuditChaining(0, 1, false), await Log.ChainAsync(NoAnswers, [], row.Time + 1));
        var entry = Assert.Single(await Log.ListAsync(new AuditQuery()));
        Assert.Equal((AuditLog.UnansweredStatus, row.Time, "ana", "/api/v1/experiments/"), (entry.Status, entry.Time, entry.Actor, entry.Target));
        Assert.Contains("\"route\":\"/api/v1/experiments/\"", entry.Summary);
        Assert.Contains("unknown", entry.Summary);

        // The answer arriving late finds the row gone: it is not chained a second time.
        Assert.Equal(new AuditChaining(0, 0, false), await Log.ChainAsync(new Dictionary<long, AuditRecord> { [row.Id] = Answer(row.Target, 201) }, [], 0));
        Assert.Single(await Log.ListAsync(new AuditQuery()));
        Assert.True((await Log.VerifyAsync()).Intact);
    }

    [Fact]
    public async Task two_servers_chaining_at_once_chain_every_entry_exactly_once_in_one_valid_chain()
    {
        const int requests = 200;
        await using var other = await Database.OpenAsync(Target);
        var answers = new ConcurrentQueue<(long Id, string Target)>();
        var producing = Task.WhenAll(Enumerable.Range(0, requests).Select(async i =>
        {
            var pending = Request($"/t/{i}");
            await AsRequest(pending, () => Store.CreateExperimentAsync(null, $"e{i}"));
            if (i % 2 == 0) answers.Enqueue((pending.Id!.Value, pending.Target));
        }));
        // Each server answers some requests and sweeps every row as past the cut-off, so rows race both ways.
        var chaining = new[] { new AuditLog(Db), new AuditLog(other) }.Select(log => Task.Run(async () =>
        {
            var moved = 0;
            while (true)
            {
                var done = producing.IsCompleted;
                var mine = new Dictionary<long, AuditRecord>();
                while (mine.Count < 10 && answers.TryDequeue(out var a)) mine[a.Id] = Answer(a.Target, 201);
                var batch = await log.ChainAsync(mine, [], long.MaxValue);
                moved += batch.Answered + batch.Unanswered;
                if (done && answers.IsEmpty) return moved;
                await Task.Delay(1);
            }
        })).ToList();
        await producing;
        var moved = await Task.WhenAll(chaining);

        Assert.Equal(requests, moved.Sum());
        Assert.Empty(await PendingRows());
        var entries = await Log.ListAsync(new AuditQuery(Limit: 1000));
        Assert.Equal(Enumerable.Range(0, requests).Select(i => $"/t/{i}").Order(), entries.Select(e => e.Target).Order());
        var check = await Log.VerifyAsync();
        Assert.True(check.Intact, check.FirstBreak?.Reason);
        Assert.Equal(requests, check.Entries);
    }
}

public sealed class AuditOutboxSqliteTests : AuditOutboxContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"outbox-{Guid.NewGuid():N}.db");
}

public sealed class AuditOutboxPostgresTests : AuditOutboxContract
{
    protected override string NewTarget(TempDir dir) => PostgresTarget.CreateDatabase();
}
