#!/usr/bin/env python3
"""Redis Cluster pub/sub cost, sharded (SPUBLISH/SSUBSCRIBE) against plain (PUBLISH/SUBSCRIBE): a design input for
issue 23's cluster mode, measured on Redis alone (Flock has no cluster mode yet; docs/BENCHMARKS.md).

Starts a 3-master cluster from redis-server processes on free loopback ports (redis-cli --cluster create), then for
each mode in turn: one subscriber connection per master, subscribed to the room channels flock:{<room>}:broadcast
whose slot that master owns; one publisher connection per master, publishing to the channels that master owns, at
--rate messages/s in total for --seconds. Reports, per master, the CPU it used (INFO cpu) per million messages, and
how many messages the subscribers received; and, as the reference in the same run, one standalone Redis carrying
the same channels with PUBLISH/SUBSCRIBE (what Flock runs on today). Loopback only; every loop is bounded by --seconds and a drain timeout.

  bench/cluster-pubsub.py [--rooms 300] [--rate 20000] [--seconds 15] [--payload 120] [--runs 3]
"""
import argparse, os, shutil, socket, statistics, subprocess, sys, tempfile, time


def crc16(data: bytes) -> int:  # CRC16-XMODEM, Redis Cluster's key hash
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def slot(key: str) -> int:
    s = key.find('{')
    if s >= 0:
        e = key.find('}', s + 1)
        if e > s + 1:
            key = key[s + 1:e]
    return crc16(key.encode()) % 16384


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def encode(*args) -> bytes:
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


def cmd(port, *args):
    out = subprocess.run(['redis-cli', '-p', str(port)] + [str(a) for a in args], capture_output=True, text=True, timeout=10)
    return out.stdout


def cpu(port) -> float:
    info = cmd(port, 'INFO', 'cpu')
    vals = dict(line.split(':', 1) for line in info.splitlines() if ':' in line)
    return float(vals['used_cpu_sys']) + float(vals['used_cpu_user'])


class Sub:
    """A subscriber connection that counts the messages it receives (counts '$' headers of the payload lines)."""

    def __init__(self, port, command, channels):
        self.sock = socket.create_connection(('127.0.0.1', port))
        # SSUBSCRIBE takes channels of one slot only (CROSSSLOT otherwise): one command per channel, pipelined
        self.sock.sendall(b''.join(encode(command, c) for c in channels) if command == 'SSUBSCRIBE'
                          else encode(command, *channels))
        self.received = 0
        self.marker = b'message\r\n'  # both "message" and "smessage" end so

    def drain(self, seconds):
        self.sock.settimeout(seconds)
        tail = b''  # a marker split over two reads: the last len-1 bytes cannot hold a whole one
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    return
                data = tail + chunk
                self.received += data.count(self.marker)
                tail = data[-(len(self.marker) - 1):]
        except OSError:  # the timeout, or the socket closed at the end of the mode
            return


