using Dapper;
using Lineage.Core.Errors;
using Lineage.Storage.Engine;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>
/// Group commit (issue 15): concurrent writes share transactions on both databases, yet each behaves as its own.
/// Groups are formed on purpose: a write that waits inside its body holds each writer loop while the others queue,
/// so when the waits end every loop takes the queued writes into its group.
/// </summary>
public abstract class GroupCommitContract : StoreTestBase
{
    /// <summary>Writer loops of this database: that many blockers hold all of them.</summary>
    protected abstract int Writers { get; }

    /// <summary>An id of the current transaction, to see which writes shared one; null where the database has none.</summary>
    protected abstract Task<long?> TransactionIdAsync(DbSession s);

    private static Task InsertAsync(DbSession s, string key) =>
        s.Connection.ExecuteAsync("INSERT INTO idempotency_keys (key, request_hash, result, created_at) VALUES (@key, 'h', '{}', 0)", new { key }, s.Transaction);

    protected Task<long> CountAsync(string prefix) =>
        Db.ReadAsync(s => s.Connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM idempotency_keys WHERE key LIKE @p", new { p = prefix + "%" }, s.Transaction));

    /// <summary>Holds every writer loop until the returned release is called; the writes queued meanwhile form groups.</summary>
    private async Task<(Func<Task> Release, List<Task<long?>> Blockers)> HoldWritersAsync(string prefix)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new CountdownEvent(Writers);
        var blockers = Enumerable.Range(0, Writers).Select(i => Db.WriteAsync(async s =>
        {
            await InsertAsync(s, $"{prefix}blocker-{i}");
            entered.Signal();
            await gate.Task;
            return await TransactionIdAsync(s);
        })).ToList();
        Assert.True(await Task.Run(() => entered.Wait(TimeSpan.FromSeconds(30))), "every writer loop took a blocker");
        return (async () =>
        {
            gate.SetResult();
            await Task.WhenAll(blockers);
        }, blockers);
    }

