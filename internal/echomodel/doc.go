// Package echomodel provides a minimal server of the OpenAI Realtime protocol
// that stands in for the speech model when a soak test should measure the
// gateway and nothing else. It greets when asked for a response, detects the
// end of a caller's turn without measuring energy (digital silence after a
// minimum turn length, or a maximum turn length), and answers each turn by
// playing the last seconds of the caller's own audio back in the session's
// output format.
//
// It honours the protocol's rules that a gateway depends on: one response at
// a time (a second response.create is rejected with
// conversation_already_has_active_response), response.cancel, barge-in
// (caller speech cancels the active response), and
// conversation.item.truncate. It does not recognize speech, call tools,
// check API keys or end sessions after a maximum duration.
//
// Every connection runs in its handler's goroutine and three goroutines of
// its own, all of which Serve and Close wait for. Memory per connection is
// bounded: the echo buffer holds at most Config.MaxEcho of input audio.
package echomodel
