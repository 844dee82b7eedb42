import Testing
@testable import TenantSyncPostgreSQL

/// The PostgreSQL migrations are cut into statements (the extended protocol takes one at a time).
@Suite struct SQLScriptTests {
    @Test func cutsAtSemicolonsOutsideStringsCommentsAndDollarQuotes() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'it''s; fine');
            /* block; comment */
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE a SET x = 'y;z';
                RETURN NULL;
            END;
            $$;
            CREATE TABLE "odd;name" (y int);
            -- trailing comment only
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 3, "got: \(statements)")
        #expect(statements.first?.hasSuffix("DEFAULT 'it''s; fine')") == true)
        #expect(statements.dropFirst().first?.contains("RETURN NULL;\nEND;\n$$") == true)
        #expect(statements.last == "CREATE TABLE \"odd;name\" (y int)")
    }

    @Test func namedDollarTagsCloseOnlyOnTheSameTag() {
        let statements = SQLScript.statements("SELECT $body$ a $$; b $body$; SELECT 2")
        #expect(statements == ["SELECT $body$ a $$; b $body$", "SELECT 2"])
    }
}
