"""`serve --processes N`: N server processes behind one port, connections dealt in turn.

uvicorn's own workers share the listening socket, and each keeps the connections it accepts
first: 32 keep-alive connections opened at once came out 20/12 or 23/9, and the process with
23 answered 2.5 times slower than the other (p99 58 ms where an even split gives 47). Here
the parent accepts every connection and hands it to the workers in turn, as Node's cluster
module does on Linux for the same reason. A worker is a uvicorn Server that listens on
nothing: it serves the connections it is handed (`connect_accepted_socket`) with uvicorn's
own HTTP protocol, and answers as `serve` with one process would, from its own Converter.

The parent restarts a worker that dies, and on SIGINT or SIGTERM stops accepting and lets
each worker finish what it is answering.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys

import uvicorn

from .server import SERVE_ENV

__all__ = ["serve_processes"]

HANDOFF_BYTE = b"c"  # the message each handed-over file descriptor rides on


def serve_processes(processes: int, host: str, port: int, settings: dict,
                    keep_alive: int) -> None:
    """Listen on host:port and deal the connections to `processes` workers until SIGINT or
    SIGTERM. `settings`: what each worker's app loads (server.app_from_env)."""
    if not hasattr(socket, "send_fds"):
        raise ValueError("serving from several processes hands connections over Unix "
                         "sockets: run one process (--processes 1) on this system")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # ::1 as uvicorn takes it
    listener = socket.create_server((host, port), family=family, backlog=2048)
    env = {**os.environ, SERVE_ENV: json.dumps(settings)}
    workers = [_Worker(env, keep_alive) for _ in range(processes)]
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    listener.settimeout(0.5)  # to notice a signal or a dead worker
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"serving on http://{shown}:{port} with {processes} processes (pids "
          f"{', '.join(str(w.process.pid) for w in workers)})", file=sys.stderr, flush=True)
    turn = itertools.cycle(range(processes))
    try:
        while not stopping:
            for i, worker in enumerate(workers):
                if worker.process.poll() is not None:
                    print(f"worker {worker.process.pid} exited with status "
                          f"{worker.process.returncode}; starting another", file=sys.stderr,
                          flush=True)
                    worker.close()
                    workers[i] = _Worker(env, keep_alive)
            try:
                connection, _ = listener.accept()
            except (TimeoutError, InterruptedError):
                continue
            with connection:
                for _ in range(processes):  # the next worker that takes it
                    if workers[next(turn)].hand(connection):
                        break
    finally:
        listener.close()
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.wait()


class _Worker:
    """One worker process and the socket its connections are handed over on."""

    def __init__(self, env: dict, keep_alive: int):
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pinyin_hanzi.runtime.cluster", str(theirs.fileno()),
             str(keep_alive)], pass_fds=[theirs.fileno()], env=env)
        theirs.close()

    def hand(self, connection: socket.socket) -> bool:
        """Pass the connection to this worker; False when it cannot take it (exited)."""
        try:
            socket.send_fds(self.channel, [HANDOFF_BYTE], [connection.fileno()])
            return True
        except OSError:
            return False

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30.0):
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.close()

    def close(self):
        self.channel.close()


def _worker_main(channel_fd: int, keep_alive: int) -> None:
    """A worker: serve the connections handed over on `channel_fd` until SIGTERM."""
    config = uvicorn.Config("pinyin_hanzi.runtime.server:app_from_env", factory=True,
                            timeout_keep_alive=keep_alive, access_log=False)
    channel = socket.socket(fileno=channel_fd)
    channel.setblocking(False)
    _HandedServer(config, channel).run()


class _HandedServer(uvicorn.Server):
    """uvicorn's Server with no listening socket: it serves the connections it is handed."""

    def __init__(self, config, channel: socket.socket):
        super().__init__(config)
        self.channel = channel

    async def startup(self, sockets=None):
        await super().startup(sockets=[])  # the app's lifespan: the model loads here
        if not self.started:
            return
        loop = asyncio.get_running_loop()
        config = self.config

        def protocol():  # as uvicorn's own startup makes one per connection
            return config.http_protocol_class(config=config, server_state=self.server_state,
                                              app_state=self.lifespan.state, _loop=loop)

        def take():
            while True:  # one message per connection (SOCK_SEQPACKET keeps them apart)
                try:
                    message, fds, _, _ = socket.recv_fds(self.channel, 16, 1)
                except BlockingIOError:
                    return
                except OSError:
                    message, fds = b"", []
                if not message:  # the parent is gone: finish, as on SIGTERM
                    loop.remove_reader(self.channel)
                    self.should_exit = True
                    return
                for fd in fds:
                    connection = socket.socket(fileno=fd)
                    connection.setblocking(False)
                    loop.create_task(loop.connect_accepted_socket(protocol, connection))

        loop.add_reader(self.channel, take)


if __name__ == "__main__":
    _worker_main(int(sys.argv[1]), int(sys.argv[2]))
