/**
 * A loopback TCP server that accepts connections, reads and discards whatever arrives and never
 * answers: the stand-in for a federation peer that is unreachable in the slow way (connect works,
 * nothing comes back), so a bench can name "other servers" without a single packet leaving the
 * machine. Closing it destroys every connection it holds.
 */
import { Server, Socket, createServer } from 'node:net';

export class BlackholeServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted so far. */
  accepted = 0;

  private constructor() {
    this.server = createServer((socket) => {
      this.accepted++;
      this.sockets.add(socket);
      socket.resume(); // read and drop: the peer's writes never block
      socket.on('error', () => socket.destroy()); // a reset by the caller is the normal end here
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.maxConnections = 5000;
  }

  static async listen(): Promise<{ blackhole: BlackholeServer; url: string }> {
    const blackhole = new BlackholeServer();
    await new Promise<void>((resolveListen, reject) => {
      blackhole.server.once('error', reject);
      blackhole.server.listen(0, '127.0.0.1', () => resolveListen());
    });
    const address = blackhole.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return { blackhole, url: `http://127.0.0.1:${port}` };
  }

  /** Connections open right now. */
  get open(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}
