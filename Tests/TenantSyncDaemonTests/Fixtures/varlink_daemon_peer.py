"""A third-party Varlink client (PyPI `varlink`) driving the REAL tenantsyncd.

Usage: varlink_daemon_peer.py SOCKET TENANT ACCOUNT_ID USER_UPN GROUP_PREFIX
The tenant must have one Exchange Online account on a selected scope holding one
target. The script lists and changes targets, is refused a sync on the selected
scope, extends the tenant to all targets and streams that run, streams a manual
sync until it ends, lists and acknowledges an alert, reloads, and provokes
AccountNotFound and GroupPrefixTooShort. It prints one JSON object of what it saw.
Exit status 0 when the script ran to the end, whatever the daemon answered.
"""
import json
import sys

import varlink


def error_of(call):
    try:
        call()
        return {"error": None}
    except varlink.VarlinkError as error:
        return {"error": error.error(), "parameters": error.parameters()}


def main():
    socket_path, tenant, account_id, upn, prefix = sys.argv[1:6]
    account_id = int(account_id)
    client = varlink.Client(address="unix:" + socket_path)
    result = {}
    result["interfaces"] = client.get_interfaces()
    result["product"] = client.info["product"]
    result["vendor"] = client.info["vendor"]
    interface = client.get_interface("io.tenantsync.Control")
    result["parsed_members"] = sorted(interface.members.keys())
    with client.open("io.tenantsync.Control") as control:
        status = control.Status()
        result["status_total"] = status["accounts"]["total"]
        result["status_active"] = status["accounts"]["active"]
        result["status_version"] = status["version"]

        accounts = control.ListAccounts(tenant)["accounts"]
        result["accounts"] = [[a["id"], a["service"], a["state"], a.get("scope")] for a in accounts]
        account = control.GetAccount(account_id)["account"]
        result["account_grants"] = sorted([g["name"], g["state"], g["token"] is not None] for g in account["grants"])
        result["account_tenant"] = account["tenant_domain"]

        targets = control.ListTargets(tenant)
        result["targets_scope"] = targets["scope"]
        result["targets_before"] = [t["user_principal_name"].lower() for t in targets["targets"]]
        groups = control.SearchGroups(tenant, prefix)["groups"]
        result["groups"] = [g["display_name"] for g in groups]
        added = control.AddTargets(tenant, [upn], [])
        result["added"] = [t["user_principal_name"].lower() for t in added["added"]]
        result["added_total"] = added["total"]
        removed = control.RemoveTargets(tenant, [upn], None)
        result["removed"] = [u.lower() for u in removed["removed"]]
        result["removed_total"] = removed["total"]

        result["sync_selected"] = error_of(lambda: control.Sync(tenant, None))

        extend = list(control.Extend(tenant, _more=True))
        result["extend_switched"] = extend[-1]["switched"]
        result["extend_done"] = [reply["progress"]["done"] for reply in extend]
        result["extend_last"] = extend[-1]["progress"]["run"]["trigger"] + "/" + extend[-1]["progress"]["run"]["state"]

        replies = list(control.Sync(tenant, None, _more=True))
        result["sync_done"] = [reply["progress"]["done"] for reply in replies]
        result["sync_run_ids"] = sorted({reply["progress"]["run"]["id"] for reply in replies})
        result["sync_last"] = replies[-1]["progress"]["run"]["trigger"] + "/" + replies[-1]["progress"]["run"]["state"]

        alerts = control.ListAlerts(True, 50)["alerts"]
        result["alert_kinds"] = sorted({a["kind"] for a in alerts})
        protected = [a for a in alerts if a["kind"] == "account-protected"][0]
        acknowledged = control.AcknowledgeAlert(protected["id"])["alert"]
        result["acknowledged"] = [acknowledged["id"] == protected["id"], acknowledged["acknowledged_at"] is not None]
        unacknowledged = control.ListAlerts(None, None)["alerts"]
        result["still_unacknowledged"] = protected["id"] in [a["id"] for a in unacknowledged]

        result["reload"] = control.Reload()["changed"]

        result["not_found"] = error_of(lambda: control.GetAccount(987654))
        result["short_prefix"] = error_of(lambda: control.SearchGroups(tenant, "ab"))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
