// Package tools provides the functions a realtime model calls to take an order: their
// JSON Schema definitions and an Executor that validates the model's arguments and
// runs each call against the menu catalog, the cart store and the order store.
//
// Every call returns one result envelope, {success, data, error, message}, encoded
// for the model's function_call_output. Bad input from the model does not panic. It
// becomes success false with an error that explains what to send instead.
//
// The package does not speak the realtime protocol, decide when to call a tool, or
// keep conversation state beyond the cart (see package session).
package tools
