package voicecall

import (
	"maps"
	"strings"
	"testing"
)

func TestParseTwiML(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantURL    string
		wantParams map[string]string
		wantErr    string
	}{
		{
			name: "connect stream",
			body: `<?xml version="1.0" encoding="UTF-8"?>
<Response><Connect><Stream url="wss://voice.example.com/voice/stream"><Parameter name="restaurant" value="cafe"></Parameter></Stream></Connect></Response>`,
			wantURL:    "wss://voice.example.com/voice/stream",
			wantParams: map[string]string{"restaurant": "cafe"},
		},
		{
			name:       "no parameters",
			body:       `<Response><Connect><Stream url="ws://127.0.0.1:8080/voice/stream"/></Connect></Response>`,
			wantURL:    "ws://127.0.0.1:8080/voice/stream",
			wantParams: map[string]string{},
		},
		{
			name:    "busy",
			body:    `<Response><Say>All our lines are busy.</Say><Hangup></Hangup></Response>`,
			wantErr: `did not connect the call; it said "All our lines are busy."`,
		},
		{
			name:    "no stream",
			body:    `<Response><Hangup/></Response>`,
			wantErr: "no <Connect><Stream",
		},
		{
			name:    "not XML",
			body:    `{"error":"nope"}`,
			wantErr: "invalid TwiML",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseTwiML([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.URL != tt.wantURL {
				t.Errorf("url = %q, want %q", s.URL, tt.wantURL)
			}
			if got := s.parameters(); !maps.Equal(got, tt.wantParams) {
				t.Errorf("parameters = %v, want %v", got, tt.wantParams)
			}
		})
	}
}

func FuzzParseTwiML(f *testing.F) {
	f.Add([]byte(`<Response><Connect><Stream url="ws://h/voice/stream"><Parameter name="a" value="b"/></Stream></Connect></Response>`))
	f.Add([]byte(`<Response><Say>busy</Say><Hangup/></Response>`))
	f.Add([]byte(`<Response><Connect><Stream/></Connect></Response>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := parseTwiML(body)
		if err == nil && (s == nil || s.URL == "") {
			t.Fatalf("parseTwiML returned no error and no stream URL: %+v", s)
		}
	})
}

func TestStreamDialURL(t *testing.T) {
	tests := []struct {
		name    string
		server  string
		stream  string
		want    string
		wantErr bool
	}{
		{"same host", "http://127.0.0.1:8080", "ws://127.0.0.1:8080/voice/stream", "ws://127.0.0.1:8080/voice/stream", false},
		{"public host behind a proxy", "http://127.0.0.1:8080", "wss://voice.example.com/voice/stream?token=x", "ws://127.0.0.1:8080/voice/stream?token=x", false},
		{"https server", "https://gateway.internal", "wss://voice.example.com/voice/stream", "wss://gateway.internal/voice/stream", false},
		{"not a WebSocket URL", "http://127.0.0.1:8080", "https://voice.example.com/voice/stream", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := streamDialURL(tt.server, tt.stream)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("streamDialURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWebSocketURL(t *testing.T) {
	tests := []struct {
		server, path, want string
	}{
		{"http://127.0.0.1:8080", "/voice-stream", "ws://127.0.0.1:8080/voice-stream"},
		{"https://kiosk.example.com/base/", "/voice-stream", "wss://kiosk.example.com/base/voice-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			got, err := webSocketURL(tt.server, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("webSocketURL = %q, want %q", got, tt.want)
			}
		})
	}
}
