import ControlPlane
import Foundation
import Testing
import TestSupport

@Suite("Third-party Varlink client and peer authorization", .serialized)
struct ThirdPartyClientTests {
    /// The pyenv python3 with the `varlink` package from PyPI.
    static func python() async throws -> String {
        let python = try #require(ProcessRunner.which("python3"), "python3 is not on PATH")
        let probe = try await ProcessRunner.run(python, ["-c", "import varlink"])
        try #require(probe.status == 0, "the PyPI package varlink is missing: python3 -m pip install varlink==31.0.0")
        return python
    }

    @Test("the PyPI varlink client calls GetInfo, parses the interface description and calls the main methods")
    func pythonClient() async throws {
        let python = try await Self.python()
        let script = ProcessRunner.fixtures.appendingPathComponent("varlink_peer.py").path
        try await ControlServerHarness.withServer { path, _ in
            let result = try await ProcessRunner.run(python, [script, path, "main"])
            #expect(result.status == 0, "python client failed: \(result.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "output: \(result.stdout)")
            #expect(object["interfaces"] as? [String] == ["org.varlink.service", "io.tenantsync.Control"])
            #expect(object["product"] as? String == "tenantsyncd")
            let members = try #require(object["parsed_members"] as? [String])
            for name in ["Status", "ListAccounts", "GetAccount", "Provision", "ContinueProvisioning", "Renew", "Deprovision", "Sync", "Extend", "ListTargets", "AddTargets", "RemoveTargets", "SearchGroups", "ListAlerts", "AcknowledgeAlert", "Reload", "ListNodes", "Node", "AccountNotFound", "PermissionDenied", "ScopeConflict"] {
                #expect(members.contains(name), "the IDL parsed by the Python library lacks \(name)")
            }
            #expect(object["status_version"] as? String == "9.9.9")
            #expect(object["status_token_invalid"] as? Int == 1)
            #expect(object["status_cluster"] as? [String: Int] == ["nodes": 3, "alive": 2], "\(object)")
            let nodes = try #require(object["nodes"] as? [[Any]], "\(object)")
            #expect(nodes.map { $0[0] as? String } == ["node-a", "node-b", "node-c"] && nodes.map { $0[1] as? Bool } == [true, true, false], "\(nodes)")
            #expect(nodes.map { $0[2] as? Bool } == [false, true, false], "\(nodes)")
            #expect((nodes.first?[3] as? [[Any]])?.map { "\($0[0]) \($0[1])" } == ["token-refresh 12", "sync 1"], "\(nodes)")
            #expect(object["account_services"] as? [String] == ["exchange-online", "teams-chat"])
            #expect(object["grant_incident_aadsts"] as? Int == 700082)
            #expect(object["sync_pages"] as? [Int] == [1, 2, 3, 3])
            #expect(object["provision_step"] as? String == "consent")
            #expect(object["provision_user_code"] as? String == "ABCD-EFGH")
            #expect(object["groups"] as? [String] == ["Sal Sales"])
            #expect(object["not_found"] as? String == "io.tenantsync.Control.AccountNotFound")
            #expect(object["not_found_id"] as? Int == 4242)
        }
    }

