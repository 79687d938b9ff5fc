import { BODY_HEADER_BYTES, messageBody, readBody } from './message-body';

const id = { runTag: 77, worker: 3, slot: 1234, sender: 42 };
const size = { min: 64, max: 512 };

describe('message bodies: what --verify checks every decrypted message against', () => {
  it('reads back the sending device of the very send it was sealed for', () => {
    const body = messageBody(id, 300);
    expect(body.length).toBe(300);
    expect(readBody(body, { runTag: 77, worker: 3, slot: 1234 }, size)).toEqual({ sender: 42 });
  });

  it('tells another send, another run and another worker apart', () => {
    const body = messageBody(id, 100);
    expect(readBody(body, { runTag: 77, worker: 3, slot: 1235 }, size)).toEqual({ mismatch: 'another send' });
    expect(readBody(body, { runTag: 78, worker: 3, slot: 1234 }, size)).toEqual({ mismatch: 'another send' });
    expect(readBody(body, { runTag: 77, worker: 2, slot: 1234 }, size)).toEqual({ mismatch: 'another send' });
  });

  it('finds a changed filler byte, a wrong size and foreign content', () => {
    const body = Buffer.from(messageBody(id, 100));
    body[BODY_HEADER_BYTES + 10] ^= 1;
    expect(readBody(body, { runTag: 77, worker: 3, slot: 1234 }, size)).toEqual({ mismatch: 'content' });
    expect(readBody(messageBody(id, 600), { runTag: 77, worker: 3, slot: 1234 }, size)).toEqual({ mismatch: 'size' });
    expect(readBody(Buffer.from('hello, this is not a load-test message'), { runTag: 77, worker: 3, slot: 1234 }, size)).toEqual({
      mismatch: 'not a load-test message',
    });
  });
});
