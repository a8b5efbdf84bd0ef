// Package soak provides the load and churn driver behind `voiceorder soak`: it
// places many calls against a running gateway, over the browser voice
// WebSocket and over the Twilio webhook and Media Streams, ending them in
// the ways real callers do (hanging up after the reply, dropping the
// connection, hanging up while the assistant speaks, or leaving while the
// gateway still dials the model). Before and after the calls it scrapes the
// gateway's Prometheus metrics, after asking the admin listener for a garbage
// collection, and checks that goroutines, heap in use, open file descriptors
// and active sessions came back to where they started.
//
// Latency figures are measured on the caller's side. The driver sends
// requests only to the configured gateway and admin URLs; a stream URL in
// the gateway's TwiML is reached on the gateway's host whatever host it
// names. It does not sign Twilio webhooks, so a gateway that validates
// X-Twilio-Signature rejects its Twilio calls, and it does not check what the
// assistant says.
package soak
