import ControlPlane
import Foundation

/// sysexits codes and how daemon errors map to them.
enum CtlExitStatus {
    static let ok: Int32 = 0
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noInput: Int32 = 66
    static let unavailable: Int32 = 69
    static let software: Int32 = 70
    static let temporaryFailure: Int32 = 75
    static let protocolError: Int32 = 76
    static let permissionDenied: Int32 = 77

    static let dataErrors: Set<String> = [
        "AccountNotFound", "TenantNotFound", "AccountExists", "ScopeConflict", "SyncNotAllowedForSelectedScope",
        "TooManyTargets", "GroupPrefixTooShort", "UserNotFound", "ConsentDeclined", "ProvisioningFailed",
        "InvalidArgument", "InvalidParameter", "MessageTooLarge", "NoHeldSync",
    ]

    static func code(for error: any Error) -> Int32 {
        switch error {
        case let error as VarlinkClientError:
            switch error.kind {
            case .unreachable: return unavailable
            case .permissionDenied: return permissionDenied
            case .connectionClosed: return temporaryFailure
            case .protocolViolation: return protocolError
            }
        case let error as VarlinkError:
            let name = error.shortName
            if name == "PermissionDenied" { return permissionDenied }
            if name == "TemporaryFailure" { return temporaryFailure }
            if dataErrors.contains(name) { return dataError }
            if ["InterfaceNotFound", "MethodNotFound", "MethodNotImplemented"].contains(name) { return unavailable }
            return software
        case let error as CtlError:
            return error.exitCode
        default:
            return software
        }
    }

    static func message(for error: any Error) -> String {
        switch error {
        case let error as VarlinkError:
            if let message = error.message { return "\(message) (\(error.shortName))" }
            switch error.shortName {
            case "InvalidParameter": return "the daemon refused the parameter \(error.parameters["parameter"]?.stringValue ?? "?") (InvalidParameter)"
            case "MethodNotImplemented", "MethodNotFound": return "the daemon does not support \(error.parameters["method"]?.stringValue ?? "this call") (\(error.shortName))"
            default: return error.description
            }
        case let error as VarlinkClientError:
            return error.message
        case let error as CtlError:
            return error.message
        default:
            return "\(error)"
        }
    }
}

/// A failure found by the CLI itself, with its exit code.
struct CtlError: Error {
    var message: String
    var exitCode: Int32
}
