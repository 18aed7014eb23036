"""A fork server for the cheap stages: import once (GX alone takes seconds), fork per attempt.

``python -m tests.crash.zygote`` reads one JSON command per line on stdin::

    {"entry": "load" | "republish", "argv": [...], "log": "/path/to/child.log"}

and forks a child that runs the real entry point (``cmart load`` through ``cmart.cli.main``, or
``python -m cmart.republish``) with stdout and stderr sent to ``log``. It answers
``{"pid": PID}`` at once and ``{"exited": PID, "code": N, "signal": S}`` when the child ends —
normally, or because the harness SIGKILLed it. Only the child is killed; the server lives on.
"""

from __future__ import annotations

import json
import os
import sys

# The expensive imports happen here, once, before any fork.
import cmart.cli
import cmart.republish
import loaders.validation  # noqa: F401  (Great Expectations)

ENTRIES = {"load": lambda argv: cmart.cli.main(["load", *argv]), "republish": cmart.republish.main}


def _child(entry: str, argv: list[str], log: str) -> None:
    code = 1
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        print(f"stage start {entry}", flush=True)
        code = int(ENTRIES[entry](argv) or 0)
    except BaseException:  # report anything, then leave without cleanup
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _answer(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    _answer({"ready": os.getpid()})
    for line in sys.stdin:
        command = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(command["entry"], command["argv"], command["log"])
        _answer({"pid": pid})
        _, status = os.waitpid(pid, 0)
        signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        _answer({"exited": pid, "code": code, "signal": signal})


if __name__ == "__main__":
    main()
