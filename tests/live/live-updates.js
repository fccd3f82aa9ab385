import { createClient } from 'graphql-ws';

// One client per page. connectionParams runs on every (re)connect, so each
// connection presents a fresh token; with retryAttempts: Infinity the client
// reconnects through restarts, outages and token expiry (see the close codes).
export function connect(url, currentAccessToken) {
  return createClient({
    url,
    connectionParams: async () => {
      const token = await currentAccessToken();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    retryAttempts: Infinity,
  });
}

// Streams the vehicle events that match filter, after the sequence `after`
// (the last one seen, persisted across reloads; null for "from now"), to
// onEvent. Returns the function that stops it.
export function watchVehicleEvents(client, { filter = null, after = null }, onEvent) {
  const request = {
    query: `subscription($filter: VehicleFilter, $after: String) {
      vehicleEvents(filter: $filter, after: $after) {
        sequence kind vehicleId snapshot { id vin priceCents status }
      }
    }`,
    variables: { filter, after },
  };
  return client.subscribe(request, {
    next: ({ data, errors }) => {
      if (!data) return console.error('vehicleEvents', errors);
      // graphql-ws sends this same request object again after a reconnect:
      // moving `after` along makes the resubscription resume right after
      // the last event received, with no gap and no duplicate.
      request.variables.after = data.vehicleEvents.sequence;
      onEvent(data.vehicleEvents);
    },
    error: (err) => console.error('vehicleEvents', err),
    complete: () => {},
  });
}
