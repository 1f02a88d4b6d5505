"""A stdlib-only client of JamJet's HTTP API, modelled on the calls of
JamJet's Python SDK (sdk/python/jamjet/client.py in jamjet-labs/jamjet)
and on its python_tool worker loop (`jamjet worker`): the same routes,
bodies and fields. Used by tests/system/http_test.cpp.

    python3 jamjet_http_client.py e2e URL TOKEN_FILE MODULE_DIR
    python3 jamjet_http_client.py load URL TOKEN_FILE
"""
import importlib
import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class HTTPStatusError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class JamjetClient:
    def __init__(self, base_url, api_token=None, timeout=30.0):
        self.base_url = base_url.rstrip("/")
        self._token = api_token
        self._timeout = timeout

    def _call(self, method, path, body=None, params=None):
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self._token:
            req.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise HTTPStatusError(e.code, e.read().decode())

    def health(self):
        return self._call("GET", "/health")

    def create_workflow(self, ir):
        return self._call("POST", "/workflows", {"ir": ir})

    def start_execution(self, workflow_id, input, workflow_version=None):
        body = {"workflow_id": workflow_id, "input": input}
        if workflow_version:
            body["workflow_version"] = workflow_version
        return self._call("POST", "/executions", body)

    def get_execution(self, execution_id):
        return self._call("GET", f"/executions/{execution_id}")

    def list_executions(self, status=None, limit=50, offset=0):
        params = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        return self._call("GET", "/executions", params=params)

    def cancel_execution(self, execution_id):
        return self._call("POST", f"/executions/{execution_id}/cancel")

    def get_events(self, execution_id):
        return self._call("GET", f"/executions/{execution_id}/events")

    def approve(self, execution_id, decision, node_id=None, comment=None,
                state_patch=None):
        body = {"decision": decision}
        if node_id:
            body["node_id"] = node_id
        if comment:
            body["comment"] = comment
        if state_patch:
            body["state_patch"] = state_patch
        return self._call("POST", f"/executions/{execution_id}/approve", body)

    def list_approvals(self, execution_id):
        return self._call("GET", f"/executions/{execution_id}/approvals")

    def send_external_event(self, execution_id, correlation_key, payload):
        return self._call("POST", f"/executions/{execution_id}/external-event",
                          {"correlation_key": correlation_key,
                           "payload": payload})

    def claim_work_item(self, worker_id, queue_types):
        data = self._call("POST", "/work-items/claim",
                          {"worker_id": worker_id, "queue_types": queue_types})
        if not data.get("claimed"):
            return None
        return data["work_item"]

    def complete_work_item(self, item_id, execution_id, node_id, output,
                           state_patch, duration_ms=0, lease_fence=None):
        body = {"output": output, "state_patch": state_patch,
                "duration_ms": duration_ms}
        if execution_id:
            body["execution_id"] = execution_id
        if node_id:
            body["node_id"] = node_id
        if lease_fence:
            body["lease_fence"] = lease_fence
        self._call("POST", f"/work-items/{item_id}/complete", body)

    def fail_work_item(self, item_id, error):
        self._call("POST", f"/work-items/{item_id}/fail", {"error": error})

    def heartbeat_work_item(self, item_id, worker_id, lease_fence=0):
        self._call("POST", f"/work-items/{item_id}/heartbeat",
                   {"worker_id": worker_id, "lease_fence": lease_fence})

    def get(self, path):
        return self._call("GET", path)


def worker_once(client, worker_id, queues):
    """One pass of JamJet's python_tool worker loop: claim, resolve
    payload["module"] / payload["function"], call it with payload["input"],
    complete (echoing the lease fence) or fail. False when nothing came."""
    item = client.claim_work_item(worker_id, queues)
    if item is None:
        return False
    payload = item.get("payload", {})
    client.heartbeat_work_item(item["id"], worker_id, item.get("lease_fence", 0))
    t0 = time.monotonic()
    try:
        fn = importlib.import_module(payload["module"])
        for part in payload["function"].split("."):
            fn = getattr(fn, part)
        result = fn(payload.get("input", {}))
        output = result if isinstance(result, dict) else {"result": result}
        client.complete_work_item(item["id"], item["execution_id"],
                                  item["node_id"], output, output,
                                  int((time.monotonic() - t0) * 1000),
                                  lease_fence=item.get("lease_fence", 0))
    except HTTPStatusError:
        raise
    except Exception as exc:
        client.fail_work_item(item["id"], str(exc))
    return True


