"""A third-party Varlink client (PyPI `varlink`) driving the control socket.

Usage: varlink_peer.py SOCKET MODE
  main    GetInfo, GetInterfaceDescription (parsed by the library's IDL parser),
          typed calls, a streaming call and an error; prints one JSON object.
  denied  one call, expected to fail; prints the error name and parameters.
Exit status 0 when the script ran to the end, whatever the server answered.
"""
import json
import sys

import varlink


def main():
    socket_path, mode = sys.argv[1], sys.argv[2]
    client = varlink.Client(address="unix:" + socket_path)
    result = {}
    if mode == "denied":
        try:
            client.get_interfaces()
            result["error"] = None
        except varlink.VarlinkError as error:
            result["error"] = error.error()
            result["parameters"] = error.parameters()
        print(json.dumps(result))
        return

    result["interfaces"] = client.get_interfaces()
    result["product"] = client.info["product"]
    interface = client.get_interface("io.tenantsync.Control")
    result["parsed_members"] = sorted(interface.members.keys())
    with client.open("io.tenantsync.Control") as control:
        status = control.Status()
        result["status_version"] = status["version"]
        result["status_token_invalid"] = status["accounts"]["token_invalid"]
        result["status_cluster"] = status.get("cluster")
        nodes = control.ListNodes()["nodes"]
        result["nodes"] = [[n["name"], n["alive"], n["answering"], [[l["kind"], l["count"]] for l in n["leases"]]] for n in nodes]
        accounts = control.ListAccounts("contoso.example")
        result["account_services"] = [a["service"] for a in accounts["accounts"]]
        account = control.GetAccount(7)["account"]
        result["grant_incident_aadsts"] = account["grants"][0]["incident"]["aadsts_code"]
        pages = [reply["progress"]["run"]["pages"] for reply in control.Sync("contoso.example", "onedrive", _more=True)]
        result["sync_pages"] = pages
        step = control.Provision("onedrive", "contoso.example", "device_code", None, None, None)["step"]
        result["provision_step"] = step["step"]
        result["provision_user_code"] = step["consent"]["user_code"]
        groups = control.SearchGroups("contoso.example", "Sal")["groups"]
        result["groups"] = [g["display_name"] for g in groups]
        try:
            control.GetAccount(4242)
        except varlink.VarlinkError as error:
            result["not_found"] = error.error()
            result["not_found_id"] = error.parameters().get("id")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
