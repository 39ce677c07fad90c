"""Python peer of the TCP echo benchmark (bench/echo.sh): asyncio streams, as in the
asyncio docs' echo server. Usage: echo_asyncio.py [--uvloop] PORT"""
import asyncio
import signal
import sys


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(16384)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, server.close)
    print(f"listening on {port}", flush=True)
    try:
        await server.serve_forever()
    except asyncio.CancelledError:
        pass


if __name__ == "__main__":
    ports = [int(a) for a in sys.argv[1:] if a.isdigit()]
    port = ports[0] if ports else 8888
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    asyncio.run(main(port))
