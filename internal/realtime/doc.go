// Package realtime provides a client for the OpenAI Realtime protocol (the GA
// event shapes) over WebSocket, and the event types that both sides of that
// protocol exchange.
//
// The client dials, sends client events, reads server events, pings, and
// closes. It does not reconnect, run goroutines of its own, or interpret the
// conversation. Those belong to the owner of a [Conn], which runs [Conn.Read]
// and [Conn.Keepalive] in its own goroutines. [Responder] tracks the one
// response the protocol allows to be active at a time.
//
// The event types are flat unions: one struct per direction whose fields
// cover every event type this project uses. They marshal to the wire format
// that the hosted API and the offline engine both speak, so the offline
// engine uses the same types as a server.
//
// Package realtimetest provides a scripted fake server for tests.
package realtime