def run_mode(ports, owners, rooms, rate, seconds, payload, sharded):
    pub_cmd, sub_cmd = (b'SPUBLISH', 'SSUBSCRIBE') if sharded else (b'PUBLISH', 'SUBSCRIBE')
    channels = {p: [c for c in rooms if owners[c] == p] for p in ports}
    subs = [Sub(p, sub_cmd, channels[p]) for p in ports if channels[p]]
    time.sleep(0.5)
    for s in subs:
        s.drain(0.2)
        s.received = 0
    import threading
    stop = threading.Event()
    threads = [threading.Thread(target=s.drain, args=(seconds + 5,), daemon=True) for s in subs]
    for t in threads:
        t.start()
    pubs = {p: socket.create_connection(('127.0.0.1', p)) for p in ports}
    readers = []
    def discard(sock):  # the publishers' replies (the receiver counts), until the socket closes
        try:
            while not stop.is_set() and sock.recv(1 << 20):
                pass
        except OSError:
            pass
    for sock in pubs.values():
        t = threading.Thread(target=discard, args=(sock,), daemon=True)
        t.start()
        readers.append(t)
    body = b'x' * payload
    before = {p: cpu(p) for p in ports}
    sent = 0
    t0 = time.time()
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    i = 0
    while time.time() - t0 < seconds:
        batches = {p: [] for p in ports}
        for _ in range(per_tick):
            c = rooms[i % len(rooms)]
            i += 1
            batches[owners[c]].append(encode(pub_cmd, c, body))
        for p, b in batches.items():
            if b:
                pubs[p].sendall(b''.join(b))
        sent += per_tick
        delay = t0 + sent / rate - time.time()
        if delay > 0:
            time.sleep(delay)
    elapsed = time.time() - t0
    time.sleep(1.0)
    after = {p: cpu(p) for p in ports}
    stop.set()
    received = sum(s.received for s in subs)
    for s in subs:
        s.sock.close()
    for sock in pubs.values():
        sock.close()
    used = {p: after[p] - before[p] for p in ports}
    return sent, elapsed, received, used


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rooms', type=int, default=300)
    ap.add_argument('--rate', type=int, default=20000)
    ap.add_argument('--seconds', type=float, default=15)
    ap.add_argument('--payload', type=int, default=120)
    ap.add_argument('--runs', type=int, default=3)
    a = ap.parse_args()
    if not shutil.which('redis-server') or not shutil.which('redis-cli'):
        sys.exit('redis-server and redis-cli are needed')
    d = tempfile.mkdtemp(prefix='flock-cluster-pubsub.')
    procs, ports = [], []
    try:
        for _ in range(3):
            p, bus = free_port(), free_port()
            procs.append(subprocess.Popen(['redis-server', '--port', str(p), '--cluster-port', str(bus), '--bind', '127.0.0.1',
                                           '--cluster-enabled', 'yes', '--cluster-config-file', f'{d}/nodes-{p}.conf',
                                           '--save', '', '--appendonly', 'no', '--dir', d, '--protected-mode', 'no'],
                                          stdout=open(f'{d}/{p}.log', 'w'), stderr=subprocess.STDOUT))
            ports.append(p)
        for p in ports:
            for _ in range(100):
                if 'PONG' in cmd(p, 'PING'):
                    break
                time.sleep(0.05)
        subprocess.run(['redis-cli', '--cluster', 'create'] + [f'127.0.0.1:{p}' for p in ports] + ['--cluster-yes'],
                       capture_output=True, timeout=60, check=True)
        for _ in range(200):
            if all('cluster_state:ok' in cmd(p, 'CLUSTER', 'INFO') for p in ports):
                break
            time.sleep(0.1)
        # slot -> master port, from CLUSTER SLOTS (redis-cli prints a flat list: start, end, ip, port, id, ...)
        ranges = []
        lines = cmd(ports[0], 'CLUSTER', 'SLOTS').split('\n')
        for i in range(0, len(lines) - 4):
            if lines[i].isdigit() and lines[i + 1].isdigit() and lines[i + 2] == '127.0.0.1' and lines[i + 3].isdigit():
                if int(lines[i + 3]) in ports and int(lines[i]) <= int(lines[i + 1]):
                    ranges.append((int(lines[i]), int(lines[i + 1]), int(lines[i + 3])))
        def owner(ch):
            s = slot(ch)
            return next(p for lo, hi, p in ranges if lo <= s <= hi)
        rooms = [f'flock:{{r{i}}}:broadcast' for i in range(a.rooms)]
        owners = {c: owner(c) for c in rooms}
        print(f'{a.rooms} rooms over the masters: ' + ', '.join(f'{p}: {sum(1 for c in rooms if owners[c] == p)}' for p in ports))
        # the reference: one standalone Redis (what Flock runs on today), the same channels, PUBLISH/SUBSCRIBE
        single = free_port()
        procs.append(subprocess.Popen(['redis-server', '--port', str(single), '--bind', '127.0.0.1', '--save', '',
                                       '--appendonly', 'no', '--dir', d], stdout=open(f'{d}/single.log', 'w'),
                                      stderr=subprocess.STDOUT))
        for _ in range(100):
            if 'PONG' in cmd(single, 'PING'):
                break
            time.sleep(0.05)
        # idle cost: a cluster node's cron and bus gossip use CPU without any traffic; measured over the same
        # time, so the per-message figures can be read with and without it
        before = {p: cpu(p) for p in ports + [single]}
        time.sleep(a.seconds)
        idle = {p: cpu(p) - before[p] for p in ports + [single]}
        print(f'idle over {a.seconds:.0f} s: cluster {sum(idle[p] for p in ports):.2f} CPU-s (3 masters), one Redis'
              f' {idle[single]:.2f} CPU-s')
        results = {True: [], False: []}
        reference = []
        for run in range(a.runs):
            sent, elapsed, received, used = run_mode([single], {c: single for c in rooms}, rooms, a.rate, a.seconds,
                                                     a.payload, False)
            reference.append((used[single] / sent * 1e6, received / sent, (used[single] - idle[single]) / sent * 1e6))
            print(f'run {run + 1} one Redis, PUBLISH: {sent / elapsed:8.0f} msg/s, received {received}/{sent}, Redis CPU '
                  f'{reference[-1][0]:.2f} s per 1M messages')
            for sharded in (True, False):
                sent, elapsed, received, used = run_mode(ports, owners, rooms, a.rate, a.seconds, a.payload, sharded)
                total = sum(used.values())
                per_m = total / sent * 1e6
                shares = [used[p] / total * 100 for p in ports]
                name = 'SPUBLISH' if sharded else 'PUBLISH'
                print(f'run {run + 1} {name:8s}: {sent / elapsed:8.0f} msg/s, received {received}/{sent}, Redis CPU '
                      f'{per_m:.2f} s per 1M messages, shares ' + ' / '.join(f'{s:.0f}%' for s in shares))
                results[sharded].append((per_m, shares, received / sent,
                                         (total - sum(idle[p] for p in ports)) / sent * 1e6))
        for sharded in (True, False):
            rows = results[sharded]
            name = 'SPUBLISH' if sharded else 'PUBLISH'
            med = statistics.median(r[0] for r in rows)
            share_ranges = [f'{min(r[1][k] for r in rows):.0f}-{max(r[1][k] for r in rows):.0f}%' for k in range(3)]
            print(f'median {name:8s}: {med:.2f} Redis CPU-s per 1M messages; per-master shares {", ".join(share_ranges)};'
                  f' delivered {statistics.median(r[2] for r in rows):.3f}')
        r_med = statistics.median(r[0] for r in reference)
        print(f'median one Redis: {r_med:.2f} Redis CPU-s per 1M messages (the reference)')
        s_med = statistics.median(r[0] for r in results[True])
        p_med = statistics.median(r[0] for r in results[False])
        print(f'PUBLISH / SPUBLISH: {p_med / s_med:.2f}x the Redis CPU; SPUBLISH / one Redis: {s_med / r_med:.2f}x;'
              f' PUBLISH / one Redis: {p_med / r_med:.2f}x')
        rn = statistics.median(r[2] for r in reference)
        sn = statistics.median(r[3] for r in results[True])
        pn = statistics.median(r[3] for r in results[False])
        print(f'without the idle cost: one Redis {rn:.2f}, SPUBLISH {sn:.2f} ({sn / rn:.2f}x), PUBLISH {pn:.2f}'
              f' ({pn / rn:.2f}x) Redis CPU-s per 1M messages')
    finally:
        for pr in procs:
            pr.kill()
            pr.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main()