    /// Copies the pure-Python varlink package where other users can read it, for Debian's python3.
    static func portableVarlink(into directory: String) async throws -> String {
        let python = try await python()
        let location = try await ProcessRunner.run(python, ["-c", "import varlink, os; print(os.path.dirname(varlink.__file__))"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let target = directory + "/pylib"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: location, toPath: target + "/varlink")
        try await ProcessRunner.shell("chmod -R a+rX \(directory)")
        return target
    }

    @Test("a user outside the control group is refused with PermissionDenied; a member is served")
    func peerCredentials() async throws {
        try await TestUsers.ensure(TestUsers.outsider)
        try await TestUsers.ensure(TestUsers.member, group: TestUsers.controlGroup)
        let directory = try ControlServerHarness.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let library = try await Self.portableVarlink(into: directory)
        let script = directory + "/varlink_peer.py"
        try FileManager.default.copyItem(atPath: ProcessRunner.fixtures.appendingPathComponent("varlink_peer.py").path, toPath: script)
        try await ProcessRunner.shell("chmod a+r \(script)")

        try await ControlServerHarness.withServer(configure: { $0.controlGroup = TestUsers.controlGroup }) { path, _ in
            // Open the file to everyone so that only SO_PEERCRED stands between the caller and the daemon.
            try await ProcessRunner.shell("chmod 0666 \(path); chmod a+x \((path as NSString).deletingLastPathComponent)")

            let denied = try await TestUsers.run(as: TestUsers.outsider, ["/usr/bin/python3", script, path, "denied"], environment: ["PYTHONPATH": library])
            #expect(denied.status == 0, "python client failed: \(denied.stderr)")
            let refusal = try #require(try JSONSerialization.jsonObject(with: Data(denied.stdout.utf8)) as? [String: Any], "output: \(denied.stdout)")
            #expect(refusal["error"] as? String == "io.tenantsync.Control.PermissionDenied")
            let (uid, _) = try await TestUsers.ids(of: TestUsers.outsider)
            #expect((refusal["parameters"] as? [String: Any])?["uid"] as? Int == Int(uid))
            #expect((refusal["parameters"] as? [String: Any])?["group"] as? String == TestUsers.controlGroup)

            // The member has the control group only as a supplementary group in /etc/group.
            let allowed = try await TestUsers.run(as: TestUsers.member, ["/usr/bin/python3", script, path, "denied"], environment: ["PYTHONPATH": library])
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(allowed.stdout.utf8)) as? [String: Any], "output: \(allowed.stdout) \(allowed.stderr)")
            #expect(answer["error"] is NSNull, "a control-group member was refused: \(allowed.stdout)")

            // The CLI run by the outsider exits 77.
            let ctl = ProcessRunner.productsDirectory.appendingPathComponent("tenantsyncctl").path
            let cli = try await TestUsers.run(as: TestUsers.outsider, [ctl, "--socket", path, "status"])
            #expect(cli.status == 77, "stderr: \(cli.stderr)")
            #expect(cli.stderr.contains("PermissionDenied"))
        }
    }

    @Test("the access policy admits root, the primary group and supplementary members only")
    func accessPolicy() async throws {
        try await TestUsers.ensure(TestUsers.outsider)
        try await TestUsers.ensure(TestUsers.member, group: TestUsers.controlGroup)
        let policy = ControlAccessPolicy(groupName: TestUsers.controlGroup)
        let gid = try #require(ControlAccessPolicy.groupID(named: TestUsers.controlGroup))
        let outsider = try await TestUsers.ids(of: TestUsers.outsider)
        let member = try await TestUsers.ids(of: TestUsers.member)
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 0, gid: 0)))
        #expect(!policy.allows(PeerCredentials(pid: 1, uid: UInt32(outsider.uid)!, gid: UInt32(outsider.gid)!)))
        #expect(policy.allows(PeerCredentials(pid: 1, uid: UInt32(member.uid)!, gid: UInt32(member.gid)!)))
        #expect(policy.allows(PeerCredentials(pid: 1, uid: UInt32(outsider.uid)!, gid: gid)))
        #expect(!ControlAccessPolicy(groupName: "tenantsync-no-such-group").allows(PeerCredentials(pid: 1, uid: UInt32(member.uid)!, gid: UInt32(member.gid)!)))
        // A daemon running as the member's user refuses that user, although it is in the control group: a hook
        // runs as the daemon's user and its group.
        let asMember = ControlAccessPolicy(groupName: TestUsers.controlGroup, daemonUID: UInt32(member.uid)!)
        #expect(!asMember.allows(PeerCredentials(pid: 1, uid: UInt32(member.uid)!, gid: gid)), "the daemon's own user was admitted through the control group")
        #expect(asMember.allows(PeerCredentials(pid: 1, uid: UInt32(outsider.uid)!, gid: gid)), "another member of the control group was refused")
        #expect(ControlAccessPolicy(groupName: nil, daemonUID: 0).allows(PeerCredentials(pid: 1, uid: 0, gid: 0)), "a daemon run as root refused root")
    }
}
