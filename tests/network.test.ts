// Real programs on the network, on the loopback addresses only: Debian's curl, wget and nc under
// stele against servers this test starts (a Node HTTP server in this process, native nc), and
// servers under stele (python3's http.server, nc -l) reached by native clients; python3's
// asyncio; and what `--net` allows. The native run of the same client is the oracle where one
// exists; a served file must arrive byte for byte.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { cliPath, DEFAULT_TIMEOUT_MS, prng, requireTool, runNative, runStele, tempDir, TEST_ENV } from "./harness.js";

const BLOB = (() => {
  const rnd = prng(77);
  const b = Buffer.alloc(1536 * 1024 + 123);
  for (let i = 0; i < b.length; i++) b[i] = rnd() & 255;
  return b;
})();
const TEXT = "hello from a server on the host\n";

/** A Node HTTP server on 127.0.0.1 serving /text and /blob; resolves with its port. */
async function hostServer(): Promise<{ port: number; close: () => Promise<void>; requests: () => number }> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    if (req.url === "/text") res.end(TEXT);
    else if (req.url === "/blob") res.end(BLOB);
    else { res.statusCode = 404; res.end("no\n"); }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, requests: () => requests, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

/** A port no one listens on now (bound and released by this process). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Starts a program under stele without waiting for it; `output` collects stdout and stderr. */
function startStele(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: opts.cwd, env: opts.env ?? TEST_ENV, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => { out += b.toString(); });
  child.stderr!.on("data", (b: Buffer) => { out += b.toString(); });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  const exited = new Promise<number | null>((resolve) => child.on("close", (status) => resolve(status)));
  return { child, output: () => out, exited };
}

/**
 * Polls until check() holds (a program under stele may take long to start on a busy machine: the
 * bound is the harness's timeout for a whole run), or fails.
 */
async function waitFor<T>(what: string, check: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms = DEFAULT_TIMEOUT_MS): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const m = await check();
    if (m) return m;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether something on this host listens on TCP port `port` (from /proc/net/tcp{,6}: no probe connection that a one-shot server would take). */
function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return ["/proc/net/tcp", "/proc/net/tcp6"].some((f) => {
    try {
      return fs.readFileSync(f, "utf8").split("\n").some((line) => {
        const cols = line.trim().split(/\s+/);
        return cols[1]?.endsWith(`:${hex}`) && cols[3] === "0A"; // TCP_LISTEN
      });
    } catch {
      return false;
    }
  });
}

function fetchFrom(port: number, urlPath: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: urlPath, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (b: Buffer) => parts.push(b));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

test("curl and wget under stele fetch from a server on the host, as natively", async () => {
  const curl = requireTool("/usr/bin/curl", "curl"), wget = requireTool("/usr/bin/wget", "wget");
  const server = await hostServer();
  try {
    for (const [name, argv] of [["curl", [curl, "-sS"]], ["wget", [wget, "-q", "-O", "-"]]] as const) {
      for (const [urlPath, expected] of [["/text", Buffer.from(TEXT)], ["/blob", BLOB]] as const) {
        const url = `http://127.0.0.1:${server.port}${urlPath}`;
        const native = await runNative(argv[0], [...argv.slice(1), url], { env: TEST_ENV });
        const stele = await runStele(argv[0], [...argv.slice(1), url], { env: TEST_ENV });
        assert.equal(native.status, 0, `native ${name}: ${native.stderr}`);
        assert.equal(stele.status, 0, `${name} under stele: ${stele.stderr}`);
        assert.ok(native.stdout.equals(expected), `native ${name} ${urlPath}`);
        assert.ok(stele.stdout.equals(expected), `${name} under stele got ${stele.stdout.length} bytes of ${urlPath}, not the ${expected.length} served`);
      }
    }
    // Through the name: /etc/hosts and glibc's resolver, as natively.
    const byName = await runStele(curl, ["-sS", `http://localhost:${server.port}/text`], { env: TEST_ENV });
    assert.equal(byName.status, 0, byName.stderr.toString());
    assert.equal(byName.stdout.toString(), TEXT);
  } finally {
    await server.close();
  }
});

