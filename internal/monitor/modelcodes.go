package monitor

// modelErrorCodes are the error codes and types of the realtime protocol that
// model_errors_total counts by name. They are codes the OpenAI Realtime API
// and the offline engine send in error events; everything else counts as
// "other". Add a code here when operators need to tell it apart.
var modelErrorCodes = []string{
	// Protocol misuse by this gateway: a bug worth its own series.
	"conversation_already_has_active_response",
	"response_cancel_not_active",
	"input_audio_buffer_commit_empty",
	"invalid_value",
	"invalid_event",
	"unknown_parameter",
	"missing_required_parameter",
	"string_above_max_length",
	// Limits of the hosted service.
	"session_expired",
	"rate_limit_exceeded",
	"server_error",
	// Account and key problems that need an operator.
	"invalid_api_key",
	"insufficient_quota",
	// Types, for error events that carry no code.
	"invalid_request_error",
	"rate_limit_error",
}
