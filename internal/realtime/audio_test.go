package realtime_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// Frame sizes of 20 ms of audio: μ-law at 8 kHz and PCM16 at 24 kHz.
const (
	frameMuLaw20ms = 160
	framePCM20ms   = 960
)

func testAudio(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestAppendAudioEventMatchesEncoder(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, frameMuLaw20ms, framePCM20ms} {
		t.Run(fmt.Sprintf("%d bytes", n), func(t *testing.T) {
			audio := testAudio(n)
			want, err := json.Marshal(realtime.AppendAudio(audio))
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			prefix := []byte("kept")
			got := realtime.AppendAudioEvent(prefix, audio)
			if string(got[:4]) != "kept" {
				t.Errorf("AppendAudioEvent overwrote dst: %q", got[:4])
			}
			if string(got[4:]) != string(want) {
				t.Errorf("AppendAudioEvent = %s, want %s", got[4:], want)
			}
		})
	}
}

func TestAppendAudioEventBase64(t *testing.T) {
	valid := base64.StdEncoding.EncodeToString(testAudio(frameMuLaw20ms))
	tests := []struct {
		name    string
		b64     string
		wantErr bool
	}{
		{"valid", valid, false},
		{"padding", "AA==", false},
		{"empty", "", false},
		{"quote injects a field", `AA","type":"response.create`, true},
		{"backslash", `AA\u0022`, true},
		{"newline", "AA\nAA", true},
		{"url alphabet", "AA-_", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := realtime.AppendAudioEventBase64(nil, tt.b64)
			if tt.wantErr {
				if !errors.Is(err, realtime.ErrInvalidBase64) || len(got) != 0 {
					t.Errorf("AppendAudioEventBase64(%q) = %q, %v; want nothing and ErrInvalidBase64", tt.b64, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("AppendAudioEventBase64(%q): %v", tt.b64, err)
			}
			var ev realtime.ClientEvent
			if err := json.Unmarshal(got, &ev); err != nil {
				t.Fatalf("decode %s: %v", got, err)
			}
			if ev.Type != realtime.ClientInputAudioBufferAppend || ev.Audio != tt.b64 {
				t.Errorf("decoded event = %+v, want an append of %q", ev, tt.b64)
			}
		})
	}
}

func BenchmarkAppendAudioEvent(b *testing.B) {
	for _, n := range []int{frameMuLaw20ms, framePCM20ms} {
		b.Run(fmt.Sprintf("%dB", n), func(b *testing.B) {
			audio := testAudio(n)
			buf := realtime.AppendAudioEvent(nil, audio)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				buf = realtime.AppendAudioEvent(buf[:0], audio)
			}
		})
	}
}

// BenchmarkAppendAudioMarshal measures encoding/json on the same event, for
// comparison with BenchmarkAppendAudioEvent.
func BenchmarkAppendAudioMarshal(b *testing.B) {
	for _, n := range []int{frameMuLaw20ms, framePCM20ms} {
		b.Run(fmt.Sprintf("%dB", n), func(b *testing.B) {
			audio := testAudio(n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(realtime.AppendAudio(audio)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendAudioEventBase64(b *testing.B) {
	b64 := base64.StdEncoding.EncodeToString(testAudio(frameMuLaw20ms))
	buf, _ := realtime.AppendAudioEventBase64(nil, b64)
	b.SetBytes(int64(len(b64)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = realtime.AppendAudioEventBase64(buf[:0], b64); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeAudioDelta decodes a response.output_audio.delta carrying
// 20 ms and 200 ms of PCM16 at 24 kHz.
func BenchmarkDecodeAudioDelta(b *testing.B) {
	for _, n := range []int{framePCM20ms, 10 * framePCM20ms} {
		b.Run(fmt.Sprintf("%dB", n), func(b *testing.B) {
			data, err := json.Marshal(realtime.ServerEvent{
				Type:       realtime.ServerResponseOutputAudioDelta,
				EventID:    "event_4950",
				ResponseID: "resp_C9G8p7IH2WxLbkgPNouYL",
				ItemID:     "item_CCXHwGjjDUfOXbiySlK7i",
				Delta:      base64.StdEncoding.EncodeToString(testAudio(n)),
			})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var ev realtime.ServerEvent
				if err := json.Unmarshal(data, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
