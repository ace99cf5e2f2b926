// Helpers around the official socket.io-client: connect, wait for events, acked emits.
import { io } from 'socket.io-client';

/** Connects to a namespace; resolves once connected, rejects with the connect_error. */
export function connect(url, nsp, auth, opts = {}) {
  const socket = io(url + nsp, { auth, transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
  const ready = new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
  return { socket, ready };
}

/**
 * Resolves with the payload of the first `event` matching `pred`. Register it
 * before the action that causes the event. No deadline of its own: the test
 * runner's timeout bounds it.
 */
export function next(socket, event, pred = () => true) {
  return new Promise((resolve) => {
    const on = (data) => {
      if (pred(data)) {
        socket.off(event, on);
        resolve(data);
      }
    };
    socket.on(event, on);
  });
}

/** Emits with an ack; resolves with the ack's `data`, throws on `{ok:false}`. */
export async function call(socket, event, payload) {
  const ack = await socket.timeout(15000).emitWithAck(event, payload);
  if (!ack || ack.ok !== true) throw new Error(`${event} failed: ${JSON.stringify(ack)}`);
  return ack.data;
}

/** Emits with an ack and returns the raw ack (for checking refusals). */
export function rawCall(socket, event, payload) {
  return socket.timeout(15000).emitWithAck(event, payload);
}
