namespace Lineage.Storage.Engine;

/// <summary>
/// Thrown by data access when another writer won a race the database arbitrated (a unique
/// key taken between our read and our insert). The engine rolls back and runs the whole
/// operation again; only PostgreSQL with several writers ever sees it.
/// </summary>
public sealed class RetryTransactionException(string message) : Exception(message);
