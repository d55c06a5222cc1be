"""A website visitor's socket.io connection, as the widget makes it, for the tests (run with
Rasa's Python, which has python-socketio's client): connects to the Rasa server given, asks for a
session, sends each line read on stdin as a message and prints, one JSON line each, the session
id ({"session": ...}) and every bot message ({"bot": {...}, "at": <seconds since start>})."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import socketio


async def main(url: str) -> None:
    started = time.monotonic()
    client = socketio.AsyncClient(reconnection=False)
    session: asyncio.Future = asyncio.get_running_loop().create_future()

    def out(item: dict) -> None:
        print(json.dumps({**item, "at": round(time.monotonic() - started, 3)}), flush=True)

    @client.on("session_confirm")
    async def confirmed(data):
        session_id = data.get("session_id") if isinstance(data, dict) else data
        if not session.done():
            session.set_result(session_id)
        out({"session": session_id})

    @client.on("bot_uttered")
    async def uttered(data):
        out({"bot": data})

    await client.connect(url, socketio_path="/socket.io", transports=["websocket"])
    await client.emit("session_request", {"session_id": None})
    session_id = await asyncio.wait_for(session, 30)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        await client.emit(
            "user_uttered", {"message": line.strip(), "session_id": session_id, "customData": {"lang": "es"}}
        )
    await client.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
