// Package wsapi is Carlot's websocket transport for GraphQL: the
// graphql-transport-ws and legacy graphql-ws protocols on /graphql, each
// socket's lifecycle on a goroutine of its own (Detach), the per-address cap
// on sockets, the per-socket cap and rate budgets of operations, keep-alives,
// and the one table of close codes that tells a client why the server ended
// its socket.
//
// It knows nothing of the GraphQL schema or of the HTTP layer's routes: the
// HTTP layer hands it the client's rate-limit key and its 429 answer, the
// GraphQL layer is given its Transport, and the event stream's errors
// (internal/live) are mapped to close codes here.
package wsapi