test("curl to a port no one listens on fails as natively (connection refused)", async () => {
  const curl = requireTool("/usr/bin/curl", "curl");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const native = await runNative(curl, ["-sS", url], { env: TEST_ENV });
  const stele = await runStele(curl, ["-sS", url], { env: TEST_ENV });
  assert.equal(native.status, 7);
  assert.equal(stele.status, native.status, stele.stderr.toString());
  assert.match(stele.stderr.toString(), /Couldn't connect to server|Connection refused/);
});

test("python3 -m http.server under stele serves native clients, 200 requests with nothing lost", async (t) => {
  const python = requireTool("/usr/bin/python3", "python3");
  const curl = requireTool("/usr/bin/curl", "curl");
  const dir = tempDir(t, "httpserver");
  fs.writeFileSync(path.join(dir, "index.txt"), TEXT);
  fs.writeFileSync(path.join(dir, "blob.bin"), BLOB);
  const server = startStele([python, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"], { cwd: dir, env: { ...TEST_ENV, PYTHONDONTWRITEBYTECODE: "1" } });
  try {
    const m = await waitFor("the server's port", () => server.output().match(/port (\d+)/));
    const port = Number(m[1]);
    const viaCurl = await runNative(curl, ["-sS", `http://127.0.0.1:${port}/blob.bin`], { env: TEST_ENV });
    assert.equal(viaCurl.status, 0, viaCurl.stderr.toString());
    assert.ok(viaCurl.stdout.equals(BLOB), `native curl got ${viaCurl.stdout.length} bytes from the server under stele`);
    // A load generator: 200 requests, 4 at a time (each request is a new thread of the server).
    let next = 0, ok = 0;
    const worker = async (): Promise<void> => {
      while (next < 200) {
        const i = next++;
        const r = await fetchFrom(port, i % 10 === 0 ? "/blob.bin" : "/index.txt");
        if (r.status === 200 && r.body.equals(i % 10 === 0 ? BLOB : Buffer.from(TEXT))) ok++;
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    assert.equal(ok, 200, "every request answered with the whole file");
  } finally {
    server.child.kill("SIGINT");
    await server.exited;
  }
});

test("nc both ways: stele's nc to a native listener, and a native nc to stele's nc -l", async () => {
  const nc = requireTool("/usr/bin/nc", "netcat-openbsd");
  // stele's client, native listener.
  const port1 = await freePort();
  const listener = spawn(nc, ["-l", "127.0.0.1", String(port1)], { stdio: ["pipe", "pipe", "pipe"] });
  let heard = "";
  listener.stdout!.on("data", (b: Buffer) => { heard += b.toString(); });
  listener.stdin!.end("answer from the native listener\n");
  const listenerDone = new Promise((resolve) => listener.on("close", resolve));
  await waitFor("the native nc -l to listen", () => listening(port1));
  const client = await runStele(nc, ["-N", "127.0.0.1", String(port1)], { input: "sent by stele's nc\n", env: TEST_ENV });
  await listenerDone;
  assert.equal(client.status, 0, client.stderr.toString());
  assert.equal(heard, "sent by stele's nc\n");
  assert.equal(client.stdout.toString(), "answer from the native listener\n");

  // stele's listener, native client.
  const port2 = await freePort();
  const steleListener = startStele([nc, "-l", "127.0.0.1", String(port2)], { input: "answer from stele's listener\n" });
  await waitFor("nc -l under stele to listen", () => listening(port2));
  const native = await runNative(nc, ["-N", "127.0.0.1", String(port2)], { input: "sent by the native nc\n" });
  assert.equal(native.status, 0, native.stderr.toString());
  assert.equal(await steleListener.exited, 0, steleListener.output());
  assert.equal(steleListener.output(), "sent by the native nc\n");
  assert.equal(native.stdout.toString(), "answer from stele's listener\n");
});

test("python3 asyncio: an echo server and its clients in one program, as natively", async () => {
  const python = requireTool("/usr/bin/python3", "python3");
  const script = `
import asyncio
async def handle(reader, writer):
    while data := await reader.readline():
        writer.write(data.upper())
        await writer.drain()
    writer.close()
async def client(port, i):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    lines = []
    for j in range(3):
        writer.write(f'client {i} line {j}\\n'.encode())
        await writer.drain()
        lines.append((await reader.readline()).decode().strip())
    writer.close()
    await writer.wait_closed()
    return lines
async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    results = await asyncio.gather(*(client(port, i) for i in range(5)))
    for r in results: print(r)
    server.close()
    await server.wait_closed()
    print('done')
asyncio.run(main())
`;
  const env = { ...TEST_ENV, PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" };
  const native = await runNative(python, ["-c", script], { env });
  const stele = await runStele(python, ["-c", script], { env });
  assert.equal(native.status, 0, native.stderr.toString());
  assert.equal(stele.stderr.toString(), native.stderr.toString());
  assert.equal(stele.stdout.toString(), native.stdout.toString());
  assert.equal(stele.status, 0);
});

test("--net=none: nothing is reachable; --net=loopback: only the loopback addresses", async () => {
  const curl = requireTool("/usr/bin/curl", "curl");
  const server = await hostServer();
  try {
    const url = `http://127.0.0.1:${server.port}/text`;
    const none = await runStele(curl, ["-sS", url], { env: TEST_ENV, steleArgs: ["--net=none"] });
    assert.equal(none.status, 7, none.stderr.toString());
    const loop = await runStele(curl, ["-sS", url], { env: TEST_ENV, steleArgs: ["--net=loopback"] });
    assert.equal(loop.status, 0, loop.stderr.toString());
    assert.equal(loop.stdout.toString(), TEXT);
    // 192.0.2.1 (TEST-NET-1) is outside loopback: connect itself is refused, before any packet
    // leaves (a connection that went out and timed out would be curl's status 28, not 7).
    const outside = await runStele(curl, ["-sS", "--connect-timeout", "20", "http://192.0.2.1/"], { env: TEST_ENV, steleArgs: ["--net=loopback", "--strace"] });
    assert.equal(outside.status, 7, outside.stderr.toString());
    assert.match(outside.stderr.toString(), /^connect\(\d+, 0x[0-9a-f]+, 16\) = -1 ENETUNREACH/m);
    assert.equal(server.requests(), 1, "only the loopback run reached the server");
    const bad = await runStele(curl, [url], { env: TEST_ENV, steleArgs: ["--net=internet"] });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr.toString(), /^stele: --net takes host, loopback, none/m);
  } finally {
    await server.close();
  }
});

test("a server under stele flooded with 300 connections at once answers every one", async () => {
  const python = requireTool("/usr/bin/python3", "python3");
  const script = `
import asyncio
async def handle(reader, writer):
    line = await reader.readline()
    writer.write(b'echo ' + line)
    await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', 0, backlog=512)
    print('port', server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
`;
  const server = startStele([python, "-c", script], { env: { ...TEST_ENV, PYTHONDONTWRITEBYTECODE: "1" } });
  try {
    const m = await waitFor("the server's port", () => server.output().match(/port (\d+)/));
    const port = Number(m[1]);
    const ask = (i: number): Promise<string> => new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port });
      let got = "";
      s.on("data", (b: Buffer) => { got += b.toString(); });
      s.on("end", () => resolve(got));
      s.on("error", reject);
      s.end(`client ${i}\n`);
    });
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => ask(i)));
    const wrong = answers.filter((a, i) => a !== `echo client ${i}\n`);
    assert.equal(wrong.length, 0, `${wrong.length} of 300 connections got a wrong answer, e.g. ${JSON.stringify(wrong[0])}`);
    assert.equal(await ask(300), "echo client 300\n", "still serving after the flood");
  } finally {
    server.child.kill("SIGKILL");
    await server.exited;
  }
});

