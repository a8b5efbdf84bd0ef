package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func TestDefaultsAreValid(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.RealtimeModel != "gpt-realtime" {
		t.Errorf("defaults = %+v", c)
	}
	if c.UsesOpenAI() {
		t.Error("UsesOpenAI() = true without a key")
	}
}

func TestEnvironmentAndFlags(t *testing.T) {
	env := map[string]string{
		"VOICEORDER_ADDR":           ":9000",
		"OPENAI_API_KEY":            "sk-test",
		"VOICEORDER_CART_TTL":       "45m",
		"VOICEORDER_SHUTDOWN_GRACE": "10s",
		"VOICEORDER_FAKE_UPSTREAM":  "true",
	}
	c, err := load(t, env, "-addr", "127.0.0.1:9001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9001" {
		t.Errorf("Addr = %q, want the flag to win over the environment", c.Addr)
	}
	if !c.UsesOpenAI() || c.CartTTL != 45*time.Minute || c.ShutdownGrace != 10*time.Second || !c.FakeUpstream {
		t.Errorf("config = %+v", c)
	}
}

func TestSecretRedacts(t *testing.T) {
	s := Secret("sk-live-123")
	if strings.Contains(s.String(), "sk-") || strings.Contains(s.LogValue().String(), "sk-") {
		t.Errorf("Secret prints its value: %q", s.String())
	}
}

func TestInvalidSettingsNamed(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"address", map[string]string{"VOICEORDER_ADDR": "nowhere"}, "VOICEORDER_ADDR: invalid address"},
		{"realtime url scheme", map[string]string{"VOICEORDER_REALTIME_URL": "http://x"}, "VOICEORDER_REALTIME_URL: invalid URL"},
		{"public url", map[string]string{"VOICEORDER_PUBLIC_URL": "voice.example.com"}, "VOICEORDER_PUBLIC_URL: invalid URL"},
		{"cart ttl syntax", map[string]string{"VOICEORDER_CART_TTL": "forever"}, "VOICEORDER_CART_TTL: invalid duration"},
		{"cart ttl range", map[string]string{"VOICEORDER_CART_TTL": "5s"}, "VOICEORDER_CART_TTL: 5s is out of range"},
		{"max carts", map[string]string{"VOICEORDER_MAX_CARTS": "0"}, "VOICEORDER_MAX_CARTS: 0 is out of range"},
		{"max sessions", map[string]string{"VOICEORDER_MAX_SESSIONS": "many"}, "VOICEORDER_MAX_SESSIONS: invalid number"},
		{"log level", map[string]string{"VOICEORDER_LOG_LEVEL": "loud"}, "VOICEORDER_LOG_LEVEL: invalid level"},
		{"log format", map[string]string{"VOICEORDER_LOG_FORMAT": "xml"}, "VOICEORDER_LOG_FORMAT: invalid format"},
		{"admin address", map[string]string{"VOICEORDER_ADMIN_ADDR": "8081"}, "VOICEORDER_ADMIN_ADDR: invalid address"},
		{"alert webhook", map[string]string{"VOICEORDER_ALERT_WEBHOOK": "ftp://x"}, "VOICEORDER_ALERT_WEBHOOK: invalid URL"},
		{"fake upstream", map[string]string{"VOICEORDER_FAKE_UPSTREAM": "maybe"}, "VOICEORDER_FAKE_UPSTREAM: invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestAllProblemsReported(t *testing.T) {
	_, err := load(t, map[string]string{"VOICEORDER_ADDR": "x", "VOICEORDER_LOG_FORMAT": "xml"})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"VOICEORDER_ADDR", "VOICEORDER_LOG_FORMAT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
