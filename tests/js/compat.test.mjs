// The official JavaScript socket.io-client (v4) against the real widget-server:
// every core event of the protocol works for a third-party client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, AGENT } from './lib/server.mjs';
import { connect, next, call } from './lib/socket.mjs';

let server;
const sockets = [];
before(async () => {
  server = await startServer('compat');
});
after(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
});

const open = async (nsp, auth) => {
  const { socket, ready } = connect(server.url, nsp, auth);
  sockets.push(socket);
  return ready;
};

test('a bad agent token is refused with connect_error "unauthorized"', async () => {
  const { socket, ready } = connect(server.url, '/agent', { token: 'not-a-token' });
  sockets.push(socket);
  await assert.rejects(ready, (err) => {
    assert.equal(err.message, 'unauthorized');
    return true;
  });
  assert.equal(socket.connected, false);
});

test('agent and visitor talk through the official client', async (t) => {
  const login = await server.login();
  assert.equal(typeof login.token, 'string');
  assert.equal(login.agent.email, AGENT.email);
  const agent = await open('/agent', { token: login.token });

  // The visitor: a session arrives right after connecting.
  const { socket: visitor, ready } = connect(server.url, '/customer', {});
  sockets.push(visitor);
  const session = next(visitor, 'session');
  await ready;
  const s = await session;
  assert.equal(typeof s.visitor_token, 'string');
  assert.ok(s.visitor_token.length >= 16, 'visitor token looks random');
  assert.equal(typeof s.customer_id, 'string');
  assert.equal(s.chat_id ?? null, null, 'a new visitor has no open chat');

  const visitorMessages = [];
  visitor.on('message:new', (d) => visitorMessages.push(d.message));

  let chat;
  await t.test('chat:start is acked and pushed to the agent as chat:created', async () => {
    const created = next(agent, 'chat:created');
    const started = await call(visitor, 'chat:start', { body: 'Hello, my projector will not focus', name: 'Vera', email: 'vera@example.com' });
    chat = started.chat;
    assert.equal(chat.status, 'waiting');
    assert.equal(started.message.seq, 1);
    assert.equal(started.message.body, 'Hello, my projector will not focus');
    assert.equal(started.message.author.kind, 'customer');
    const pushed = await created;
    assert.equal(pushed.chat.id, chat.id);
    assert.equal(typeof pushed.event_id, 'number');
    assert.equal(pushed.chat.customer.name, 'Vera');
  });

  await t.test('chat:claim is acked and the visitor sees who answers', async () => {
    const updated = next(visitor, 'chat:updated', (d) => d.chat.status === 'active');
    const claimed = await call(agent, 'chat:claim', { chat_id: chat.id });
    assert.equal(claimed.status, 'active');
    assert.equal(claimed.assignee_id, login.agent.id);
    const seen = await updated;
    assert.equal(seen.chat.id, chat.id);
    assert.equal(seen.chat.assignee_name, AGENT.name);
  });

  await t.test("the agent's message reaches the visitor as message:new", async () => {
    const arrived = next(visitor, 'message:new', (d) => d.message.body === 'Hi Vera, happy to help.');
    const client_msg_id = randomUUID();
    const sent = await call(agent, 'message:send', { chat_id: chat.id, client_msg_id, body: 'Hi Vera, happy to help.' });
    assert.ok(sent.seq > 1, 'seq follows the visitor message');
    assert.equal(sent.client_msg_id, client_msg_id);
    const got = await arrived;
    assert.equal(got.message.id, sent.id);
    assert.equal(got.message.author.kind, 'agent');
    assert.equal(typeof got.event_id, 'number');
  });

  await t.test('a retried send with the same client_msg_id stores one message', async () => {
    const client_msg_id = randomUUID();
    const a = await call(visitor, 'message:send', { client_msg_id, body: 'It blurs at the edges', chat_id: chat.id });
    const b = await call(visitor, 'message:send', { client_msg_id, body: 'It blurs at the edges', chat_id: chat.id });
    assert.equal(a.id, b.id);
    assert.equal(a.seq, b.seq);
    const page = await server.api(login.token, `/chats/${chat.id}/messages`);
    assert.equal(page.items.filter((m) => m.client_msg_id === client_msg_id).length, 1);
  });

  await t.test('an internal note never reaches the visitor, by push or by sync', async () => {
    const after = next(visitor, 'message:new', (d) => d.message.body === 'Try the auto-focus button.');
    const note = await call(agent, 'message:send', { chat_id: chat.id, client_msg_id: randomUUID(), body: 'NOTE: customer on an old firmware', kind: 'note' });
    assert.equal(note.kind, 'note');
    await call(agent, 'message:send', { chat_id: chat.id, client_msg_id: randomUUID(), body: 'Try the auto-focus button.' });
    // Pushes on one socket arrive in order: the text sent after the note is here,
    // so the note would have arrived before it.
    await after;
    assert.ok(!visitorMessages.some((m) => m.kind === 'note' || m.body.includes('old firmware')));
    const replay = await call(visitor, 'sync', { since_event_id: 0 });
    assert.ok(Array.isArray(replay.events), `sync answered ${JSON.stringify(replay)}`);
    const bodies = replay.events.filter((e) => e.event === 'message:new').map((e) => e.data.message.body);
    assert.ok(bodies.includes('Try the auto-focus button.'), 'sync replays the visitor-visible messages');
    assert.ok(!JSON.stringify(replay).includes('old firmware'), 'sync leaks no note');
    // The agent does get it.
    const history = await server.api(login.token, `/chats/${chat.id}/messages`);
    assert.ok(history.items.some((m) => m.id === note.id && m.kind === 'note'));
  });

  await t.test("the visitor's numbering has no gap at a note, and a read of a note tells the visitor nothing", async () => {
    const reads = [];
    visitor.on('message:read', (d) => reads.push(d));
    const visibleSeqs = async () => {
      const replay = await call(visitor, 'sync', { since_event_id: 0 });
      return replay.events.filter((e) => e.event === 'message:new').map((e) => e.data.message.seq);
    };
    const seqs = await visibleSeqs();
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `the visitor's seqs have gaps: ${seqs}`);
    const history = await server.api(login.token, `/chats/${chat.id}/messages`);
    const agentSeqs = history.items.map((m) => m.seq);
    assert.equal(agentSeqs.length, seqs.length + 1, 'agents number the note too');

    // The agent reads up to the last visible message: the visitor hears of it by its number.
    const last = history.items.filter((m) => m.kind !== 'note').at(-1);
    const receipt = next(visitor, 'message:read');
    await call(agent, 'message:read', { chat_id: chat.id, seq: last.seq });
    assert.equal((await receipt).seq, seqs.at(-1));

    // A note after it, read by the agent: nothing reaches the visitor. Pushes on one
    // socket arrive in order, so once the next message is here, a receipt would be too.
    const note = await call(agent, 'message:send', { chat_id: chat.id, client_msg_id: randomUUID(), body: 'NOTE: replacement is in stock', kind: 'note' });
    await call(agent, 'message:read', { chat_id: chat.id, seq: note.seq });
    const arrived = next(visitor, 'message:new', (d) => d.message.body === 'Is it working now?');
    await call(agent, 'message:send', { chat_id: chat.id, client_msg_id: randomUUID(), body: 'Is it working now?' });
    const got = await arrived;
    assert.equal(got.message.seq, seqs.at(-1) + 1, 'the message after the note follows without a gap');
    assert.deepEqual(reads.map((r) => r.seq), [seqs.at(-1)], 'the read of the note was pushed');

    // The visitor reads in its numbering; the agent hears the chat's seq.
    const heard = next(agent, 'message:read', (d) => d.reader.kind === 'customer' && d.chat_id === chat.id);
    await call(visitor, 'message:read', { chat_id: chat.id, seq: got.message.seq });
    assert.equal((await heard).seq, note.seq + 1);
  });
});
