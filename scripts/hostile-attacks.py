#!/usr/bin/env python3
"""hostile-attacks.py: the clients of scripts/hostile.sh, loopback only, every loop bounded.

Each subcommand runs one attack against a service on 127.0.0.1 and prints one JSON object with
what it measured:

  slow-bodies ADDR CLIENTS SECONDS   CLIENTS connections each send POST /mode declaring 1,000
                                     bytes, then one byte every 2 s; meanwhile a probe asks
                                     GET /health on a fresh connection every 0.25 s. Reports
                                     when each slow connection was answered or closed, and when
                                     /health first answered after they all held a slot.
  long-fail ADDR REQUESTS            REQUESTS GET /call?fail=<15,000 '!'>, 8 keep-alive
                                     connections at a time; the statuses.
  hold ADDR SOCKETS SECONDS          one client on 127.0.0.2 keeps SOCKETS connections open,
                                     reconnecting each as soon as it closes, for SECONDS. How
                                     many connections it opened. (The newcomer is curl, in a
                                     process of its own, so that this loop cannot delay it.)
  crowd ADDR FIRST LAST EACH SECONDS
                                     every address 127.0.0.FIRST to 127.0.0.LAST keeps EACH
                                     idle connections open (never sending a request),
                                     reconnecting each as soon as it closes, for SECONDS. How
                                     many connections they opened.
  fake-b PORTFILE COUNTFILE          an HTTP server on 127.0.0.1:0 answering every request
                                     503 with Retry-After: 3600; writes its port to PORTFILE and
                                     its count of requests to COUNTFILE. Runs until killed.
"""

import asyncio
import http.server
import json
import sys
import time

ATTACKER = "127.0.0.2"


def split(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


async def read_status(reader, timeout):
    """The status code of the next answer, or None if the connection closes first."""
    line = await asyncio.wait_for(reader.readline(), timeout)
    if not line:
        return None
    return int(line.split()[1])


async def read_answer(reader, timeout):
    """Status and body of one answer with a content-length; None if it closes first."""
    status = await read_status(reader, timeout)
    if status is None:
        return None
    length = 0
    while True:
        line = await asyncio.wait_for(reader.readline(), timeout)
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await asyncio.wait_for(reader.readexactly(length), timeout)
    return status, body


async def health(addr, local=None, timeout=15.0):
    """Seconds until GET /health answered 200 on a fresh connection, or None."""
    host, port = split(addr)
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=(local, 0) if local else None),
            timeout,
        )
        writer.write(b"GET /health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await read_answer(reader, timeout)
        writer.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        return None
    if answer is None or answer[0] != 200:
        return None
    return time.monotonic() - start


async def slow_client(addr, filled, start):
    host, port = split(addr)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"POST /mode HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    await writer.drain()
    filled.release()
    answered = asyncio.ensure_future(read_status(reader, 3600))
    for _ in range(1000):
        if answered.done():
            break
        try:
            writer.write(b" ")
            await writer.drain()
        except OSError:
            break
        await asyncio.wait([answered], timeout=2.0)
    try:
        status = await asyncio.wait_for(answered, 30)
    except (OSError, asyncio.TimeoutError):
        status = None
    writer.close()
    return status, time.monotonic() - start


async def slow_bodies(addr, clients, seconds):
    start = time.monotonic()
    filled = asyncio.Semaphore(0)
    tasks = [asyncio.ensure_future(slow_client(addr, filled, start)) for _ in range(clients)]
    for _ in range(clients):
        await asyncio.wait_for(filled.acquire(), 60)
    all_held = time.monotonic() - start
    health_after = None
    deadline = time.monotonic() + 3 * seconds
    while time.monotonic() < deadline:
        if await health(addr, timeout=1.0) is not None:
            health_after = time.monotonic() - start
            break
        await asyncio.sleep(0.25)
    results = await asyncio.gather(*tasks)
    return {
        "clients": clients,
        "all_slots_held_at_s": round(all_held, 2),
        "health_first_answered_at_s": health_after and round(health_after, 2),
        "slow_statuses": sorted({str(status) for status, _ in results}),
        "last_slot_freed_at_s": round(max(t for _, t in results), 2),
    }


async def long_fail(addr, requests):
    host, port = split(addr)
    request = (
        "GET /call?fail=" + "!" * 15000 + " HTTP/1.1\r\nHost: a\r\n\r\n"
    ).encode()
    statuses = {}
    left = [requests]

    async def worker():
        reader, writer = await asyncio.open_connection(host, port)
        while left[0] > 0:
            left[0] -= 1
            writer.write(request)
            await writer.drain()
            answer = await read_answer(reader, 15)
            if answer is None:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            statuses[answer[0]] = statuses.get(answer[0], 0) + 1
        writer.close()

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(8)))
    return {
        "requests": requests,
        "statuses": statuses,
        "seconds": round(time.monotonic() - start, 2),
    }


async def keep_open(host, port, local, stop, opened):
    """One idle connection from LOCAL, opened again each time it closes, until STOP."""
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, local_addr=(local, 0)),
                max(0.01, stop - time.monotonic()),
            )
        except (OSError, asyncio.TimeoutError):
            await asyncio.sleep(0.01)
            continue
        opened[0] += 1
        try:
            await asyncio.wait_for(reader.read(1), max(0.0, stop - time.monotonic()))
        except (OSError, asyncio.TimeoutError):
            pass
        writer.close()


async def hold(addr, sockets, seconds):
    host, port = split(addr)
    stop = time.monotonic() + seconds
    opened = [0]
    await asyncio.gather(*(keep_open(host, port, ATTACKER, stop, opened) for _ in range(sockets)))
    return {"attacker_sockets": sockets, "attacker_connections_opened": opened[0]}


async def crowd(addr, first, last, each, seconds):
    host, port = split(addr)
    stop = time.monotonic() + seconds
    opened = [0]
    locals_ = [f"127.0.0.{n}" for n in range(first, last + 1)]
    await asyncio.gather(*(keep_open(host, port, local, stop, opened)
                           for local in locals_ for _ in range(each)))
    return {"addresses": len(locals_), "sockets": len(locals_) * each,
            "connections_opened": opened[0]}


def fake_b(portfile, countfile):
    count = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            count[0] += 1
            with open(countfile, "w") as out:
                out.write(str(count[0]))
            self.send_response(503)
            self.send_header("Retry-After", "3600")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(countfile, "w") as out:
        out.write("0")
    with open(portfile, "w") as out:
        out.write(str(server.server_address[1]))
    server.serve_forever()


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "fake-b":
        fake_b(*args)
        return
    runs = {
        "slow-bodies": lambda: slow_bodies(args[0], int(args[1]), float(args[2])),
        "long-fail": lambda: long_fail(args[0], int(args[1])),
        "hold": lambda: hold(args[0], int(args[1]), float(args[2])),
        "crowd": lambda: crowd(args[0], int(args[1]), int(args[2]), int(args[3]),
                               float(args[4])),
    }
    print(json.dumps(asyncio.run(runs[command]())))


if __name__ == "__main__":
    main()
