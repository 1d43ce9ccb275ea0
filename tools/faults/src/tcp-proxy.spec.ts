import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';
import { TcpProxy } from './tcp-proxy';

/** An echo server on a free port of 127.0.0.1. */
async function echoServer(): Promise<Server> {
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}

function received(socket: Socket): { text: () => string } {
  let text = '';
  socket.on('data', (chunk) => { text += chunk.toString(); });
  return { text: () => text };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('TcpProxy (network faults of the fault suite)', () => {
  let echo: Server;
  let proxy: TcpProxy;
  beforeEach(async () => {
    echo = await echoServer();
    proxy = new TcpProxy(0, (echo.address() as AddressInfo).port);
    await proxy.start();
  });
  afterEach(async () => {
    await proxy.stop();
    await new Promise((resolve) => echo.close(resolve));
  });

  const connect = async () => {
    const socket = createConnection({ host: '127.0.0.1', port: proxy.listenPort });
    await new Promise((resolve) => socket.once('connect', resolve));
    return socket;
  };

  it('forwards both ways, delays by the latency, and keeps the order when the latency drops', async () => {
    const socket = await connect();
    const got = received(socket);
    proxy.latencyMs = 300;
    const sentAt = Date.now();
    socket.write('ab');
    await new Promise((resolve) => setTimeout(resolve, 50)); // 'ab' reached the proxy and waits there
    proxy.latencyMs = 0;
    socket.write('c'); // must still come after 'ab'
    await until(() => got.text().length === 3);
    expect(got.text()).toBe('abc');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(290);
    socket.destroy();
  });

  it('passes nothing while partitioned, on open and new connections, and everything once healed', async () => {
    const open = await connect();
    const fromOpen = received(open);
    proxy.partition();
    open.write('held');
    const late = createConnection({ host: '127.0.0.1', port: proxy.listenPort });
    const fromLate = received(late);
    late.write('later');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([fromOpen.text(), fromLate.text()]).toEqual(['', '']);
    proxy.heal();
    await until(() => fromOpen.text() === 'held' && fromLate.text() === 'later');
    open.destroy();
    late.destroy();
  });

  it('drops what is queued for a connection whose other side died (a crashed service), and goes on serving others', async () => {
    const dying = await connect();
    proxy.latencyMs = 100;
    dying.write('for nobody');
    dying.destroy(); // the echo's answer, and anything queued for it, has nowhere to go
    await new Promise((resolve) => setTimeout(resolve, 300));
    proxy.latencyMs = 0;
    const other = await connect();
    const got = received(other);
    other.write('still served');
    await until(() => got.text() === 'still served');
    other.destroy();
  });
});
