/// The `x-ms-throttle-priority` request header ("Microsoft Graph service-specific throttling limits",
/// "Identity and access service limits" → "Request headers").
///
/// A missing header or any other value means `normal`. Microsoft throttles low-priority requests first,
/// but "Using the priority request header does not change the limits"; the emulator accepts and counts it.
public enum ThrottlePriority: String, Sendable, Codable, CaseIterable {
    case low
    case normal
    case high

    init(header: String?) {
        self = header.flatMap { ThrottlePriority(rawValue: $0.trimmingCharacters(in: .whitespaces).lowercased()) } ?? .normal
    }
}
