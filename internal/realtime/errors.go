package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// ErrClosed reports a connection that ended normally: the peer closed it
// with status 1000 or 1001, or the owner called Close or CloseNow. Callers
// treat it like io.EOF and do not log it as a failure.
var ErrClosed = errors.New("connection closed")

// ErrMalformedEvent reports a message that is not a valid event. The
// connection stays usable after it.
var ErrMalformedEvent = errors.New("malformed event")

// ErrorDetail is the error object of the error event and of a failed
// response's status details.
type ErrorDetail struct {
	// Type is a category such as "invalid_request_error" or
	// "insufficient_quota".
	Type    string `json:"type,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Param   string `json:"param,omitempty"`
	// EventID is the ID of the client event that caused the error, when
	// the client set one.
	EventID string `json:"event_id,omitempty"`
}

// Error is an error the server reported, as a Go error. It has the fields of
// ErrorDetail, so (*Error)(detail) converts without copying.
type Error ErrorDetail

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = e.Type
	}
	if e.Message == "" {
		return "realtime server error: " + code
	}
	return fmt.Sprintf("realtime server error: %s: %s", code, e.Message)
}

// Error codes and types that retrying does not cure: the key, the account or
// its billing must change first. The billing codes come with type
// insufficient_quota and HTTP 429 from the OpenAI API.
var fatalCodes = map[string]bool{
	"invalid_api_key":                   true,
	"insufficient_quota":                true,
	"account_deactivated":               true,
	"access_terminated":                 true,
	"billing_hard_limit_reached":        true,
	"billing_not_active":                true,
	"credit_balance_exhausted":          true,
	"organization_spend_limit_exceeded": true,
	"organization_usage_limit_exceeded": true,
	"project_spend_limit_exceeded":      true,
}

// IsFatal reports whether err means that dialing again will fail the same
// way until someone changes the configuration or the account: a server error
// with an authentication, quota or billing code, or a handshake rejected
// with HTTP 401 or 403.
func IsFatal(err error) bool {
	var serverErr *Error
	if errors.As(err, &serverErr) && (fatalCodes[serverErr.Code] || fatalCodes[serverErr.Type]) {
		return true
	}
	var dialErr *DialError
	if errors.As(err, &dialErr) {
		switch dialErr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return true
		}
	}
	return false
}

// DialError is a failed dial. StatusCode is the HTTP status when the server
// responded to the handshake with something other than 101 Switching
// Protocols, and zero when no response arrived.
type DialError struct {
	StatusCode int
	// Detail is the error object of the rejection's JSON body, if it had one.
	Detail *Error
	Err    error
}

func (e *DialError) Error() string {
	switch {
	case e.Detail != nil:
		return fmt.Sprintf("dial realtime: HTTP %d: %v", e.StatusCode, e.Detail)
	case e.StatusCode != 0 && e.Err == nil:
		return fmt.Sprintf("dial realtime: HTTP %d", e.StatusCode)
	case e.StatusCode != 0:
		return fmt.Sprintf("dial realtime: HTTP %d: %v", e.StatusCode, e.Err)
	default:
		return fmt.Sprintf("dial realtime: %v", e.Err)
	}
}

// Unwrap returns the underlying error and Detail, so errors.As finds either.
func (e *DialError) Unwrap() []error {
	if e.Detail == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Detail}
}

// parseErrorBody returns the error object of an OpenAI error body
// ({"error": {...}}), or nil if body is not one.
func parseErrorBody(body []byte) *Error {
	var envelope struct {
		Error *ErrorDetail `json:"error"`
	}
	if json.Unmarshal(body, &envelope) != nil || envelope.Error == nil {
		return nil
	}
	err := Error(*envelope.Error)
	return &err
}

// CloseStatus returns the WebSocket close code that ended the connection
// behind err: the code the peer sent, or websocket.StatusMessageTooBig when
// this side closed the connection because an event exceeded the read limit.
// It returns -1 when err carries no close code.
func CloseStatus(err error) websocket.StatusCode {
	if errors.Is(err, websocket.ErrMessageTooBig) {
		return websocket.StatusMessageTooBig
	}
	return websocket.CloseStatus(err)
}
