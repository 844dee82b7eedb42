/// One table of a store, read whole to be copied into another store (`tenantsyncd --migrate-to-postgresql`).
///
/// The form both adapters agree on, so that neither imports the other: the SQLite store writes it, the PostgreSQL
/// store reads it. Rows travel as JSON arrays of objects keyed by column name, a few thousand rows to a batch:
/// text and numbers as they are stored, dates as the stored ISO 8601 UTC text (`2026-11-21T02:13:00.000Z`), booleans
/// as `0`/`1`, and binary values (sealed secrets, copied as they are, never opened) as bytea hex text (`\x0a1b…`).
public struct StoreTableSnapshot: Sendable {
    public var table: String
    /// The table's columns, in the source's order.
    public var columns: [String]
    /// Rows read, the sum over ``batches``.
    public var rowCount: Int
    /// JSON arrays of row objects.
    public var batches: [String]
    /// The highest id the source ever handed out in this table (SQLite's `AUTOINCREMENT` keeps it, also for rows since
    /// deleted), so that the target never hands it out again; `nil` when the table has no such id.
    public var highestIssuedID: Int64?

    public init(table: String, columns: [String], rowCount: Int, batches: [String], highestIssuedID: Int64?) {
        self.table = table
        self.columns = columns
        self.rowCount = rowCount
        self.batches = batches
        self.highestIssuedID = highestIssuedID
    }
}
