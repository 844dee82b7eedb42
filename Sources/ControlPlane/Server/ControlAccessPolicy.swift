#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Decides which peers may use the control socket: root and members of the
/// configured control group.
///
/// The daemon's own user is refused, even when its group is the control group (under the shipped unit
/// both are `tenantsync`): hooks run as that user, and a hook (or anything else running as the service
/// user) must not drive the daemon. A daemon run as root admits root, as before.
public struct ControlAccessPolicy: Sendable, Equatable {
    /// The group whose members may call; `nil` admits only root.
    public var groupName: String?

    /// The uid the daemon runs as; refused unless it is root.
    public var daemonUID: uid_t

    public init(groupName: String?, daemonUID: uid_t = geteuid()) {
        self.groupName = groupName
        self.daemonUID = daemonUID
    }

    /// Whether the peer may call methods.
    ///
    /// The group is resolved at every check, so a group created or changed after the daemon started takes
    /// effect. Blocking (NSS may ask LDAP or sssd): call it off the event loop and the cooperative pool.
    public func allows(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 { return true }
        if peer.uid == daemonUID { return false }
        guard let groupName, let gid = Self.groupID(named: groupName) else { return false }
        if peer.gid == gid { return true }
        guard let userName = Self.userName(of: peer.uid) else { return false }
        return Self.groups(ofUser: userName, primary: peer.gid).contains(gid)
    }

    /// The gid of a group, or `nil` if no such group exists.
    public static func groupID(named name: String) -> gid_t? {
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getgrnam_r(name, &group, &buffer, buffer.count, &result)
        guard status == 0, let result else { return nil }
        return result.pointee.gr_gid
    }

    static func userName(of uid: uid_t) -> String? {
        var passwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getpwuid_r(uid, &passwd, &buffer, buffer.count, &result)
        guard status == 0, let result, let name = result.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    /// All groups of a user (primary and supplementary), as `initgroups` would set them.
    static func groups(ofUser user: String, primary: gid_t) -> [gid_t] {
        var count: Int32 = 64
        while count < 1 << 16 {
            var groups = [gid_t](repeating: 0, count: Int(count))
            var found = count
            if getgrouplist(user, primary, &groups, &found) >= 0 {
                return Array(groups.prefix(Int(found)))
            }
            count = max(found, count * 2)
        }
        return [primary]
    }
}
