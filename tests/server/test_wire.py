"""Malformed traffic on the wire: invalid UTF-8 bodies and lone surrogates never stop the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys


class Wire:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sflow.server", "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def send_raw(self, body: bytes) -> None:
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, obj: dict) -> None:
        self.send_raw(json.dumps(obj).encode())

    def recv(self) -> dict:
        headers = b""
        while not headers.endswith(b"\r\n\r\n"):
            headers += self.proc.stdout.read(1)
        length = int(headers.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        return json.loads(self.proc.stdout.read(length))

    def answer(self, msg_id: int) -> dict:
        while True:
            message = self.recv()
            if message.get("id") == msg_id:
                return message


def _open(uri: str, text: str) -> dict:
    item = {"uri": uri, "languageId": "sflow", "version": 1, "text": text}
    return {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": item}}


def test_invalid_utf8_and_lone_surrogates(tmp_path, db_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFLOW_")}
    env.update(SFLOW_HOME=str(tmp_path), SFLOW_DATABASE_URL=db_url)
    wire = Wire(env)
    try:
        wire.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"capabilities": {}, "processId": None, "rootUri": None},
            }
        )
        assert "result" in wire.answer(1)
        wire.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        broken = json.dumps(
            _open("file:///x.sflow", "strategy s {\n  x = sma(XX$close)\n}\n")
        ).encode()
        wire.send_raw(broken.replace(b"XX", b"\xff\xfe"))  # not UTF-8: the message is dropped
        wire.send(_open("file:///y.sflow", "strategy s {\n  x = sma($close)\n}\n# \udc80 \ud800"))
        wire.send(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "textDocument/hover",
                "params": {
                    "textDocument": {"uri": "file:///y.sflow"},
                    "position": {"line": 1, "character": 7},
                },
            }
        )
        hover = wire.answer(2)
        assert "sma(" in hover["result"]["contents"]["value"]
        wire.send({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
        wire.answer(3)
        wire.send({"jsonrpc": "2.0", "method": "exit"})
        assert wire.proc.wait(timeout=20) == 0
    finally:
        if wire.proc.poll() is None:
            wire.proc.kill()