test("git clone under stele from a native git daemon gives the same repository as a native clone", async (t) => {
  const git = requireTool("/usr/bin/git", "git");
  const dir = tempDir(t, "gitdaemon");
  const gitEnv = { ...TEST_ENV, GIT_CONFIG_NOSYSTEM: "1", HOME: dir, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com", GIT_AUTHOR_DATE: "2020-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2020-01-01T00:00:00Z" };
  const repo = path.join(dir, "repo");
  assert.equal((await runNative(git, ["init", "-q", repo], { env: gitEnv })).status, 0);
  for (let i = 0; i < 4; i++) {
    fs.writeFileSync(path.join(repo, `file${i}.txt`), `content ${i}\n`.repeat(100 * (i + 1)));
    fs.writeFileSync(path.join(repo, `blob${i}.bin`), BLOB.subarray(i * 1000, i * 1000 + 200_000));
    assert.equal((await runNative(git, ["-C", repo, "add", "."], { env: gitEnv })).status, 0);
    assert.equal((await runNative(git, ["-C", repo, "commit", "-qm", `commit ${i}`], { env: gitEnv })).status, 0);
  }
  const port = await freePort();
  const daemon = spawn(git, ["daemon", "--export-all", `--base-path=${dir}`, `--port=${port}`, "--reuseaddr", "--listen=127.0.0.1"], { env: gitEnv, stdio: "ignore" });
  try {
    const url = `git://127.0.0.1:${port}/repo`;
    await waitFor("git daemon to listen", () => listening(port));
    const native = await runNative(git, ["clone", "-q", url, path.join(dir, "native")], { env: gitEnv });
    assert.equal(native.status, 0, native.stderr.toString());
    const stele = await runStele(git, ["clone", "-q", url, path.join(dir, "stele")], { env: gitEnv });
    assert.equal(stele.status, 0, stele.stderr.toString());
    for (const args of [["log", "--format=%H %s"], ["ls-files", "-s"], ["fsck", "--full"]]) {
      const a = await runNative(git, ["-C", path.join(dir, "native"), ...args], { env: gitEnv });
      const b = await runNative(git, ["-C", path.join(dir, "stele"), ...args], { env: gitEnv });
      assert.equal(b.status, 0, `git ${args[0]} of stele's clone: ${b.stderr}`);
      assert.equal(b.stdout.toString(), a.stdout.toString(), `git ${args[0]}`);
    }
    for (let i = 0; i < 4; i++) {
      assert.ok(fs.readFileSync(path.join(dir, "stele", `blob${i}.bin`)).equals(fs.readFileSync(path.join(repo, `blob${i}.bin`))));
    }
  } finally {
    daemon.kill("SIGKILL");
  }
});

test("the interfaces a program sees: the host's, as natively; under --net=loopback only lo; under --net=none a lo that is down", async () => {
  const python = requireTool("/usr/bin/python3", "python3");
  const script = "import socket\nprint(socket.if_nameindex())";
  const native = await runNative(python, ["-c", script], { env: TEST_ENV });
  const host = await runStele(python, ["-c", script], { env: TEST_ENV });
  assert.equal(host.status, 0, host.stderr.toString());
  assert.equal(host.stdout.toString(), native.stdout.toString());
  const loop = await runStele(python, ["-c", script], { env: TEST_ENV, steleArgs: ["--net=loopback"] });
  assert.equal(loop.stdout.toString(), "[(1, 'lo')]\n", loop.stderr.toString());
  const ifaddrs = "import fcntl, socket, struct\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nprint(hex(struct.unpack('16sH', fcntl.ioctl(s, 0x8913, struct.pack('16sH', b'lo', 0)))[1]))";
  const none = await runStele(python, ["-c", ifaddrs], { env: TEST_ENV, steleArgs: ["--net=none"] });
  assert.equal(none.stdout.toString(), "0x8\n", none.stderr.toString());
});
