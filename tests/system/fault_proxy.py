#!/usr/bin/env python3
"""A TCP proxy that misbehaves on purpose, for the network-fault tests.

  fault_proxy.py LISTEN_PORT TARGET_PORT SEED [SECONDS]

Forwards connections from 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT
for SECONDS (default 20), then heals: from then on it forwards faithfully.
While misbehaving it
  - delays each chunk it forwards by 0-30 ms,
  - splits chunks at random points,
  - cuts every open connection (both ends) at random instants, about every
    0.7 s,
  - and, twice, partitions: for 1 s new connections are accepted and closed
    at once, and open ones are cut.
Prints one line per fault on stdout ("cut 3", "partition", "healed").
"""
import asyncio
import random
import sys
import time

listen_port, target_port, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
rng = random.Random(seed)
start = time.monotonic()
conns = set()
partitioned = False


def faulty():
    return time.monotonic() - start < seconds


def say(text):
    print(text, flush=True)


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if faulty():
                await asyncio.sleep(rng.random() * 0.03)
                if len(data) > 1 and rng.random() < 0.3:
                    cut = rng.randrange(1, len(data))
                    writer.write(data[:cut])
                    await writer.drain()
                    await asyncio.sleep(rng.random() * 0.01)
                    data = data[cut:]
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer):
    if partitioned:
        client_writer.close()
        return
    try:
        server_reader, server_writer = await asyncio.open_connection(
            "127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    pair = (client_writer, server_writer)
    conns.add(pair)
    try:
        await asyncio.gather(pump(client_reader, server_writer),
                             pump(server_reader, client_writer))
    finally:
        conns.discard(pair)


def cut_all():
    n = 0
    for a, b in list(conns):
        for w in (a, b):
            try:
                w.transport.abort()
            except Exception:
                pass
        n += 1
    return n


async def chaos():
    global partitioned
    partitions = sorted(rng.uniform(2, seconds - 2) for _ in range(2))
    while faulty():
        await asyncio.sleep(rng.uniform(0.2, 1.2))
        if partitions and time.monotonic() - start >= partitions[0]:
            partitions.pop(0)
            partitioned = True
            say("partition (cut %d)" % cut_all())
            await asyncio.sleep(1.0)
            partitioned = False
            say("partition over")
        elif faulty():
            say("cut %d" % cut_all())
    say("healed")


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    say("listening")
    async with server:
        await chaos()
        await server.serve_forever()


asyncio.run(main())
