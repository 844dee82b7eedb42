import Foundation

/// The OData query options of a Graph request, validated the way Graph validates them.
struct GraphQuery {
    var select: [String]?
    var top: Int?
    var count = false
    var filter: [FilterClause] = []
    var search: String?
    var skipToken: String?
    var deltaToken: String?

    struct FilterClause: Equatable {
        enum Operation { case startsWith, equals }
        var property: String
        var operation: Operation
        var value: String
    }

    /// Parses `$select`, `$top` (1–999), `$count` (needs `ConsistencyLevel: eventual`), `$filter`, `$search`, `$skiptoken`.
    static func parse(_ request: EmulatorRequest, knownProperties: Set<String>, typeName: String) throws(GraphError) -> GraphQuery {
        var query = GraphQuery()
        let q = request.query
        let eventual = request.header("consistencylevel")?.lowercased() == "eventual"
        if let select = q["$select"], !select.isEmpty {
            let names = select.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for name in names where !knownProperties.contains(name) {
                throw GraphError(status: 400, code: "BadRequest", message: "Parsing OData Select and Expand failed: Could not find a property named '\(name)' on type 'microsoft.graph.\(typeName)'.")
            }
            query.select = names
        }
        if let top = q["$top"] {
            // Graph: "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive." (Request_UnsupportedQuery)
            guard let value = Int(top), (1...999).contains(value) else { throw .badPageSize(top) }
            query.top = value
        }
        if let count = q["$count"] {
            guard count.lowercased() == "true" || count.lowercased() == "false" else {
                throw .badRequest("Invalid value '\(count)' for $count.")
            }
            query.count = count.lowercased() == "true"
            // Advanced query capabilities ($count) need ConsistencyLevel: eventual (Graph "advanced queries" docs).
            if query.count, !eventual {
                throw .unsupportedQuery("$count is an advanced query capability: send the request header 'ConsistencyLevel: eventual'.")
            }
        }
        if let search = q["$search"] {
            guard eventual else {
                throw .unsupportedQuery("$search is an advanced query capability: send the request header 'ConsistencyLevel: eventual'.")
            }
            query.search = search.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        }
        if let filter = q["$filter"], !filter.isEmpty {
            query.filter = try parseFilter(filter, typeName: typeName)
        }
        query.skipToken = q["$skiptoken"]
        query.deltaToken = q["$deltatoken"]
        return query
    }

    /// Supports `startswith(prop,'x')` and `prop eq 'x'`, joined by `and`.
    static func parseFilter(_ text: String, typeName: String) throws(GraphError) -> [FilterClause] {
        var clauses: [FilterClause] = []
        for part in text.components(separatedBy: " and ") {
            let clause = part.trimmingCharacters(in: .whitespaces)
            if clause.lowercased().hasPrefix("startswith("), clause.hasSuffix(")") {
                let inner = clause.dropFirst("startswith(".count).dropLast()
                guard let comma = inner.firstIndex(of: ",") else { throw invalidFilter(clause, typeName) }
                let property = inner[..<comma].trimmingCharacters(in: .whitespaces)
                let value = try literal(String(inner[inner.index(after: comma)...]), clause, typeName)
                clauses.append(FilterClause(property: property, operation: .startsWith, value: value))
            } else if let range = clause.range(of: " eq ") {
                let property = clause[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = try literal(String(clause[range.upperBound...]), clause, typeName)
                clauses.append(FilterClause(property: property, operation: .equals, value: value))
            } else {
                throw invalidFilter(clause, typeName)
            }
        }
        return clauses
    }

    private static func literal(_ raw: String, _ clause: String, _ typeName: String) throws(GraphError) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        if trimmed == "true" || trimmed == "false" { return trimmed }
        guard trimmed.count >= 2, trimmed.first == "'", trimmed.last == "'" else { throw invalidFilter(clause, typeName) }
        return String(trimmed.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
    }

    private static func invalidFilter(_ clause: String, _ typeName: String) -> GraphError {
        .unsupportedQuery("Unsupported or invalid query filter clause specified for resource '\(typeName)': \(clause)")
    }

    /// Page size: `$top`, else `Prefer: odata.maxpagesize=N`, else Graph's default of 100.
    func pageSize(_ request: EmulatorRequest) -> (size: Int, preferenceApplied: Bool) {
        if let top { return (top, false) }
        if let prefer = request.header("prefer"), let range = prefer.range(of: "odata.maxpagesize=") {
            let digits = prefer[range.upperBound...].prefix { $0.isNumber }
            if let n = Int(digits), n > 0 { return (min(n, 999), true) }
        }
        return (100, false)
    }
}

/// Opaque continuation tokens: a version tag and fields, base64url-encoded.
enum PageToken {
    static func encode(_ fields: [String]) -> String {
        Data(("emu1|" + fields.joined(separator: "|")).utf8).base64URLEncoded
    }

    static func decode(_ token: String) -> [String]? {
        var b64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64.append("=") }
        guard let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("emu1|") else { return nil }
        return text.dropFirst(5).split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    }
}
