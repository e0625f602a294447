"""Print the path of one artifact of the workspace's test build.

Reads `cargo test --workspace --no-run --message-format=json` from stdin. `main` is the
placemap-e2e test binary; `placemap` is the server binary that build links (with the
dev-dependency features the tests unify, so using it avoids a second build of the server).
"""

import json
import sys

WANTED = {
    "main": lambda m: m["target"]["name"] == "main" and "placemap-e2e" in m["package_id"],
    # The binary itself, not the test harness of its own unit tests (profile.test).
    "placemap": lambda m: m["target"]["name"] == "placemap"
    and m["target"]["kind"] == ["bin"]
    and not m["profile"]["test"],
}


def main() -> int:
    want = sys.argv[1] if len(sys.argv) > 1 else ""
    if want not in WANTED:
        print(f"usage: test_artifact.py {{{','.join(WANTED)}}} < cargo-json", file=sys.stderr)
        return 2
    found = []
    for line in sys.stdin:
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and WANTED[want](msg):
            found.append(msg["executable"])
    if not found:
        print(f"test_artifact.py: the test build made no `{want}` executable", file=sys.stderr)
        return 1
    print(found[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