    [Fact]
    public async Task a_failing_write_among_concurrent_ones_fails_alone_and_the_others_commit()
    {
        var (release, blockers) = await HoldWritersAsync("f-");
        var writes = Enumerable.Range(0, 40).Select(i => Db.WriteAsync(async s =>
        {
            await InsertAsync(s, $"f-{i}");
            if (i == 7) throw LineageException.Invalid("name", "write 7 is refused");
            if (i == 23) await InsertAsync(s, "f-0"); // a unique-key violation: the database refuses it
            return await TransactionIdAsync(s);
        })).ToList();
        await release();

        var refused = await Assert.ThrowsAsync<LineageException>(() => writes[7]);
        Assert.Equal("write 7 is refused", refused.Message);
        await Assert.ThrowsAnyAsync<Exception>(() => writes[23]);
        var committed = writes.Where((_, i) => i is not 7 and not 23).ToList();
        await Task.WhenAll(committed);
        Assert.Equal(38 + Writers, await CountAsync("f-"));
        Assert.Equal(0, await Db.ReadAsync(s => s.Connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM idempotency_keys WHERE key IN ('f-7', 'f-23')", transaction: s.Transaction)));
        // They did share transactions: more writes than transactions.
        if (await blockers[0] is not null)
        {
            var transactions = committed.Select(t => t.Result).Concat(blockers.Select(b => b.Result)).Distinct().Count();
            Assert.True(transactions < committed.Count, $"{committed.Count} writes in {transactions} transactions");
        }
    }

    [Fact]
    public async Task on_committed_runs_after_the_shared_commit_and_never_for_a_write_rolled_back()
    {
        var (release, _) = await HoldWritersAsync("c-");
        var committedSeen = new System.Collections.Concurrent.ConcurrentDictionary<int, long>();
        // Transactions whose callbacks ran (one id stands for SQLite's, whose single writer commits one group at a time).
        var calledBack = new System.Collections.Concurrent.ConcurrentDictionary<long, bool>();
        var bodiesAfterTheirCommit = 0;
        var writes = Enumerable.Range(0, 20).Select(i => Db.WriteAsync(async s =>
        {
            var transaction = await TransactionIdAsync(s) ?? 0;
            if (calledBack.ContainsKey(transaction)) Interlocked.Increment(ref bodiesAfterTheirCommit);
            await InsertAsync(s, $"c-{i}");
            s.OnCommitted(() =>
            {
                calledBack[transaction] = true;
                // Visible to another connection when the callback runs: the commit happened first.
                committedSeen[i] = Db.ReadAsync(r => r.Connection.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM idempotency_keys WHERE key = @key", new { key = $"c-{i}" }, r.Transaction)).GetAwaiter().GetResult();
            });
            if (i % 5 == 3) throw LineageException.Invalid("name", "refused");
            return i;
        })).ToList();
        await release();
        foreach (var (write, i) in writes.Select((w, i) => (w, i)))
            if (i % 5 == 3) await Assert.ThrowsAsync<LineageException>(() => write);
            else await write;

        Assert.Equal(Enumerable.Range(0, 20).Where(i => i % 5 != 3).Order(), committedSeen.Keys.Order());
        Assert.All(committedSeen.Values, count => Assert.Equal(1, count));
        Assert.Equal(0, bodiesAfterTheirCommit);
    }

    [Fact]
    public async Task idempotent_replays_in_one_group_answer_the_first_result()
    {
        var (release, _) = await HoldWritersAsync("i-");
        var ran = 0;
        var keys = Enumerable.Range(0, 3).Select(_ => new IdempotencyKey("group-key", "same-request")).ToList();
        var writes = keys.Select(key => Acting.WithKey(key, () => Db.WriteAsync(async s =>
        {
            await s.Connection.ExecuteAsync("INSERT INTO idempotency_keys (key, request_hash, result, created_at) VALUES ('i-run-' || @n, 'h', '{}', 0)",
                new { n = Interlocked.Increment(ref ran).ToString(System.Globalization.CultureInfo.InvariantCulture) }, s.Transaction);
            return "answer";
        }, keyed: true))).ToList();
        await release();

        Assert.All(await Task.WhenAll(writes), r => Assert.Equal("answer", r));
        var other = Acting.WithKey(new IdempotencyKey("group-key", "another-request"), () => Db.WriteAsync(_ => Task.FromResult("other"), keyed: true));
        Assert.Equal(2, keys.Count(k => k.Replayed));
        Assert.Equal(1, await CountAsync("i-run-"));
        var conflict = await Assert.ThrowsAsync<LineageException>(() => other);
        Assert.Equal(ErrorCode.Conflict, conflict.Code);
    }

    [Fact]
    public async Task a_write_cancelled_while_queued_does_not_run()
    {
        var (release, _) = await HoldWritersAsync("x-");
        using var cancel = new CancellationTokenSource();
        var cancelled = Db.WriteAsync(async s => { await InsertAsync(s, "x-cancelled"); return 1; }, ct: cancel.Token);
        var kept = Db.WriteAsync(async s => { await InsertAsync(s, "x-kept"); return 2; });
        cancel.Cancel();
        await release();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(2, await kept);
        Assert.Equal(0, await CountAsync("x-cancelled"));
        Assert.Equal(1, await CountAsync("x-kept"));
    }
}

public sealed class GroupCommitSqliteTests : GroupCommitContract
{
    protected override string NewTarget(TempDir dir) => dir.File("group.db");

    protected override int Writers => 1;

    protected override Task<long?> TransactionIdAsync(DbSession s) => Task.FromResult<long?>(null);

    /// <summary>
    /// The writer compiles a statement once and reuses it. A row reader used to leave its command to the finalizer (Dapper
    /// disposes it only in a synchronous Dispose), so each write loading a run compiled its three queries again.
    /// </summary>
    [Fact]
    public async Task the_writer_compiles_a_repeated_statement_once()
    {
        var sqlite = (SqliteDatabase)Db;
        Task<int> Write() => Db.WriteAsync(async s =>
        {
            var rows = 0;
            await s.ForEachRowAsync("SELECT 1 UNION ALL SELECT @two", new { two = 2 }, _ => rows++);
            rows += (await s.Connection.QueryAsync<int>("SELECT 3", transaction: s.Transaction)).Count();
            return rows;
        });
        Assert.Equal(3, await Write());
        var compiled = sqlite.StatementsCompiled;
        for (var i = 0; i < 20; i++) Assert.Equal(3, await Write());
        Assert.Equal(compiled, sqlite.StatementsCompiled);
    }
}

public sealed class GroupCommitPostgresTests : GroupCommitContract
{
    protected override string NewTarget(TempDir dir) => PostgresTarget.CreateDatabase();

    protected override int Writers => PostgresDatabase.DefaultGroupWriters;

    protected override async Task<long?> TransactionIdAsync(DbSession s) =>
        await s.Connection.ExecuteScalarAsync<long>("SELECT txid_current()", transaction: s.Transaction);

    /// <summary>
    /// A read whose connection breaks under it (here its own backend is terminated, as a restart or a protocol fault would
    /// leave it) is run once more on a fresh connection: the caller gets the answer, not an error. A second break fails.
    /// </summary>
    [Fact]
    public async Task a_read_whose_connection_breaks_is_run_again_on_a_fresh_connection()
    {
        var calls = 0;
        var answer = await Db.ReadAsync(async s =>
        {
            if (++calls == 1) await s.Connection.ExecuteAsync("SELECT pg_terminate_backend(pg_backend_pid())", transaction: s.Transaction);
            return await s.Connection.ExecuteScalarAsync<int>("SELECT 41 + 1", transaction: s.Transaction);
        });
        Assert.Equal((2, 42), (calls, answer));

        var always = 0;
        await Assert.ThrowsAnyAsync<Exception>(() => Db.ReadAsync(async s =>
        {
            always++;
            return await s.Connection.ExecuteScalarAsync<int>("SELECT pg_terminate_backend(pg_backend_pid())::int", transaction: s.Transaction);
        }));
        Assert.Equal(2, always);
    }

    /// <summary>
    /// Two servers' databases on one PostgreSQL, each write taking one of two advisory locks. Alone a write cannot deadlock;
    /// a group holds the locks of its earlier writes to its COMMIT, so two groups that took the two locks in opposite order
    /// deadlock each other. The losing write runs again alone: every write commits, none fails.
    /// </summary>
    [Fact]
    public async Task many_writers_on_two_databases_of_one_postgres_do_not_deadlock_into_errors()
    {
        await using var second = await Database.OpenAsync(Target);
        var random = new Random(15);
        var locks = Enumerable.Range(0, 400).Select(_ => 1501L + random.Next(2)).ToArray();
        using var slots = new SemaphoreSlim(32);
        var writes = Enumerable.Range(0, 400).Select(async i =>
        {
            await slots.WaitAsync();
            try
            {
                return await (i % 2 == 0 ? Db : second).WriteAsync(async s =>
                {
                    await s.Connection.ExecuteAsync("INSERT INTO idempotency_keys (key, request_hash, result, created_at) VALUES (@key, 'h', '{}', 0)",
                        new { key = $"d-{i}" }, s.Transaction);
                    await s.Dialect.TransactionLockAsync(s, locks[i]);
                    return i;
                });
            }
            finally
            {
                slots.Release();
            }
        }).ToList();

        Assert.Equal(Enumerable.Range(0, 400), await Task.WhenAll(writes));
        Assert.Equal(400, await CountAsync("d-"));
    }
}
