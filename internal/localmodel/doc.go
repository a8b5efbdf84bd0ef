// Package localmodel provides voiceorder's offline speech model: a WebSocket
// server that speaks the OpenAI Realtime GA protocol, so the gateway dials it
// exactly as it dials the hosted API. It recognizes the caller with pocketsphinx
// and a grammar generated from the menu, turns the words into tool calls with a
// deterministic dialogue policy, and speaks with espeak-ng.
//
// The parts, each usable on its own:
//
//   - [Recognizer]: one pocketsphinx decoder with one JSGF grammar;
//     [Recognizer.Decode] takes a whole utterance of 16 kHz samples.
//   - [BuildGrammar] and [Interpret]: the grammar of orders and control phrases
//     for a menu.Catalog, and the parser from recognized words to an [Intent].
//   - [VAD]: energy-based turn detection with an adaptive noise floor.
//   - [Voice]: espeak-ng as a subprocess, streaming audio as it is synthesized.
//   - [Policy]: the dialogue as a pure state machine, from utterances and tool
//     outputs to tool calls and speech.
//   - [Server]: the realtime protocol over WebSocket, one conversation per
//     connection.
//
// # Why cgo for the recognizer
//
// pocketsphinx runs in this process through cgo rather than as a subprocess:
// each conversation keeps one resident decoder (about 23 MB, loaded in about
// 50 ms on the shipped menu), and each utterance is decoded whole from memory with no process start,
// pipe protocol or temporary file per utterance. Decoding the utterance at once,
// after turn detection ends it, is also what makes the recognizer accurate: the
// recognizer's own pause detection split orders into pieces that match no
// grammar rule. Linking is allowed: Debian's copyright files for pocketsphinx
// and sphinxbase (0.8+5prealpha) list them under the BSD 2-clause licence, with a
// few files under other permissive terms. The grammar and the words' pronunciations
// are passed in memory; the decoder loads no dictionary file, only the words the
// grammar uses, which keeps it small.
//
// espeak-ng is licensed under the GPL version 3, so it is never linked: [Voice]
// runs it as a separate process in its own process group.
//
// # What it does not do
//
// It is not a general speech model: it understands only the menu's items,
// sizes and options in the phrasings the grammar lists, plus a few control
// phrases, and it says only the policy's fixed sentences. It does not run the
// tools (the gateway does, as with the hosted API), authenticate clients (it is
// meant for loopback), limit session length, or support text-only responses,
// input transcription settings or noise reduction settings, which are accepted
// and ignored.
//
// # Concurrency
//
// A Recognizer, VAD and Policy are not safe for concurrent use; each connection
// owns its own and uses them from one goroutine. Server and Voice are safe for
// concurrent use. pocketsphinx's logging is process-wide, so the first
// NewRecognizer turns it off for the whole process and keeps the last error per
// thread for error messages.
package localmodel
