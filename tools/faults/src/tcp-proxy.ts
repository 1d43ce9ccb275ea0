/**
 * An in-process TCP proxy on 127.0.0.1 between one service and the broker or Postgres, for network faults:
 * added latency (every chunk held `latencyMs` in each direction, order kept), and a partition (nothing
 * forwarded and new connections left hanging until healed: packets dropped, as a cut link or a firewall does —
 * not a clean reset the client could react to at once).
 */
import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream?: Socket;
}

export class TcpProxy {
  private server?: Server;
  private readonly links = new Set<Link>();
  private partitioned = false;
  /** Connections accepted while partitioned, connected upstream at the heal. */
  private readonly waiting: Link[] = [];
  latencyMs = 0;

  /** `listenPort` 0: any free port (read it back from {@link listenPort} after start). */
  constructor(private port: number, readonly targetPort: number) {}

  get listenPort(): number {
    return this.port;
  }

  start(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => {
        this.port = (this.server!.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** From now on nothing passes, in either direction, on open or new connections. */
  partition(): void {
    this.partitioned = true;
    for (const link of this.links) {
      link.client.pause();
      link.upstream?.pause();
    }
  }

  heal(): void {
    this.partitioned = false;
    for (const link of this.links) {
      if (!link.upstream) continue; // still connecting: it resumes when its pipes exist (resuming before would drop data)
      link.client.resume();
      link.upstream.resume();
    }
    for (const link of this.waiting.splice(0)) this.connectUpstream(link);
  }

  async stop(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream?.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    const link: Link = { client };
    this.links.add(link);
    client.on('error', () => undefined);
    client.on('close', () => {
      link.upstream?.destroy();
      this.links.delete(link);
    });
    client.pause();
    if (this.partitioned) this.waiting.push(link);
    else this.connectUpstream(link);
  }

  private connectUpstream(link: Link): void {
    if (link.client.destroyed) return;
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    link.upstream = upstream;
    upstream.on('error', () => link.client.destroy());
    upstream.on('close', () => link.client.destroy());
    upstream.on('connect', () => {
      this.pipe(link.client, upstream);
      this.pipe(upstream, link.client);
      if (this.partitioned) upstream.pause();
      else link.client.resume();
    });
  }

  /** Forwards `from` → `to` in order, each chunk `latencyMs` after it arrived (never before the chunk ahead of it). */
  private pipe(from: Socket, to: Socket): void {
    const queue: Array<{ due: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const flush = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0].due <= now) {
        const { chunk } = queue.shift()!;
        if (!to.destroyed) to.write(chunk); // a chunk for a closed socket is dropped, as the network would
      }
      if (queue.length > 0) timer = setTimeout(flush, queue[0].due - now);
      else if (ended) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      const now = Date.now();
      queue.push({ due: Math.max(now + this.latencyMs, queue.at(-1)?.due ?? 0), chunk });
      if (!timer) flush();
    });
    from.on('end', () => {
      ended = true;
      if (!timer) flush();
    });
  }
}
