package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

func TestIsFatal(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"invalid api key", &realtime.Error{Type: "invalid_request_error", Code: "invalid_api_key"}, true},
		{"insufficient quota code", &realtime.Error{Code: "insufficient_quota"}, true},
		{"billing code with quota type", &realtime.Error{Type: "insufficient_quota", Code: "project_spend_limit_exceeded"}, true},
		{"quota type without code", &realtime.Error{Type: "insufficient_quota"}, true},
		{"account deactivated", &realtime.Error{Code: "account_deactivated"}, true},
		{"billing hard limit", &realtime.Error{Code: "billing_hard_limit_reached"}, true},
		{"wrapped", fmt.Errorf("session: %w", &realtime.Error{Code: "invalid_api_key"}), true},
		{"active response", &realtime.Error{Type: "invalid_request_error", Code: "conversation_already_has_active_response"}, false},
		{"rate limit", &realtime.Error{Type: "rate_limit_error", Code: "rate_limit_exceeded"}, false},
		{"server error", &realtime.Error{Type: "server_error"}, false},
		{"message mentions a key", &realtime.Error{Code: "invalid_event", Message: "invalid_api_key"}, false},
		{"dial 401", &realtime.DialError{StatusCode: 401, Err: errors.New("expected 101")}, true},
		{"dial 403", &realtime.DialError{StatusCode: 403, Err: errors.New("expected 101")}, true},
		{"dial 429 with quota body", &realtime.DialError{StatusCode: 429, Detail: &realtime.Error{Type: "insufficient_quota", Code: "insufficient_quota"}}, true},
		{"dial 429 rate limited", &realtime.DialError{StatusCode: 429, Detail: &realtime.Error{Type: "rate_limit_error"}}, false},
		{"dial 503", &realtime.DialError{StatusCode: 503, Err: errors.New("expected 101")}, false},
		{"dial without response", &realtime.DialError{Err: context.DeadlineExceeded}, false},
		{"closed", realtime.ErrClosed, false},
		{"plain error", errors.New("invalid_api_key"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := realtime.IsFatal(tt.err); got != tt.want {
				t.Errorf("IsFatal(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"code and message", &realtime.Error{Type: "invalid_request_error", Code: "invalid_value", Message: "Bad rate."},
			"realtime server error: invalid_value: Bad rate."},
		{"type only", &realtime.Error{Type: "server_error"}, "realtime server error: server_error"},
		{"dial with detail", &realtime.DialError{StatusCode: 401, Detail: &realtime.Error{Code: "invalid_api_key", Message: "Incorrect API key provided."}},
			"dial realtime: HTTP 401: realtime server error: invalid_api_key: Incorrect API key provided."},
		{"dial without response", &realtime.DialError{Err: context.DeadlineExceeded}, "dial realtime: context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCloseStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want websocket.StatusCode
	}{
		{"nil", nil, -1},
		{"close frame", fmt.Errorf("read: %w", websocket.CloseError{Code: websocket.StatusGoingAway}), websocket.StatusGoingAway},
		{"too big", fmt.Errorf("read: %w", websocket.ErrMessageTooBig), websocket.StatusMessageTooBig},
		{"other", errors.New("EOF"), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := realtime.CloseStatus(tt.err); got != tt.want {
				t.Errorf("CloseStatus(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
