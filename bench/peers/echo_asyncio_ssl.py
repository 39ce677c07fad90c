"""Python peer of the TLS echo benchmark (bench/tls.sh): asyncio streams with ssl=,
as echo_asyncio.py. Usage: echo_asyncio_ssl.py PORT CERT KEY"""
import asyncio
import signal
import ssl
import sys


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(16384)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    writer.close()


async def main(port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024, ssl=ctx)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, server.close)
    print(f"listening on {port}", flush=True)
    try:
        await server.serve_forever()
    except asyncio.CancelledError:
        pass


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
