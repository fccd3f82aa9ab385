// Follows vehicleEvents on a running Carlot server through the README's
// live-updates sample (live-updates.js), as a page would, and reports what
// happens as JSON lines on stdout for the Go tests that drive it:
//
//   node tests/live/follow.mjs ws://127.0.0.1:8080/graphql [AFTER]
//
// {"event": {...}} for each event, {"connected": true, "retrying": bool} on
// every connection, {"closed": CODE} when a socket closes, {"error": "..."}
// when the sample reports an error, {"token": N} each time a token is
// fetched. With CARLOT_EMAIL and CARLOT_PASSWORD set, every (re)connect logs
// in over HTTP for a fresh access token. It runs until stdin closes.
import WebSocket from 'ws';

// Node 20 has no WebSocket of its own; a browser does.
globalThis.WebSocket ??= WebSocket;

const { connect, watchVehicleEvents } = await import('./live-updates.js');

const [url, after = null] = process.argv.slice(2);
if (!url) {
  console.log('usage: node follow.mjs WS_URL [AFTER]');
  process.exit(2);
}
const report = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const describe = (a) => {
  if (a instanceof Error) return a.message;
  if (a && typeof a === 'object' && 'code' in a && 'reason' in a) return `closed ${a.code} ${a.reason}`;
  return typeof a === 'string' ? a : JSON.stringify(a);
};
console.error = (...args) => report({ error: args.map(describe).join(' ') });

const email = process.env.CARLOT_EMAIL;
let tokens = 0;
async function currentAccessToken() {
  if (!email) return null;
  const res = await fetch(url.replace(/^ws/, 'http'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
      variables: { e: email, p: process.env.CARLOT_PASSWORD },
    }),
  });
  const body = await res.json();
  report({ token: ++tokens });
  return body.data.login.accessToken;
}

const client = connect(url, currentAccessToken);
client.on('connected', (_socket, _payload, retrying) => report({ connected: true, retrying }));
client.on('closed', (event) => report({ closed: event.code }));
const stop = watchVehicleEvents(client, { after }, (event) => report({ event }));

process.stdin.resume();
process.stdin.on('end', async () => {
  stop();
  await client.dispose();
  process.exit(0);
});
