// Package voicecall provides a scripted caller for a running voiceorder gateway. It
// places one call over the browser voice WebSocket or over the Twilio webhook and
// Media Streams. It speaks real audio, WAV files or text synthesized with espeak-ng,
// in paced 20 ms frames and waits for each of the assistant's turns to end. It returns
// the conversation, the tool calls, the cart and the placed order.
//
// It is the client behind `voiceorder call` and `voiceorder demo`. It does not play
// audio on a sound device, does not dial Twilio itself and does not sign webhooks with
// X-Twilio-Signature, so it cannot call a gateway that validates signatures.
package voicecall