def wait_for(client):
    for _ in range(500):
        try:
            return client.health()
        except Exception:
            time.sleep(0.02)
    raise SystemExit("the node never answered")


def e2e(url, token, module_dir):
    sys.path.insert(0, module_dir)
    c = JamjetClient(url, token)
    wait_for(c)
    ir = {"workflow_id": "mixed", "version": "1.0.0", "start_node": "prep",
          "nodes": {
              "prep": {"id": "prep", "kind": {"type": "noop"}},
              "py": {"id": "py", "kind": {"type": "python_fn",
                                          "module": "tools",
                                          "function": "double"}},
              "ok": {"id": "ok", "kind": {"type": "human_approval"}},
              "fin": {"id": "fin", "kind": {"type": "noop"}}},
          "edges": [{"from": "prep", "to": "py"}, {"from": "py", "to": "ok"},
                    {"from": "ok", "to": "fin"}, {"from": "fin", "to": "end"}],
          "retry_policies": {}, "timeouts": {}}
    out = {"created": c.create_workflow(ir)}
    exec_id = c.start_execution("mixed", {"x": 21},
                                workflow_version="1.0.0")["execution_id"]
    # The python_fn node runs here; prep and fin on the binary-protocol
    # worker.
    for _ in range(100):
        if worker_once(c, "py-worker-1", ["python_tool"]):
            break
    out["workers"] = c.get("/workers")["workers"]
    for _ in range(500):
        if c.list_approvals(exec_id)["pending"]:
            break
        time.sleep(0.02)
    out["approvals"] = c.list_approvals(exec_id)
    out["approve"] = c.approve(exec_id, "approved", comment="looks right")
    for _ in range(1000):
        ex = c.get_execution(exec_id)
        if ex["status"] != "running":
            break
        time.sleep(0.02)
    out["execution"] = ex
    out["events"] = [e["kind"]["type"] for e in c.get_events(exec_id)["events"]]
    out["listed"] = [e["execution_id"]
                     for e in c.list_executions(status="completed")["executions"]]
    # Errors a client sees.
    statuses = {}
    for name, call in [
            ("unknown", lambda: c.get_execution("no-such-execution")),
            ("viewer_less", lambda: JamjetClient(url).list_executions()),
            ("stale", lambda: c.complete_work_item(exec_id + "/py", exec_id,
                                                   "py", {}, {},
                                                   lease_fence=12345)),
            ("agents", lambda: c.get("/agents"))]:
        try:
            call()
            statuses[name] = 200
        except HTTPStatusError as e:
            statuses[name] = e.status
    out["statuses"] = statuses
    print(json.dumps(out))


def load(url, token):
    c = JamjetClient(url, token)
    wait_for(c)
    host, port = urllib.parse.urlparse(url).hostname, urllib.parse.urlparse(url).port
    held = []
    # Hundreds of idle connections.
    for _ in range(300):
        s = socket.create_connection((host, port))
        held.append(s)
    # Slow clients: a request begun and never finished.
    for _ in range(20):
        s = socket.create_connection((host, port))
        s.sendall(b"POST /executions HTTP/1.1\r\nHost: x\r\nContent-Le")
        held.append(s)
    # Garbage, and a body announced far over the limit.
    garbage = []
    for payload in [b"\x00\xff" * 1000 + b"\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    b"POST /workflows HTTP/1.1\r\nHost: x\r\nContent-Length: "
                    b"99999999999\r\nAuthorization: Bearer " + token.encode() +
                    b"\r\n\r\n"]:
        s = socket.create_connection((host, port))
        s.sendall(payload)
        garbage.append(s)
    answers = []
    for s in garbage:
        s.settimeout(30)
        try:
            answers.append(s.recv(200).split(b"\r\n")[0].decode(errors="replace"))
        except Exception as e:
            answers.append("error: " + str(e))
        s.close()
    out = {"garbage": answers,
           "health": c.health()["status"],
           "listed": len(c.list_executions()["executions"])}
    for s in held:
        s.close()
    out["after"] = c.health()["status"]
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, url, token_file = sys.argv[1], sys.argv[2], sys.argv[3]
    token = open(token_file).read().strip()
    if cmd == "e2e":
        e2e(url, token, sys.argv[4])
    else:
        load(url, token)
