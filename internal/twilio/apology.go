package twilio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
)

const (
	// DefaultApologyText is what a caller hears when the assistant cannot be reached.
	DefaultApologyText = "Sorry, we can't take orders right now. Please call back later."
	// maxApologyBytes bounds the cached clip: 10 s of 8 kHz μ-law.
	maxApologyBytes = 10 * 1000 * bytesPerMS
	// maxSynthesisBytes bounds espeak-ng's WAV output read for the clip.
	maxSynthesisBytes = 4 << 20
	// synthesisTimeout bounds one espeak-ng run.
	synthesisTimeout = 10 * time.Second
	// synthesisWaitDelay bounds the wait for espeak-ng's pipes after it was killed.
	synthesisWaitDelay = 2 * time.Second
	// maxSynthesisStderr bounds the error output kept for messages.
	maxSynthesisStderr = 512
	// retrySynthesisAfter is how long a failed synthesis is remembered before the
	// next call tries again.
	retrySynthesisAfter = time.Minute
)

// Apology is a short spoken apology as 8 kHz μ-law, synthesized once with espeak-ng
// and cached. Without espeak-ng there is no clip, and the call ends without a word.
// espeak-ng is GPL-licensed, so it runs as a separate process and is never linked.
// It is safe for concurrent use.
type Apology struct {
	// Text is the spoken text. Default DefaultApologyText.
	Text string
	// Voice is the espeak-ng voice. Default "en-us".
	Voice string
	// Binary is the espeak-ng executable. Default "espeak-ng" from PATH.
	Binary string

	mu       sync.Mutex
	clip     []byte
	err      error
	failedAt time.Time
}

// Prepare synthesizes the clip now, so that the first caller who needs it does not
// wait; call it at start-up. It returns the synthesis error, which leaves the clip
// empty.
func (a *Apology) Prepare(ctx context.Context) error {
	a.Audio(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Audio returns the clip, synthesizing it on first use. It returns nil when
// synthesis failed; a failure is retried after a minute.
func (a *Apology) Audio(ctx context.Context) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.clip != nil {
		return a.clip
	}
	if a.err != nil && time.Since(a.failedAt) < retrySynthesisAfter {
		return nil
	}
	clip, err := a.synthesize(ctx)
	if ctx.Err() != nil {
		return nil // the call ended; the next one tries again
	}
	a.clip, a.err = clip, err
	if err != nil {
		a.failedAt = time.Now()
	}
	return a.clip
}

// synthesize runs espeak-ng in its own process group, which is killed when ctx ends,
// and converts its WAV output to 8 kHz μ-law.
func (a *Apology) synthesize(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, synthesisTimeout)
	defer cancel()
	bin := a.Binary
	if bin == "" {
		bin = "espeak-ng"
	}
	voice := a.Voice
	if voice == "" {
		voice = "en-us"
	}
	text := a.Text
	if text == "" {
		text = DefaultApologyText
	}
	cmd := exec.CommandContext(ctx, bin, "--stdout", "-v", voice)
	cmd.Stdin = strings.NewReader(text) // on standard input, no text reads as an option
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = synthesisWaitDelay
	stdout := &limitedBuffer{max: maxSynthesisBytes}
	stderr := &limitedBuffer{max: maxSynthesisStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("synthesize apology: %s not found in PATH", bin)
		}
		return nil, fmt.Errorf("synthesize apology: %w: %s", err, strings.TrimSpace(stderr.buf.String()))
	}
	// espeak-ng streams to a pipe with a placeholder data size, which ReadWAV accepts.
	wav, err := audio.ReadWAV(bytes.NewReader(stdout.buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("synthesize apology: read espeak-ng output: %w", err)
	}
	conv, err := audio.NewConverter(audio.Format{Encoding: audio.PCM16, Rate: wav.SampleRate}, mulaw8k)
	if err != nil {
		return nil, fmt.Errorf("synthesize apology: %w", err)
	}
	clip := conv.Convert(nil, audio.PCM16ToBytes(nil, wav.Mono()))
	clip = conv.Flush(clip)
	if len(clip) == 0 {
		return nil, errors.New("synthesize apology: espeak-ng produced no audio")
	}
	return clip[:min(len(clip), maxApologyBytes)], nil
}

// limitedBuffer keeps at most max bytes and drops the rest, so a runaway subprocess
// cannot grow memory.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
