import WebSocket from 'ws';

/**
 * The new device's side of DESIGN §8: an unauthenticated socket on which the relay gives a
 * single-use provisioning address and then delivers the one sealed message sent to it.
 */
export class ProvisioningSocket {
  private constructor(
    private readonly socket: WebSocket,
    readonly provisioningAddress: string,
    private readonly message: Promise<string>,
  ) {}

  static open(url: string): Promise<ProvisioningSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      let resolveMessage!: (body: string) => void;
      let rejectMessage!: (error: Error) => void;
      const message = new Promise<string>((res, rej) => {
        resolveMessage = res;
        rejectMessage = rej;
      });
      message.catch(() => undefined);
      socket.on('unexpected-response', (_request, response) => {
        response.resume();
        socket.terminate();
        reject(new Error(`the relay refused the provisioning socket: HTTP ${response.statusCode}`));
      });
      socket.on('error', (error) => reject(error));
      socket.on('message', (data) => {
        let frame: { type?: string; address?: string; body?: string };
        try {
          frame = JSON.parse(data.toString()) as typeof frame;
        } catch {
          return;
        }
        if (frame.type === 'provisioning-address' && typeof frame.address === 'string') {
          resolve(new ProvisioningSocket(socket, frame.address, message));
        } else if (frame.type === 'provisioning-message' && typeof frame.body === 'string') {
          resolveMessage(frame.body);
        }
      });
      socket.on('close', (code) => {
        rejectMessage(new Error(`the provisioning socket closed (${code}) before a device approved the link`));
        reject(new Error(`the provisioning socket closed (${code}) before it got an address`));
      });
    });
  }

  /** The sealed body, once the primary device sent it. */
  nextMessage(): Promise<string> {
    return this.message;
  }

  close(): void {
    this.socket.close(1000);
  }
}
